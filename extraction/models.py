"""Extraction forms, study- and patient-level values (filled in by a later issue)."""
