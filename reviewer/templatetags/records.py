"""Template filters for records.

{% load records %}
{{ record.language|language_name }}   "eng; fre" -> "English, French"
"""

from __future__ import annotations

from django import template

from reviewer.languages import language_name as _language_name

register = template.Library()


@register.filter
def language_name(value: str | None) -> str:
    """The record's language(s) by name, whatever code the export gave (`reviewer.languages`)."""
    return _language_name(value or "")
