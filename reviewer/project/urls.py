"""The root URLs: the core app's (`reviewer.urls`) first, then, inside a review, what
spans the apps — the dashboard, the exports page and bundle — and each app's own URLs.

The core's come first because a review's dashboard is `reviews/<slug>/`: placed before
them it would read `reviews/new/` as the review called "new".
"""

from django.urls import URLPattern, URLResolver, include, path

from reviewer.project import dashboard

review_patterns: list[URLPattern | URLResolver] = [
    path("", dashboard.review_dashboard, name="review-dashboard"),
    path("", include("reviewer.project.exports")),
    path("extraction/", include("extraction.urls")),
    path("analysis/", include("analysis.urls")),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("reviewer.urls")),
    path("reviews/<slug:slug>/", include(review_patterns)),
]
