"""Language names for records' language values (reviewer.languages)."""

from __future__ import annotations

import pytest

from reviewer.languages import ISO_639_2, is_english, language_name


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("eng", "English"),  # MEDLINE's LA tag: ISO 639-2, bibliographic form
        ("fre", "French"),
        ("fra", "French"),  # the terminology form
        ("ger", "German"),
        ("chi", "Chinese"),  # Django knows only Simplified and Traditional Chinese
        ("en", "English"),  # ISO 639-1
        ("ENG", "English"),
        ("English", "English"),  # RIS and Embase give the name
        ("english", "English"),
        ("eng; fre", "English, French"),
        ("spa/eng", "Spanish, English"),
        ("eng; English", "English"),  # the same language once
        ("mul", "Several languages"),
        ("xx", "xx"),  # unknown: kept as written
        ("Klingon", "Klingon"),
        ("", ""),
    ],
)
def test_a_language_value_reads_as_its_name(value, shown):
    assert language_name(value) == shown


def test_every_iso_639_2_code_maps_to_a_language_django_or_the_module_names():
    unnamed = {code for code in ISO_639_2 if language_name(code) == code}
    assert not unnamed


@pytest.mark.parametrize(
    "value",
    [
        "eng", "English", "en", "ENG", "English; French", "fre; eng",
        # regional variants: an export's or a translator's tag, not another language
        "en-US", "en_GB", "EN-au", "English (US)", "British English",
    ],
)  # fmt: skip
def test_english_in_any_form_is_english(value):
    assert is_english(value)


@pytest.mark.parametrize("value", ["fre", "French", "ger; spa", "Japanese", "ben", "xx", ""])
def test_other_languages_are_not_english(value):
    assert not is_english(value)
