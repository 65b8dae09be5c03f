"""One column value to JSON and back, for every kind of column the archive supports."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

#: Column types written as they are (JSON has their type).
PLAIN = (
    models.BooleanField,
    models.IntegerField,  # and its small, big and positive kinds
    models.FloatField,
    models.CharField,  # and slug, email
    models.TextField,
    models.JSONField,
)
#: Column types written as text: ISO dates and times, decimals as written (no rounding).
AS_TEXT = (models.DateTimeField, models.DateField, models.DecimalField)


def supported(column: models.Field[Any, Any]) -> bool:
    """True if `dump`/`load` handle this column (foreign keys and files are handled by the
    archive itself, as row numbers and file paths)."""
    if isinstance(column, models.ForeignKey | models.FileField):
        return True
    return isinstance(column, PLAIN + AS_TEXT)


def dump(column: models.Field[Any, Any], value: Any) -> Any:
    """A column's value as JSON can hold it."""
    if value is None or isinstance(column, PLAIN):
        return value
    if isinstance(column, models.DateField):  # DateTimeField too
        return value.isoformat()
    if isinstance(column, models.DecimalField):
        return str(value)
    raise TypeError(f"{column} ({type(column).__name__}) cannot be archived")


class BadValue(ValueError):
    """A value in an archive that does not fit its column."""


def load(column: models.Field[Any, Any], value: Any) -> Any:
    """The Python value of an archived JSON value, checked against the column's type."""
    if value is None:
        if not column.null and not isinstance(column, models.JSONField):
            raise BadValue(f"“{column.name}” may not be empty")
        return None
    if isinstance(column, models.JSONField):
        return value
    if isinstance(column, models.BooleanField) and not isinstance(value, bool):
        raise BadValue(f"“{column.name}” must be true or false, not {value!r}")
    if isinstance(column, models.IntegerField | models.FloatField) and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        raise BadValue(f"“{column.name}” must be a number, not {value!r}")
    if isinstance(column, (models.CharField, models.TextField, *AS_TEXT)) and not isinstance(
        value, str
    ):
        raise BadValue(f"“{column.name}” must be text, not {value!r}")
    try:
        loaded = column.to_python(value)
    except ValidationError as error:
        raise BadValue(f"“{column.name}”: {' '.join(error.messages)} ({value!r})") from None
    if isinstance(column, models.DateTimeField) and loaded is None:
        raise BadValue(f"“{column.name}” is not a date and time: {value!r}")
    max_length = getattr(column, "max_length", None)
    if isinstance(column, models.CharField) and max_length and len(loaded) > max_length:
        raise BadValue(f"“{column.name}” is longer than {max_length} characters")
    return loaded
