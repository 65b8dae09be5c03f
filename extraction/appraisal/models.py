"""Risk-of-bias / quality appraisal: the review's choice of tools, each study's design,
and the appraisals — one per assessor per study, and the senior's consensus (assessor
empty), kept as extraction copies are: both are `extraction.dual.models.DualCopy`.

An appraisal's `answers` map a question's key (from the tool's definition, never a
database id) to `{"a": answer key, "note": justification or quote}`; `judgements` map a
domain's key, or "overall", to `{"level": ..., "reason": ...}` where the assessor states
or overrides a judgement. Everything else (the suggested judgements, the overall) is
derived from these by `extraction.appraisal.tools`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from extraction.dual.models import CopyStatus, DualCopy, one_copy_each, person_column
from reviewer.models import Review, Study


class Design(models.TextChoices):
    CASE_SERIES = "case_series", "Case series"
    RCT = "rct", "Randomised trial"
    NRSI = "nrsi", "Non-randomised study of an intervention"
    COHORT = "cohort", "Cohort study"
    CASE_CONTROL = "case_control", "Case-control study"
    OTHER = "other", "Other design"


#: The tool each design is appraised with until the owner chooses otherwise.
DEFAULT_TOOLS: dict[str, str] = {
    Design.CASE_SERIES: "jbi-case-series",
    Design.RCT: "rob2",
    Design.NRSI: "robins-i",
    Design.COHORT: "nos-cohort",
    Design.CASE_CONTROL: "nos-case-control",
}


class AppraisalSetup(models.Model):
    """A review's appraisal settings: the tool for each study design, and the design a
    study has until a senior sets it."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="appraisal_setup")
    tools = models.JSONField(
        default=dict, blank=True, help_text="Study design -> tool slug (shipped or custom)."
    )
    default_design = models.CharField(
        max_length=20, choices=Design.choices, default=Design.CASE_SERIES
    )

    def __str__(self) -> str:
        return f"Appraisal setup of {self.review}"


class CustomTool(models.Model):
    """A tool the owner built for this review, in the shipped tools' shape."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="appraisal_tools")
    slug = models.SlugField(max_length=60)
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["review", "slug"], name="appraisal_tool_slug_unique")
        ]

    def __str__(self) -> str:
        return str(self.definition.get("name", self.slug))


class StudyDesign(models.Model):
    """A study's design as the senior set it (a study without one has the default)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="study_designs")
    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="design")
    design = models.CharField(max_length=20, choices=Design.choices)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.study}: {self.get_design_display()}"


#: An appraisal's status (one enum with the extraction copies': `extraction.dual`).
AppraisalStatus = CopyStatus


class Appraisal(DualCopy):
    """One assessor's appraisal of a study, or (no assessor) the consensus."""

    person_field = "assessor"

    assessor = person_column(related_name="appraisals", help_text="Empty for the consensus.")
    tool = models.CharField(max_length=60, help_text="The tool's slug, fixed when started.")
    answers = models.JSONField(default=dict, blank=True)
    judgements = models.JSONField(default=dict, blank=True)

    class Meta(DualCopy.Meta):
        constraints = one_copy_each(prefix="appraisal", person="assessor")
