"""Analysis URLs, inside a review (`/reviews/<slug>/analysis/...`)."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("analysis.views")),
]
