"""Extraction URLs, inside a review (`/reviews/<slug>/extraction/...`)."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("extraction.views.entry")),
    path("", include("extraction.views.forms")),
    path("", include("extraction.views.consensus")),
    path("", include("extraction.views.transfer")),
    path("", include("extraction.appraisal.views")),
]
