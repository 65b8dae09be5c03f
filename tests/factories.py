"""Test data with obvious defaults: plain functions, one per model, no factory library.

Every argument has a default a reader can guess, so a test names only what it is about:
`make_record(review, title="Pediatric IMT")` makes the source, import job and file the
record needs. Files are written through the default storage; the suite's autouse
fixture in tests/conftest.py points MEDIA_ROOT at a temporary folder and makes password
hashing fast.

At the end: `Endpoint`, one row of the permission table every view test module keeps,
so each module runs the same cases (anonymous, outsider, role too low, allowed roles,
wrong method, another review's child object), and `page_text`, a page as a person reads it.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any

from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from reviewer.models import (
    ExclusionReason,
    ImportFile,
    ImportJob,
    ImportStatus,
    Membership,
    Record,
    Review,
    Role,
    Source,
    SourceKind,
    User,
)
from reviewer.services.reviews import review_create

_numbers = itertools.count(1)

#: A two-record RIS export, used where a stored file only needs to exist.
SMALL_RIS = (
    b"TY  - JOUR\r\nTI  - Inflammatory myofibroblastic tumour in children\r\nER  - \r\n"
    b"TY  - JOUR\r\nTI  - ALK rearrangement in IMT\r\nER  - \r\n"
)


def make_user(username: str = "", password: str = "pw", **fields: Any) -> User:
    """An active user; `username` defaults to a fresh `user<n>`."""
    return User.objects.create_user(
        username=username or f"user{next(_numbers)}", password=password, **fields
    )


def make_review(owner: User | None = None, title: str = "Pediatric IMT", **fields: Any) -> Review:
    """A review created the way the app creates one: its creator is owner, reasons seeded."""
    return review_create(title=title, created_by=owner or make_user(), **fields)


def add_member(review: Review, user: User | None = None, role: Role = Role.REVIEWER) -> Membership:
    """Make `user` (a new user by default) a member of `review` with `role`."""
    return Membership.objects.create(
        review=review, user=user or make_user(), role=role, added_by=review.created_by
    )


def make_reason(review: Review, label: str = "", **fields: Any) -> ExclusionReason:
    """An exclusion reason at the end of the review's list."""
    position = review.exclusion_reasons.count()
    return ExclusionReason.objects.create(
        review=review, label=label or f"Reason {next(_numbers)}", position=position, **fields
    )


def make_source(review: Review, name: str = "PubMed", **fields: Any) -> Source:
    """A database search of `review`, created by the review's creator."""
    fields.setdefault("kind", SourceKind.DATABASE)
    fields.setdefault("created_by", review.created_by)
    return Source.objects.create(review=review, name=name, **fields)


def make_import_job(
    source: Source, status: ImportStatus = ImportStatus.DONE, **fields: Any
) -> ImportJob:
    """An import job into `source`, already imported unless `status` says otherwise."""
    fields.setdefault("created_by", source.created_by)
    return ImportJob.objects.create(review=source.review, source=source, status=status, **fields)


def make_import_file(
    job: ImportJob, name: str = "search.ris", content: bytes = SMALL_RIS, **fields: Any
) -> ImportFile:
    """A stored upload of `content` in `job`, written to the default storage."""
    import_file = ImportFile(
        job=job,
        original_name=name,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        **fields,
    )
    import_file.file.save(name, ContentFile(content), save=False)
    import_file.save()
    return import_file


def _default_import_file(source: Source) -> ImportFile:
    """The file records of `source` come from unless a test gives one: one per source."""
    existing = ImportFile.objects.filter(job__source=source).order_by("pk").first()
    return existing or make_import_file(make_import_job(source))


def make_record(
    review: Review,
    source: Source | None = None,
    title: str = "Inflammatory myofibroblastic tumour in a child",
    import_file: ImportFile | None = None,
    **fields: Any,
) -> Record:
    """An imported record; makes the source, job and file it needs when not given."""
    if source is None:
        source = review.sources.order_by("pk").first() or make_source(review)
    if import_file is None:
        import_file = _default_import_file(source)
    if "position" not in fields:
        fields["position"] = import_file.records.count() + 1
    return Record.objects.create(
        review=review, source=source, import_file=import_file, title=title, **fields
    )


@dataclass
class Team:
    """A review with one member of each role, plus a logged-in outsider to try it on."""

    review: Review
    owner: User
    senior: User
    reviewer: User
    outsider: User

    def user(self, role: Role | None) -> User:
        """The team member with `role`; `None` gives the outsider."""
        return {
            Role.OWNER: self.owner,
            Role.SENIOR: self.senior,
            Role.REVIEWER: self.reviewer,
            None: self.outsider,
        }[role]


def make_team(title: str = "Pediatric IMT") -> Team:
    """`review` owned by `owner`, with `senior` and `reviewer` members and an `outsider`."""
    owner = make_user("owner")
    review = make_review(owner=owner, title=title)
    senior = add_member(review, make_user("senior"), Role.SENIOR).user
    reviewer = add_member(review, make_user("reviewer"), Role.REVIEWER).user
    return Team(
        review=review, owner=owner, senior=senior, reviewer=reviewer, outsider=make_user("outsider")
    )


def page_text(response: Any) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- the permission table of the view test modules ---


def _no_arguments(children: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Endpoint:
    """One URL inside a review and one HTTP method, as the permission tests see it.

    `role` is the least role allowed to use it (roles nest, so every higher role may
    too) and `status` is what an allowed member gets: 200 for a page, 302 for an action
    that redirects, 405 for a method the URL refuses. `kwargs` and `data` build the URL's
    arguments and the request body from the child objects the test module makes.
    """

    name: str
    method: str
    role: Role
    status: int
    kwargs: Callable[[Any], dict[str, Any]] = _no_arguments
    data: Callable[[Any], dict[str, Any]] = _no_arguments

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.name}"

    @property
    def points_at_a_child(self) -> bool:
        """True when the URL names a child object (source, member, import...) by pk."""
        return self.kwargs is not _no_arguments

    def url(self, review: Review, children: Any) -> str:
        return reverse(self.name, kwargs={"slug": review.slug, **self.kwargs(children)})

    def send(self, client: Client, review: Review, children: Any) -> Any:
        """Request this endpoint of `review`, its child objects taken from `children`."""
        send = getattr(client, self.method)
        return send(self.url(review, children), self.data(children))


def allowed(endpoints: list[Endpoint]) -> list[tuple[Endpoint, Role]]:
    """(endpoint, role) for every role that may use each endpoint."""
    return [(e, role) for e in endpoints for role in Role if role.rank >= e.role.rank]


def forbidden(endpoints: list[Endpoint]) -> list[tuple[Endpoint, Role]]:
    """(endpoint, role) for every member role too low for each endpoint."""
    return [(e, role) for e in endpoints for role in Role if role.rank < e.role.rank]


def case_id(case: object) -> str:
    """Readable pytest ids: `POST member-add` and `senior`."""
    return str(case.value) if isinstance(case, Role) else str(case)


# --- screening ---


def screen(record: Record, user: User, choice: str, stage: str = "ta", **fields: Any) -> Any:
    """Record `user`'s decision through the service, as the screening page does."""
    from reviewer.services.screening import decide

    return decide(record=record, user=user, stage=stage, choice=choice, **fields)


def pass_title_abstract(record: Record, first: User, second: User) -> Record:
    """Two includes at title/abstract: the record is sought for full text (in a blinded
    review, released to it by the review's owner)."""
    screen(record, first, "include")
    screen(record, second, "include")
    if record.review.blinded:
        release(record)
    return record


def release(*records: Record, by: User | None = None) -> int:
    """A senior (default: the review's owner) releases records agreed at title/abstract to
    full text, through the service."""
    from reviewer.services.screening import release_to_full_text

    review = records[0].review
    return release_to_full_text(review=review, user=by or review.created_by, records=records)
