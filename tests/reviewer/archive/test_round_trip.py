"""A review leaves the server whole and comes back exactly: export, restore into an empty
database, export again — the two archives are equal, and so is everything a person sees
(PRISMA counts, kappa, extraction data, analysis results). Run on SQLite and PostgreSQL:
on PostgreSQL the same tests run once more on SQLite, restoring the PostgreSQL archive."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from reviewer.archive import archive_restore
from reviewer.models import FullText, Membership, Review, Role, User
from tests.conftest import REPO_ROOT
from tests.factories import page_text
from tests.reviewer.archive.helpers import (
    archive_bytes,
    demo_review,
    manifest_of,
    members,
    observed,
)

# transactional: the demo's de-duplication runs as each import commits
pytestmark = pytest.mark.django_db(transaction=True)


def delete_everything(review: Review) -> None:
    """An empty database: the review, its stored files and every account gone."""
    for stored in FullText.objects.filter(review=review).exclude(pdf=""):
        stored.pdf.delete(save=False)
    review.delete()
    User.objects.all().delete()


def assert_same_archive(first: bytes, second: bytes) -> None:
    a, b = members(first), members(second)
    assert sorted(a) == sorted(b)
    for name in a:
        if name != "manifest.json":
            assert a[name] == b[name], f"{name} differs"
    manifest_a, manifest_b = json.loads(a["manifest.json"]), json.loads(b["manifest.json"])
    for manifest in (manifest_a, manifest_b):
        del manifest["created_at"]  # the archive's own time
        del manifest["database"]
    assert manifest_a == manifest_b


def test_archive_restored_into_an_empty_database_archives_again_the_same(tmp_path):
    review = demo_review()
    before = observed(review)
    first = archive_bytes(review)
    (tmp_path / "first.zip").write_bytes(first)
    delete_everything(review)
    assert not Review.objects.exists() and not User.objects.exists()

    restored = archive_restore(source=io.BytesIO(first))

    assert restored.review.slug == "demo"
    assert sorted(u.username for u in restored.people_created) == ["alice", "bob", "carol", "erin"]
    assert not any(u.is_active or u.has_usable_password() for u in restored.people_created)
    assert observed(restored.review) == before
    second = archive_bytes(restored.review)
    assert_same_archive(first, second)
    # every table of the layout has rows, so nothing is compared empty
    manifest = manifest_of(first)
    empty = [t["model"] for t in manifest["tables"] if t["rows"] == 0]
    assert empty == []
    assert manifest["people"]["rows"] == 4 and len(manifest["files"]) == 5


def test_archive_holds_no_password_hash_or_database_id():
    review = demo_review()
    data = archive_bytes(review)

    people = members(data)["people.jsonl"].decode()
    assert "pbkdf2" not in people and "md5$" not in people and "password" not in people
    assert json.loads(people.splitlines()[0]) == {
        "email": "alice@example.org",
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Reviewer",
    }
    reviews = members(data)["tables/reviewer.review.jsonl"].decode()
    assert json.loads(reviews)["id"] == 1 and "archive_downloaded_at" not in reviews


def test_demo_restores_beside_itself_as_a_second_review_that_looks_the_same(client):
    output = io.StringIO()
    review = demo_review(output)
    assert "python manage.py export_review demo --output demo.zip" in output.getvalue()
    carol = User.objects.get(username="carol")

    restored = archive_restore(source=io.BytesIO(archive_bytes(review)), slug="demo-copy")

    copy = restored.review
    assert [u.username for u in restored.people_matched] == ["alice", "bob", "carol", "erin"]
    assert restored.people_created == []
    assert Membership.objects.get(review=copy, user=carol).role == Role.OWNER
    assert observed(copy) == observed(review)
    client.force_login(carol)
    pages = {}
    for slug in ("demo", "demo-copy"):
        for page in ("", "prisma/"):
            response = client.get(f"/reviews/{slug}/{page}")
            assert response.status_code == 200
            pages[slug, page] = comparable(page_text(response))
    assert pages["demo", ""] == pages["demo-copy", ""]
    assert pages["demo", "prisma/"] == pages["demo-copy", "prisma/"]
    assert "Outcomes of pediatric inflammatory myofibroblastic tumor" in pages["demo", ""]


def comparable(text: str) -> str:
    """A page's text without what must differ between two copies: the numbers of analysis
    runs (their ids) and how long ago something happened (the pages are read seconds
    apart, a minute apart on a loaded machine)."""
    text = re.sub(r"#\d+", "#N", text)
    return re.sub(r"(\d+|an?) (seconds?|minutes?) ago|\bnow\b", "a moment ago", text)


# --- the same on the other database ---------------------------------------------------

OTHER_DATABASE = os.environ.get("ARCHIVE_TEST_FROM_POSTGRESQL", "")

if OTHER_DATABASE:

    def test_an_archive_written_on_postgresql_restores_the_same_review_here():
        archive = Path(OTHER_DATABASE)
        expected = json.loads(archive.with_suffix(".json").read_text())

        restored = archive_restore(source=str(archive))

        assert connection.vendor == "sqlite"
        assert observed(restored.review) == expected
        assert_same_archive(archive.read_bytes(), archive_bytes(restored.review))


def test_on_sqlite_too(tmp_path):
    """On PostgreSQL (as in CI), run this module once more on SQLite, with an archive
    written here restored there."""
    if connection.vendor != "postgresql":
        pytest.skip("run with DATABASE_URL=postgres://... to test PostgreSQL and SQLite both")
    review = demo_review()
    archive = tmp_path / "from-postgresql.zip"
    archive.write_bytes(archive_bytes(review))
    archive.with_suffix(".json").write_text(json.dumps(observed(review)))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["ARCHIVE_TEST_FROM_POSTGRESQL"] = str(archive)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-k",
            "not on_sqlite_too",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout, result.stdout[-2000:]
