"""Screening: the state table (`rules`), per-user keys (`keys`) and the reads the pages and
counts need (`queries`). Writes live in `reviewer.services.screening`."""
