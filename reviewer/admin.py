from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from reviewer.models import (
    ExclusionReason,
    ImportFile,
    ImportJob,
    Membership,
    Record,
    Review,
    Source,
    User,
)

admin.site.register(User, UserAdmin)


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "review"
    extra = 1
    autocomplete_fields = ["user"]
    exclude = ["added_by"]


class ExclusionReasonInline(admin.TabularInline):
    model = ExclusionReason
    extra = 0


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "created_by", "created_at"]
    search_fields = ["title", "slug"]
    inlines = [MembershipInline, ExclusionReasonInline]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "search_date", "review"]
    list_filter = ["kind"]
    search_fields = ["name", "review__title"]


class ImportFileInline(admin.TabularInline):
    model = ImportFile
    extra = 0
    fields = (
        "original_name",
        "size",
        "detected_format",
        "format_override",
        "record_count",
        "error",
    )
    readonly_fields = fields


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "source", "status", "record_count", "created_by", "created_at"]
    list_filter = ["status"]
    inlines = [ImportFileInline]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "journal", "doi", "pmid", "source"]
    search_fields = ["title", "doi", "pmid"]
    list_select_related = ["source"]
    raw_id_fields = ["import_file"]
