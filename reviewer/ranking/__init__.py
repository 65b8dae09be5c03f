"""Relevance ranking of the screening queue and the statistical stopping estimate (pure code)."""
