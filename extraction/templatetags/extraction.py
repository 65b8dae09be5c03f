"""Template helpers of the extraction pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Mapping[Any, Any] | None, key: Any) -> Any:
    """`{{ held|get_item:field.pk }}`: a dict's value in a template, None when absent."""
    if not mapping:
        return None
    return mapping.get(key)
