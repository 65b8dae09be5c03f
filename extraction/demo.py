"""The demo's extraction: the case-series form, 42 studies and the 405 patients of the
reference review, synthesised so that the analysis reproduces the paper's counts.

The patients are synthetic but keep the paper's margins exactly: sites 233/125/34/13
with 9/4/5/2 managed non-operatively; margin status against recurrence (14 of 206 vs 54
of 106), reoperation (16 of 163 vs 15 of 66) and death of disease (2 of 206 vs 14 of
106); 175 males; ALK reported for 229 (112 positive); 98 treated with
chemo/radiotherapy; outcome 237 / 41 / 25. Alice and Bob extract every study; Carol's
consensus is final for 38 of them, two wait for her with disagreements, one is half
done, one not started.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from extraction.models import Extraction, ExtractionStatus, PatientRow
from extraction.services.forms import setup_update
from extraction.templates_catalog import template_load
from extraction.values import FormSpec, form_spec, parse_by_key
from reviewer.models import Review, Stage, Study, User
from reviewer.screening.queries import states
from reviewer.screening.rules import State
from reviewer.services.screening import approve, decide

PATIENTS = 405
FINAL_STUDIES = 38
SITES = [
    ("Abdomen/pelvis", 233, 9),
    ("Thorax", 125, 4),
    ("Head/neck", 34, 5),
    ("Extremities", 13, 2),
]
COUNTRIES = [
    "USA",
    "China",
    "Italy",
    "Germany",
    "Japan",
    "France",
    "UK",
    "Canada",
    "India",
    "Brazil",
]


@dataclass
class DemoExtractors:
    senior: User
    first: User
    second: User


def _flags(rng: random.Random, size: int, chosen: int) -> list[bool]:
    flags = [True] * chosen + [False] * (size - chosen)
    rng.shuffle(flags)
    return flags


def _split(rng: random.Random, items: list[int], sizes: list[int]) -> Iterator[list[int]]:
    start = 0
    for size in sizes:
        yield items[start : start + size]
        start += size


def patients(seed: int = 57) -> list[dict[str, Any]]:
    """The 405 synthetic patients, as typed into the form."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for site, count, non_operative in SITES:
        for managed in _flags(rng, count, non_operative):
            rows.append({"site": site, "management": "Non-operative" if managed else "Operative"})
    rng.shuffle(rows)
    operative = [i for i, r in enumerate(rows) if r["management"] == "Operative"]
    rng.shuffle(operative)
    negative, positive = operative[:206], operative[206:312]
    for group, label, recurred, reoperated, died in (
        (negative, "Negative", 14, 16, 2),
        (positive, "Positive", 54, 15, 14),
    ):
        reop_known = 163 if label == "Negative" else 66
        for index, recur, dead in zip(
            group, _flags(rng, len(group), recurred), _flags(rng, len(group), died), strict=True
        ):
            rows[index].update(margin=label, recurrence="yes" if recur else "no")
            rows[index]["outcome"] = "Died of disease" if dead else ""
        known = group[:reop_known]
        for index, reop in zip(known, _flags(rng, len(known), reoperated), strict=True):
            rows[index]["reoperation"] = "yes" if reop else "no"
    # the rest: margin not reported (operated on, no margin given) or non-operative
    others = [i for i in range(len(rows)) if "margin" not in rows[i]]
    for index in others:
        rows[index]["recurrence"] = "yes" if rng.random() < 12 / len(others) else "no"
        rows[index]["outcome"] = ""
    deaths_left = 25 - 16
    for index in rng.sample(others, deaths_left):
        rows[index]["outcome"] = "Died of disease"
    alive = [i for i, r in enumerate(rows) if not r["outcome"]]
    rng.shuffle(alive)
    for n, index in enumerate(alive):
        rows[index]["outcome"] = (
            "No evidence of disease" if n < 237 else "Alive with disease" if n < 278 else "NR"
        )
    males = set(rng.sample(range(len(rows)), 175))
    sex_known = set(rng.sample(range(len(rows)), 350)) | males
    alk = rng.sample(range(len(rows)), 229)
    alk_positive = set(alk[:112])
    chemo = set(rng.sample(range(len(rows)), 98))
    for index, row in enumerate(rows):
        row["sex"] = "Male" if index in males else "Female" if index in sex_known else "NR"
        row["age_months"] = str(min(216, max(1, round(rng.lognormvariate(4.35, 0.75)))))
        row["size_cm"] = f"{rng.uniform(1.5, 14):.1f}" if rng.random() < 0.7 else ""
        row["alk"] = ("Positive" if index in alk_positive else "Negative") if index in alk else ""
        row["chemo_radio"] = "yes" if index in chemo else "no"
        row["metastasis"] = "yes" if rng.random() < 0.05 else "no"
        row["follow_up_months"] = str(round(rng.lognormvariate(3.55, 0.8), 1))
        row.setdefault("margin", "NR" if row["management"] == "Operative" else "")
        if row["management"] == "Non-operative":
            row["other_therapy"] = rng.choice(["ALK inhibitor", "Steroids; NSAIDs", "Steroids"])
        if rng.random() < 0.12:
            row["desmin"] = rng.choice(["Positive", "Negative"])
        if rng.random() < 0.11:
            row["sma"] = rng.choice(["Positive", "Positive", "Negative"])
    return rows


def _sizes(rng: random.Random, total: int, studies: int) -> list[int]:
    """Study sizes from 3 to 60 that add up to `total`."""
    sizes = [3] * studies
    sizes[0] = 60
    left = total - sum(sizes)
    while left > 0:
        index = rng.randrange(1, studies)
        if sizes[index] < 40:
            sizes[index] += 1
            left -= 1
    return sizes


def _copy(
    spec: FormSpec,
    study: Study,
    extractor: User | None,
    by: User,
    study_values: dict[str, Any],
    rows: list[dict[str, Any]],
    done: bool,
) -> None:
    extraction = Extraction.objects.create(
        review=study.review,
        study=study,
        extractor=extractor,
        updated_by=by,
        values=parse_by_key(spec, study_values),
        status=ExtractionStatus.DONE if done else ExtractionStatus.IN_PROGRESS,
    )
    PatientRow.objects.bulk_create(
        PatientRow(
            extraction=extraction,
            position=n,
            label=f"Case {n}",
            values=parse_by_key(spec, {k: v for k, v in row.items() if v != ""}),
        )
        for n, row in enumerate(rows, start=1)
    )


def _more_studies(review: Review, team: DemoExtractors, wanted: int) -> None:
    """Include and approve `wanted` more full texts, so the demo has a review's worth of
    studies (the screening demo approves three)."""
    sought = [pk for pk, outcome in states(review).items() if outcome.state is State.FT_SOUGHT][
        :wanted
    ]
    records = list(review.records.filter(pk__in=sought).order_by("pk"))
    for record in records:
        for user in (team.first, team.second):
            decide(record=record, user=user, stage=Stage.FULL_TEXT, choice="include")
    approve(review=review, records=records, user=team.senior)


@transaction.atomic
def extraction_demo(review: Review, team: DemoExtractors, *, seed: int = 57) -> dict[str, int]:
    """Set up and fill the demo's extraction; returns counts for the demo's output."""
    rng = random.Random(seed)
    setup_update(review=review, dual=True)
    template_load(review=review)
    spec = form_spec(review)
    _more_studies(review, team, 42 - review.studies.count())
    studies = list(review.studies.order_by("pk"))
    people = patients(seed)
    sizes = _sizes(rng, PATIENTS, FINAL_STUDIES)
    groups = list(_split(rng, list(range(PATIENTS)), sizes))
    for number, study in enumerate(studies):
        first_year = rng.randrange(1986, 2019)
        males = None
        if number < FINAL_STUDIES:
            rows = [people[i] for i in groups[number]]
            males = sum(r["sex"] == "Male" for r in rows)
        else:
            rows = [dict(people[i]) for i in rng.sample(range(PATIENTS), 4)]
        study_values = {
            "design": "Retrospective case series" if rng.random() < 0.85 else "Registry study",
            "country": rng.choice(COUNTRIES),
            "period_start": str(first_year),
            "period_end": str(min(2024, first_year + rng.randrange(3, 25))),
            "patients": str(len(rows) + rng.choice([0, 0, 0, 2, 5])),
            "males": str(males) if males is not None else "NR",
            "ipd": "yes",
        }
        if number < FINAL_STUDIES:
            for extractor in (team.first, team.second):
                _copy(spec, study, extractor, extractor, study_values, rows, done=True)
            _copy(spec, study, None, team.senior, study_values, rows, done=True)
        elif number < FINAL_STUDIES + 2:
            _copy(spec, study, team.first, team.first, study_values, rows, done=True)
            theirs = [dict(row) for row in rows]
            theirs[0]["age_months"] = str(int(theirs[0]["age_months"]) + 12)  # years misread
            theirs[1]["margin"] = (
                "Positive" if theirs[1].get("margin") != "Positive" else "Negative"
            )
            changed = dict(study_values, country="Netherlands")
            _copy(spec, study, team.second, team.second, changed, theirs, done=True)
        elif number == FINAL_STUDIES + 2:
            _copy(spec, study, team.first, team.first, study_values, rows[:2], done=False)
    return {"studies": len(studies), "final": FINAL_STUDIES, "patients": PATIENTS}


def pending_import_demo(review: Review, user: User) -> str:
    """A spreadsheet waiting on its preview page: `user`'s patient rows of the study they
    are still extracting, exported and one age mistyped. Returns the preview's address."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from extraction.selectors import study_key
    from extraction.services import transfer, uploads

    copy = Extraction.objects.get(
        review=review, extractor=user, status=ExtractionStatus.IN_PROGRESS
    )
    exported = transfer.export_file(
        review=review, user=user, kind="patients", scope="mine", file_format="csv"
    )
    header, *rows = csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))
    key = study_key(copy.study_id)
    mine = [row for row in rows if row[0] == key]
    mine[0][header.index("age_months")] = "seven"  # a typo the preview points at
    out = io.StringIO()
    csv.writer(out).writerows([header, *mine])
    content = out.getvalue().encode()
    pending = uploads.pending_import_create(
        review=review,
        user=user,
        upload=SimpleUploadedFile(f"{key}-patients.csv", content, "text/csv"),
        kind="patients",
        target="mine",
    )
    url = reverse("extraction-import-preview", args=[review.slug])
    return f"{url}?token={pending.token}"
