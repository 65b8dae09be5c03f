"""The core app's URLs: the review list, and inside a review its settings, team, sources,
imports, duplicates, screening, adjudication, PRISMA, ranking and records; accounts.

The root URLs (`reviewer.project.urls`) put these first, then add what spans the apps: a
review's dashboard, its exports, and the extraction and analysis URLs.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from reviewer.views import archive, duplicates, members, records, reviews, sources, team, undo

review_patterns: list[URLPattern | URLResolver] = [
    path("settings/", reviews.review_settings, name="review-settings"),
    path("members/", members.member_list, name="member-list"),
    path("members/add/", members.member_add, name="member-add"),
    path("members/<int:pk>/role/", members.member_role, name="member-role"),
    path("members/<int:pk>/remove/", members.member_remove, name="member-remove"),
    path("members/<int:pk>/reset-link/", team.member_reset_link, name="member-reset-link"),
    path("members/invite/", team.invitation_create, name="invitation-create"),
    path("members/invitations/<int:pk>/revoke/", team.invitation_revoke, name="invitation-revoke"),
    path("settings/archive-or-delete/", undo.review_end, name="review-end"),
    path("archived/", undo.review_archive, name="review-shelve"),
    path("unarchive/", undo.review_restore, name="review-unshelve"),
    path("delete/", undo.review_delete, name="review-delete"),
    path("reasons/", members.reason_list, name="reason-list"),
    path("reasons/add/", members.reason_add, name="reason-add"),
    path("reasons/<int:pk>/", members.reason_update, name="reason-update"),
    path("reasons/<int:pk>/move/", members.reason_move, name="reason-move"),
    path("sources/", sources.source_list, name="source-list"),
    path("sources/new/", sources.source_new, name="source-new"),
    path("sources/<int:pk>/", sources.source_detail, name="source-detail"),
    path("sources/<int:pk>/edit/", sources.source_edit, name="source-edit"),
    path("sources/<int:pk>/remove/", undo.source_remove, name="source-remove"),
    path("sources/<int:pk>/delete/", undo.source_delete, name="source-delete"),
    path("sources/<int:pk>/hide/", undo.source_hide, name="source-hide"),
    path("sources/<int:pk>/unhide/", undo.source_unhide, name="source-unhide"),
    path("imports/<int:pk>/", sources.import_detail, name="import-detail"),
    path("imports/<int:pk>/confirm/", sources.import_confirm, name="import-confirm"),
    path("imports/<int:pk>/cancel/", sources.import_cancel, name="import-cancel"),
    path("imports/<int:pk>/restart/", sources.import_restart, name="import-restart"),
    path(
        "imports/<int:pk>/files/<int:file_pk>/",
        sources.import_reconfigure,
        name="import-reconfigure",
    ),
    path("duplicates/", duplicates.dedup_overview, name="dedup-overview"),
    path("duplicates/run/", duplicates.dedup_run, name="dedup-run"),
    path("duplicates/runs/<int:pk>/", duplicates.dedup_job, name="dedup-job"),
    path("duplicates/runs/<int:pk>/restart/", duplicates.dedup_restart, name="dedup-restart"),
    path("duplicates/runs/<int:pk>/cancel/", duplicates.dedup_cancel, name="dedup-cancel"),
    path("duplicates/queue/", duplicates.dedup_queue, name="dedup-queue"),
    path("duplicates/pairs/<int:pk>/", duplicates.dedup_pair, name="dedup-pair"),
    path(
        "duplicates/pairs/<int:pk>/decide/",
        duplicates.dedup_pair_decide,
        name="dedup-pair-decide",
    ),
    path("duplicates/pairs/<int:pk>/undo/", duplicates.dedup_pair_undo, name="dedup-pair-undo"),
    path("duplicates/groups/<int:pk>/", duplicates.dedup_group, name="dedup-group"),
    path("duplicates/records/<int:pk>/split/", duplicates.dedup_split, name="dedup-split"),
    path("duplicates/log/", duplicates.dedup_log, name="dedup-log"),
    path("", include("reviewer.views.screening")),
    path("", include("reviewer.views.adjudication")),
    path("", include("reviewer.views.prisma")),
    path("", include("reviewer.views.ranking")),
    path("", include("reviewer.views.archive")),
    path("records/", records.record_list, name="record-list"),
    path("records/<int:pk>/", records.record_detail, name="record-detail"),
]

urlpatterns = [
    path("", reviews.review_list, name="review-list"),
    path("reviews/new/", reviews.review_new, name="review-new"),
    path("reviews/restore/", archive.review_restore, name="review-restore"),
    path("reviews/restore/confirm/", archive.review_restore_confirm, name="review-restore-confirm"),
    path("reviews/<slug:slug>/", include(review_patterns)),
    path("invitations/<str:token>/", team.invitation_accept, name="invitation-accept"),
    path("accounts/first/", team.first_account, name="first-account"),
    path("accounts/login/", team.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Password reset by email (Django's views; templates in templates/registration/)
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            extra_context={"timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
]
