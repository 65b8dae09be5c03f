"""Relevance ranking of the screening queue and the statistical stopping estimate.

`engine`, `stopping`, `simulation` and `curve` are pure code; `selectors` reads the app's rows.
"""
