"""Analysis runs and their results (filled in by a later issue)."""
