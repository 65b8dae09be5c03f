"""The numbers of a PRISMA 2020 flow diagram, named as the PRISMA2020 R package names them.

Plain data: `reviewer.prisma.counts.prisma_counts` fills it from a review, and everything
else (validation, the CSV, the drawing) reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PrismaCounts:
    # Identification, databases and registers
    database_results: int = 0
    database_specific_results: tuple[tuple[str, int], ...] = ()  # (database name, records)
    register_results: int = 0
    register_specific_results: tuple[tuple[str, int], ...] = ()
    duplicates: int = 0
    excluded_automatic: int = 0  # marked ineligible by automation tools
    excluded_other: int = 0  # removed before screening for other reasons
    # Screening, databases and registers
    records_screened: int = 0
    records_excluded: int = 0
    dbr_sought_reports: int = 0
    dbr_notretrieved_reports: int = 0
    dbr_assessed: int = 0
    dbr_excluded: tuple[tuple[str, int], ...] = ()  # (reason, reports)
    # Other methods
    website_results: int = 0
    organisation_results: int = 0
    citations_results: int = 0
    other_sought_reports: int = 0
    other_notretrieved_reports: int = 0
    other_assessed: int = 0
    other_excluded: tuple[tuple[str, int], ...] = ()
    # Included
    new_studies: int = 0
    new_reports: int = 0
    previous_studies: int | None = None  # an update of an earlier review; None otherwise
    previous_reports: int | None = None
    # Which optional parts the diagram shows
    other_methods: bool = False
    previous: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # free notes (e.g. the review title)

    @property
    def dbr_excluded_total(self) -> int:
        return sum(n for _, n in self.dbr_excluded)

    @property
    def other_excluded_total(self) -> int:
        return sum(n for _, n in self.other_excluded)

    @property
    def total_studies(self) -> int:
        return self.new_studies + (self.previous_studies or 0)

    @property
    def total_reports(self) -> int:
        return self.new_reports + (self.previous_reports or 0)
