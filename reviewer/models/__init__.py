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
from reviewer.models.screening import (
    STAGE_CHOICES,
    Adjudication,
    Approval,
    Choice,
    Decision,
    DecisionChange,
    FullText,
    Removal,
    Stage,
    Study,
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
    "STAGE_CHOICES",
    "Adjudication",
    "Approval",
    "Band",
    "Choice",
    "Decision",
    "DecisionChange",
    "DedupAction",
    "DedupEvent",
    "DedupJob",
    "DedupStatus",
    "DuplicatePair",
    "ExclusionReason",
    "FullText",
    "ImportFile",
    "ImportJob",
    "ImportStatus",
    "Membership",
    "PairStatus",
    "Record",
    "Removal",
    "Review",
    "Role",
    "Source",
    "SourceKind",
    "Stage",
    "Study",
    "User",
]
