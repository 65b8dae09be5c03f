"""Web of Science tagged format (and Zoological Record, which uses it)."""

from __future__ import annotations

from pathlib import Path

from reviewer.imports import read_file
from tests.reviewer.imports.conftest import WriteFile, records_of


def test_wos_record_field_by_field(exports: Path) -> None:
    record = records_of(exports / "rispy/example_wos.ris")[0]

    assert record.title == (
        "Interactions stabilizing the structure of the core light-harvesting complex (LHl) "
        "of photosynthetic bacteria and its subunit (B820)"
    )
    assert record.authors == ["Parkes-Loach, PS", "Majeed, AP", "Law, CJ", "Loach, PA"]
    assert record.year == 2004
    assert record.journal == "BIOCHEMISTRY"
    assert (record.volume, record.issue, record.pages) == ("43", "22", "7003-7016")
    assert record.doi == "10.1021/bi049798f"
    assert record.pmid == "15170338"
    assert record.keywords[:2] == ["CHEMICALLY SYNTHESIZED POLYPEPTIDES", "IN-VITRO RECONSTITUTION"]
    assert record.keywords[-1] == "ANTENNA COMPLEX"  # continued over four lines
    assert record.publication_type == "Article"
    assert record.location == "record 1, line 3"  # after the FN/VR header


def test_full_author_names_af_win_over_au(write: WriteFile) -> None:
    path = write(
        "savedrecs.txt",
        "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\n   Doe, A\n"
        "AF Smith, Jane\n   Doe, Anne\nTI A title\nPY 2020\nER\n\nEF\n",
    )

    record = records_of(path)[0]

    assert record.authors == ["Smith, Jane", "Doe, Anne"]
    assert record.raw["AU"] == ["Smith, J", "Doe, A"]


def test_zoological_record_drops_email_addresses_from_names(exports: Path) -> None:
    record = records_of(exports / "synthesisr/zoorec.txt")[0]

    assert record.authors[0] == "Stillman, Andrew N."
    assert record.raw["AU"][0] == "Stillman, Andrew N. (andrew.stillman@uconn.edu)"
    assert (
        record.title
        == "Nest site selection and nest survival of Black-backed Woodpeckers after wildfire."
    )


def test_truncated_wos_file_keeps_the_last_record(write: WriteFile) -> None:
    path = write("cut.ciw", "FN Web of Science\nVR 1.0\nPT J\nTI First\nER\n\nPT J\nTI Cut short\n")
    parsed = read_file(path, filename="cut.ciw")

    records = list(parsed.records())

    assert [r.title for r in records] == ["First", "Cut short"]
    assert parsed.warnings == [
        "Record 2 (line 7) is cut short: the file ends before its end line (ER). A file whose "
        "last record is cut is usually a download that did not finish: export the search "
        "again if you can."
    ]
