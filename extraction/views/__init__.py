"""Extraction pages: the form builder, the studies, entry, consensus, import/export."""
