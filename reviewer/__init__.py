"""Systematic review workflow manager: project package and core app."""

from reviewer.celery import app as celery_app

__all__ = ["celery_app"]
