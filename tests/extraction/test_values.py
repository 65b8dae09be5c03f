"""Reading typed cells (extraction.values): every field type, ranges and "not reported"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extraction.models import FieldType, Level
from extraction.services.forms import field_create
from extraction.values import NOT_REPORTED, ValueProblem, form_spec, parse, show, typed
from tests.factories import make_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def review():
    return make_review()


def make_field(review, type, **options):
    created = field_create(
        review=review, level=Level.PATIENT, label=options.pop("label", type), type=type, **options
    )
    return form_spec(review), created


@pytest.mark.parametrize(
    ("typed_in", "stored"),
    [("84", 84), (" 84 ", 84), ("+3", 3), ("0", 0), ("216", 216), (84.0, 84)],
)
def test_whole_numbers_are_read(review, typed_in, stored):
    spec, age = make_field(review, FieldType.INTEGER, min_value=Decimal(0), max_value=Decimal(216))

    assert parse(spec, age, typed_in) == stored


@pytest.mark.parametrize(
    ("typed_in", "message"),
    [
        ("seven", "“seven” is not a whole number."),
        ("7.5", "“7.5” is not a whole number."),
        ("217", "217 is above the allowed maximum, 216 months."),
        ("-1", "-1 is below the allowed minimum, 0 months."),
    ],
)
def test_whole_numbers_refuse_text_fractions_and_out_of_range(review, typed_in, message):
    spec, age = make_field(
        review, FieldType.INTEGER, unit="months", min_value=Decimal(0), max_value=Decimal(216)
    )

    with pytest.raises(ValueProblem) as refused:
        parse(spec, age, typed_in)

    assert str(refused.value) == message


def test_decimals_keep_their_digits_and_accept_a_decimal_comma(review):
    spec, size = make_field(review, FieldType.DECIMAL, unit="cm", max_value=Decimal(50))

    assert parse(spec, size, "12.50") == "12.5"
    assert parse(spec, size, "3,2") == "3.2"
    assert parse(spec, size, "0.1") == "0.1"
    assert typed(spec, size, "12.5") == 12.5
    with pytest.raises(ValueProblem, match="above the allowed maximum, 50 cm"):
        parse(spec, size, "50.01")
    with pytest.raises(ValueProblem, match="not a number"):
        parse(spec, size, "about 3")
    with pytest.raises(ValueProblem, match="not a number"):
        parse(spec, size, "NaN")


def test_single_choice_is_matched_whatever_the_case_and_stored_by_id(review):
    spec, site = make_field(review, FieldType.CHOICE, choices=["Thorax", "Head/neck"])
    thorax = spec.choices[site.pk][0]

    assert parse(spec, site, "thorax") == thorax.pk
    assert show(spec, site, thorax.pk) == "Thorax"
    assert typed(spec, site, thorax.pk) == "Thorax"
    with pytest.raises(ValueProblem) as refused:
        parse(spec, site, "Lung")
    assert str(refused.value) == "“Lung” is not one of the choices: “Thorax”, “Head/neck”."


def test_multiple_choice_takes_labels_separated_by_semicolons_in_form_order(review):
    spec, therapy = make_field(
        review, FieldType.MULTI, choices=["ALK inhibitor", "Steroids", "NSAIDs"]
    )
    alk, _steroids, nsaids = spec.choices[therapy.pk]

    stored = parse(spec, therapy, "NSAIDs; alk inhibitor;")

    assert stored == [alk.pk, nsaids.pk]
    assert show(spec, therapy, stored) == "ALK inhibitor; NSAIDs"
    assert typed(spec, therapy, stored) == ("ALK inhibitor", "NSAIDs")
    with pytest.raises(ValueProblem, match="“Surgery” is not one of the choices"):
        parse(spec, therapy, "Steroids; Surgery")


@pytest.mark.parametrize(
    ("typed_in", "stored"),
    [("Yes", "yes"), ("y", "yes"), ("FALSE", "no"), ("unknown", "unknown"), (True, "yes")],
)
def test_yes_no_unknown(review, typed_in, stored):
    spec, recurrence = make_field(review, FieldType.YES_NO)

    assert parse(spec, recurrence, typed_in) == stored


def test_yes_no_refuses_anything_else(review):
    spec, recurrence = make_field(review, FieldType.YES_NO)

    with pytest.raises(ValueProblem, match=r"“maybe” is not yes, no or unknown\."):
        parse(spec, recurrence, "maybe")


def test_dates_are_iso(review):
    spec, operated = make_field(review, FieldType.DATE)

    assert parse(spec, operated, "2024-02-29") == "2024-02-29"
    with pytest.raises(ValueProblem, match="not a date written as YYYY-MM-DD"):
        parse(spec, operated, "29/02/2024")
    with pytest.raises(ValueProblem, match="not a date"):
        parse(spec, operated, "2023-02-29")


def test_text_is_kept_with_its_spaces_tidied(review):
    spec, country = make_field(review, FieldType.TEXT)

    assert parse(spec, country, "  United   States ") == "United States"


@pytest.mark.parametrize("type", list(FieldType))
@pytest.mark.parametrize("typed_in", ["not reported", "NR", "n/r", "Not Reported"])
def test_not_reported_differs_from_empty_for_every_type(review, type, typed_in):
    spec, field = make_field(review, type, choices=["A", "B"])

    assert parse(spec, field, typed_in) == NOT_REPORTED
    assert show(spec, field, NOT_REPORTED) == "not reported"
    assert typed(spec, field, NOT_REPORTED) is None
    assert parse(spec, field, "   ") is None
    assert show(spec, field, None) == ""


def test_a_retired_choice_cannot_be_picked_anew_but_a_cell_holding_it_keeps_it(review):
    spec, site = make_field(review, FieldType.CHOICE, choices=["Thorax", "Lung"])
    lung = spec.choices[site.pk][1]
    lung.retired = True
    lung.save()
    spec = form_spec(review)

    with pytest.raises(ValueProblem, match="not one of the choices: “Thorax”"):
        parse(spec, site, "Lung")
    assert parse(spec, site, "Lung", current=lung.pk) == lung.pk
