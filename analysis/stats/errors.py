"""The one error the statistics raise for data they cannot analyse."""

from __future__ import annotations

__all__ = ["StatsInputError"]


class StatsInputError(ValueError):
    """Data a test cannot be run on; the message is a sentence to show the user as is."""
