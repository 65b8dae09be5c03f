"""Models of the core app, one module per concept."""

from reviewer.models.duplicates import (
    Band,
    DedupAction,
    DedupEvent,
    DedupJob,
    DedupStatus,
    DuplicatePair,
    PairStatus,
)
from reviewer.models.reviews import (
    DEFAULT_EXCLUSION_REASONS,
    ExclusionReason,
    Membership,
    Review,
    Role,
)
from reviewer.models.sources import (
    COMMON_SOURCE_NAMES,
    ImportFile,
    ImportJob,
    ImportStatus,
    Record,
    Source,
    SourceKind,
)
from reviewer.models.users import User

__all__ = [
    "COMMON_SOURCE_NAMES",
    "DEFAULT_EXCLUSION_REASONS",
    "Band",
    "DedupAction",
    "DedupEvent",
    "DedupJob",
    "DedupStatus",
    "DuplicatePair",
    "ExclusionReason",
    "ImportFile",
    "ImportJob",
    "ImportStatus",
    "Membership",
    "PairStatus",
    "Record",
    "Review",
    "Role",
    "Source",
    "SourceKind",
    "User",
]
