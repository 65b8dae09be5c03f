"""The reads every dual copy shares (`extraction.dual`), for extraction's and appraisal's
pages and writes alike. The checks a write makes before it writes (`services.done_pair`)
stay with the write: they refuse, they do not just read.
"""

from __future__ import annotations

from extraction.dual.rules import Copy
from reviewer.models import Study


def consensus_of(model: type[Copy], study: Study) -> Copy | None:
    """The study's consensus copy of this kind (the one with no person), if started."""
    return model._default_manager.filter(
        study=study, **{f"{model.person_field}__isnull": True}
    ).first()


def study_copies(model: type[Copy], study: Study, *, related: tuple[str, ...] = ()) -> list[Copy]:
    """Every copy of the study of this kind, each person's and the consensus: what
    `rules.may_view` and `rules.may_reopen` weigh (`related`: what the page shows of them)."""
    return list(model._default_manager.filter(study=study).select_related(*related))
