"""Extraction writes: the form (fields and choices), entry, and consensus."""
