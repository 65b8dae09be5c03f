"""Extraction views (transfer)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
