"""Ready-made extraction forms, loadable into any review in one click.

The case-series form reproduces the variables of the reference review (pediatric
inflammatory myofibroblastic tumor: 57 studies, individual data for 405 patients), whose
Table 1 tests margin status against recurrence, reoperation and mortality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from extraction.models import Field, FieldType, Level
from extraction.services.forms import field_create
from reviewer.models import Review

POS_NEG = ("Positive", "Negative")


@dataclass(frozen=True)
class FieldTemplate:
    level: Level
    key: str
    label: str
    type: FieldType
    unit: str = ""
    required: bool = False
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    help_text: str = ""
    choices: tuple[str, ...] = field(default=())


def _marker(key: str, label: str) -> FieldTemplate:
    return FieldTemplate(
        Level.PATIENT,
        key,
        label,
        FieldType.CHOICE,
        choices=POS_NEG,
        help_text="Immunohistochemistry as reported.",
    )


CASE_SERIES = (
    FieldTemplate(
        Level.STUDY,
        "design",
        "Study design",
        FieldType.CHOICE,
        required=True,
        choices=("Retrospective case series", "Prospective cohort", "Registry study", "Other"),
    ),
    FieldTemplate(
        Level.STUDY,
        "country",
        "Country",
        FieldType.TEXT,
        help_text="Where the patients were treated.",
    ),
    FieldTemplate(
        Level.STUDY,
        "period_start",
        "Study period from",
        FieldType.INTEGER,
        unit="year",
        min_value=Decimal(1900),
        max_value=Decimal(2100),
    ),
    FieldTemplate(
        Level.STUDY,
        "period_end",
        "Study period to",
        FieldType.INTEGER,
        unit="year",
        min_value=Decimal(1900),
        max_value=Decimal(2100),
    ),
    FieldTemplate(
        Level.STUDY,
        "patients",
        "Patients with IMT",
        FieldType.INTEGER,
        required=True,
        min_value=Decimal(1),
        help_text="All pediatric IMT patients the study reports.",
    ),
    FieldTemplate(Level.STUDY, "males", "Males", FieldType.INTEGER, min_value=Decimal(0)),
    FieldTemplate(
        Level.STUDY,
        "ipd",
        "Individual patient data reported",
        FieldType.YES_NO,
        required=True,
        help_text="Yes when patients can be told apart (a table per patient or case descriptions).",
    ),
    FieldTemplate(
        Level.PATIENT, "sex", "Sex", FieldType.CHOICE, required=True, choices=("Male", "Female")
    ),
    FieldTemplate(
        Level.PATIENT,
        "age_months",
        "Age at diagnosis",
        FieldType.INTEGER,
        unit="months",
        required=True,
        min_value=Decimal(0),
        max_value=Decimal(216),
        help_text="0-18 years; convert years to months (7 years = 84).",
    ),
    FieldTemplate(
        Level.PATIENT,
        "site",
        "Tumor site",
        FieldType.CHOICE,
        required=True,
        choices=("Abdomen/pelvis", "Thorax", "Head/neck", "Extremities"),
    ),
    FieldTemplate(
        Level.PATIENT,
        "size_cm",
        "Tumor size",
        FieldType.DECIMAL,
        unit="cm",
        min_value=Decimal(0),
        max_value=Decimal(50),
        help_text="Largest diameter.",
    ),
    FieldTemplate(
        Level.PATIENT,
        "management",
        "Management",
        FieldType.CHOICE,
        required=True,
        choices=("Operative", "Non-operative"),
    ),
    FieldTemplate(
        Level.PATIENT,
        "margin",
        "Margin at primary resection",
        FieldType.CHOICE,
        choices=("Negative", "Positive"),
        help_text="Negative: complete resection with clean margins. Positive: residual tumor "
        "or tumor at the resection margin.",
    ),
    _marker("alk", "ALK"),
    _marker("fish_alk", "ALK rearrangement (FISH)"),
    _marker("desmin", "Desmin"),
    _marker("sma", "Smooth muscle actin (SMA)"),
    _marker("cytokeratin", "Cytokeratin (CK)"),
    _marker("vimentin", "Vimentin"),
    _marker("myogenin", "Myogenin"),
    FieldTemplate(Level.PATIENT, "chemo_radio", "Chemo/radiotherapy", FieldType.YES_NO),
    FieldTemplate(
        Level.PATIENT,
        "other_therapy",
        "Other therapy",
        FieldType.MULTI,
        choices=("ALK inhibitor", "Steroids", "NSAIDs", "Other"),
        help_text="Pick all that apply.",
    ),
    FieldTemplate(Level.PATIENT, "recurrence", "Recurrence", FieldType.YES_NO),
    FieldTemplate(Level.PATIENT, "reoperation", "Reoperation", FieldType.YES_NO),
    FieldTemplate(Level.PATIENT, "metastasis", "Metastasis", FieldType.YES_NO),
    FieldTemplate(
        Level.PATIENT,
        "follow_up_months",
        "Follow-up",
        FieldType.DECIMAL,
        unit="months",
        min_value=Decimal(0),
        max_value=Decimal(600),
    ),
    FieldTemplate(
        Level.PATIENT,
        "outcome",
        "Outcome",
        FieldType.CHOICE,
        choices=("No evidence of disease", "Alive with disease", "Died of disease"),
        help_text="Status at last follow-up.",
    ),
)

CATALOG = {"case-series": ("Case series with individual patient data", CASE_SERIES)}


@transaction.atomic
def template_load(*, review: Review, name: str = "case-series") -> tuple[list[Field], list[str]]:
    """Add the template's fields to the review's form; keys it already has are skipped.

    Returns the fields added and the keys skipped.
    """
    _, fields = CATALOG[name]
    existing = set(Field.objects.filter(review=review).values_list("key", flat=True))
    added, skipped = [], []
    for item in fields:
        if item.key in existing:
            skipped.append(item.key)
            continue
        added.append(
            field_create(
                review=review,
                level=item.level,
                label=item.label,
                type=item.type,
                key=item.key,
                unit=item.unit,
                required=item.required,
                min_value=item.min_value,
                max_value=item.max_value,
                help_text=item.help_text,
                choices=item.choices,
            )
        )
    return added, skipped
