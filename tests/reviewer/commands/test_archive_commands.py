"""`manage.py export_review` and `import_review`: the archive on the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reviewer.models import Membership, Review, Role
from tests.factories import make_user
from tests.reviewer.archive.helpers import members, rewrite
from tests.reviewer.archive.small import small_review, snapshot

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_export_writes_the_archive_and_says_what_is_in_it(tmp_path):
    small_review()
    target = tmp_path / "adult.zip"

    output = run("export_review", "adult-imt", output=str(target))

    assert output.startswith(f"{target}: review “adult-imt”, ")
    assert "2 people, 2 files" in output and "archive format 1, app " in output
    assert "tables/reviewer.decision.jsonl" in members(target.read_bytes())
    assert not list(tmp_path.glob("*.partial")), "the partial file is renamed, not left"


def test_export_of_an_unknown_review_fails():
    with pytest.raises(CommandError, match="No review with the slug “nope”"):
        run("export_review", "nope", output="x.zip")


def test_export_into_a_missing_folder_fails(tmp_path):
    small_review()
    with pytest.raises(CommandError, match="does not exist"):
        run("export_review", "adult-imt", output=str(tmp_path / "no" / "x.zip"))


def test_import_restores_under_a_new_address_and_can_add_an_owner(tmp_path):
    small_review()
    target = tmp_path / "adult.zip"
    run("export_review", "adult-imt", output=str(target))
    make_user("nina")

    output = run("import_review", str(target), slug="adult-copy", owner="nina")

    assert output.startswith("Restored “Adult IMT” as /reviews/adult-copy/: ")
    assert "2 people matched by email, 0 new inactive accounts." in output
    assert "  olga@example.org → existing account olga\n" in output
    assert "  Rita@example.org → existing account rita\n" in output
    copy = Review.objects.get(slug="adult-copy")
    assert Membership.objects.get(review=copy, user__username="nina").role == Role.OWNER
    assert copy.records.count() == 2


def test_import_of_a_damaged_archive_fails_and_stores_nothing(tmp_path):
    small_review()
    target = tmp_path / "adult.zip"
    run("export_review", "adult-imt", output=str(target))
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(
        rewrite(
            target.read_bytes(),
            lambda files: files.pop("people.jsonl"),
            fix_manifest=False,
        )
    )
    before = snapshot()

    with pytest.raises(CommandError, match=r"people\.jsonl is listed in its manifest but missing"):
        run("import_review", str(damaged), slug="adult-copy")

    assert snapshot() == before


def test_import_of_a_missing_file_fails(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run("import_review", str(tmp_path / "none.zip"))
