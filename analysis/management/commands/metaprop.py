"""Pool the proportions of a study-level CSV (events and total per study), from the command
line: the same computation the analysis pages run (`analysis.stats.meta`)."""

from __future__ import annotations

import json
import math
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analysis.management.commands.crosstab import _read
from analysis.stats import StatsInputError
from analysis.stats.meta import Pooled, pool_proportions
from analysis.stats.pvalues import p_statement

#: The keys of `--json`, in order: proportions 0–1, tau2 on the transformed scale, i2 in %.
JSON_KEYS = ("estimate", "ci_low", "ci_high", "tau2", "i2", "q", "q_p", "pi_low", "pi_high", "k")


class Command(BaseCommand):
    help = (
        "Pool the proportions events/total of a study-level CSV (one row per study) by the "
        "binomial-normal GLMM (default) or the inverse-variance random-effects model with "
        "REML or DerSimonian–Laird τ², on the logit or Freeman–Tukey scale, as R's metafor "
        "does. Prints the pooled proportion with its 95% CI, τ², I², Q and the 95% "
        "prediction interval."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE.csv", type=Path)
        parser.add_argument("--events", required=True, metavar="COLUMN")
        parser.add_argument("--total", required=True, metavar="COLUMN")
        parser.add_argument(
            "--study", metavar="COLUMN", help="Study labels (default: row numbers)."
        )
        parser.add_argument("--method", choices=("glmm", "reml", "dl"), default="glmm")
        parser.add_argument(
            "--transform",
            choices=("logit", "ft"),
            default="logit",
            help="Scale of the two-step methods: logit, or ft (Freeman–Tukey double arcsine). "
            "The GLMM is on the logit scale.",
        )
        parser.add_argument(
            "--hartung-knapp",
            action="store_true",
            help="Hartung–Knapp adjustment (t on k - 1 df) for reml and dl.",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        frame = _read(path)
        for option in ("events", "total", "study"):
            column = options[option]
            if column is not None and column not in frame.columns:
                raise CommandError(
                    f"{path} has no column “{column}”; its columns are: {', '.join(frame.columns)}."
                )
        if options["method"] == "glmm" and options["transform"] == "ft":
            raise CommandError("The GLMM pools on the logit scale: leave out --transform ft.")
        events, totals, labels = [], [], []
        for number, row in enumerate(frame.to_dict("records"), start=2):  # line 1: header
            label = str(row[options["study"]]).strip() if options["study"] else f"Row {number}"
            events.append(_count(row[options["events"]], path, number, options["events"]))
            totals.append(_count(row[options["total"]], path, number, options["total"]))
            labels.append(label or f"Row {number}")
        try:
            result = pool_proportions(
                events,
                totals,
                labels=labels,
                method=options["method"],
                transform=options["transform"],
                hartung_knapp=options["hartung_knapp"],
            )
        except StatsInputError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(as_json(result), indent=2))
        else:
            self.stdout.write("\n".join(report(result)))


def _count(value: str, path: Path, line: int, column: str) -> int:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (number.is_integer() and number >= 0):
        raise CommandError(f"{path}, line {line}, column “{column}”: “{text}” is not a count.")
    return int(number)


def as_json(result: Pooled) -> dict[str, float | int | None]:
    """The result under `JSON_KEYS`; an undefined value (NaN) as null."""
    values = {key: getattr(result, key) for key in JSON_KEYS}
    return {
        key: None if isinstance(v, float) and not math.isfinite(v) else v
        for key, v in values.items()
    }


def report(result: Pooled) -> list[str]:
    """The result as readable lines."""
    scale = "logit" if result.measure == "PLO" else "double arcsine"
    test = ", Hartung–Knapp" if result.hartung_knapp else ""
    return [
        f"Pooled proportion ({result.method_name}, {scale} scale{test}): "
        f"{100 * result.estimate:.1f}% (95% CI {100 * result.ci_low:.1f}% to "
        f"{100 * result.ci_high:.1f}%)",
        f"{result.k} studies, {result.n} participants",
        f"Heterogeneity: τ² = {result.tau2:.4f} ({result.estimator}), I² = {result.i2:.1f}%, "
        f"Q = {result.q:.2f} on {result.q_df} df, {p_statement(result.q_p)}",
        f"95% prediction interval: {100 * result.pi_low:.1f}% to {100 * result.pi_high:.1f}%",
        f"Continuity correction: {result.correction}",
    ]
