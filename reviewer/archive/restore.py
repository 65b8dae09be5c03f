"""Restore a review from its archive, whole or not at all.

First the archive is checked without touching the database: it must be a ZIP of sane size
(no member unpacking to more than `ARCHIVE_MAX_UNPACKED_MB` in all, none compressed more
than `MAX_RATIO` times: a "zip bomb"), with only the file names the layout allows (no
absolute paths, no `..`), a manifest of a format this version reads, and every file
present with the checksum and row count the manifest gives. Then, in one transaction,
people are matched by email (an inactive account is created for whoever is missing), and
every table is restored in dependency order with new ids. Stored files written before a
failure are deleted again, so a refused archive leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, models, transaction

from reviewer.archive import layout
from reviewer.archive.values import BadValue, load
from reviewer.models import Membership, Review, Role, User
from reviewer.services.ranking import ranking_after_role_change, ranking_for_new_member
from reviewer.version import VERSION

#: A member unpacking to more than this many times its packed size is refused (JSON packs
#: about 5-20 times; a zip bomb thousands of times).
MAX_RATIO = 1000
#: Members smaller than this are not held to MAX_RATIO (an empty table packs "infinitely").
RATIO_FLOOR = 1024 * 1024
MAX_MEMBERS = 1_000_000
BATCH = 1000
CHUNK = 1024 * 1024
_MEMBER_NAME = re.compile(
    r"^(manifest\.json|people\.jsonl|tables/[a-z_]+\.[a-z_]+\.jsonl"
    r"|files/[a-z_]+\.[a-z_]+/[1-9][0-9]*/[a-z_]+/[^/\\\x00-\x1f]+)$"
)


class ArchiveError(Exception):
    """The archive cannot be restored; the message says what is wrong and where."""


@dataclass(frozen=True)
class Person:
    """One person an archive names, and the account on this server they map onto."""

    email: str
    name: str
    #: the existing account matched by email; None: a new inactive account is (or was) made
    account: User | None
    #: their role in the archived review ("" if they are not, or no longer, a member)
    role: str = ""


@dataclass
class Restored:
    review: Review
    rows: dict[str, int]
    people_created: list[User] = field(default_factory=list)
    people_matched: list[User] = field(default_factory=list)
    owner_added: bool = False
    #: each person of the archive, in its order, with the account they now are
    people: list[Person] = field(default_factory=list)


@dataclass
class Checked:
    """What an archive would restore, read without writing anything: shown to the person
    restoring before they confirm (who becomes whom on this server, above all)."""

    title: str
    slug: str
    app_version: str
    created_at: str
    rows: dict[str, int]
    people: list[Person]

    @property
    def matched(self) -> list[Person]:
        return [p for p in self.people if p.account is not None]

    @property
    def created(self) -> list[Person]:
        return [p for p in self.people if p.account is None]


def archive_check(*, source: IO[bytes] | str) -> Checked:
    """Every check `archive_restore` makes before writing, and the people mapping it would
    make now; raises ArchiveError. Nothing is written."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ArchiveError(
            f"This is not a review archive: not a readable ZIP file ({error})."
        ) from None
    with archive:
        _check_members(archive)
        manifest = _manifest(archive)
        tables = _check_tables(manifest)
        _check_contents(archive, manifest)
        state = _Restoring(archive, "")
        roles = _roles(state, tables.get("reviewer.Membership"))
        people = [
            Person(
                email=email,
                name=_name(person),
                account=account_for(email),
                role=roles.get(number, ""),
            )
            for number, person, email in _people_lines(state, manifest["people"])
        ]
        review = manifest["review"]
        return Checked(
            title=str(review.get("title") or ""),
            slug=str(review.get("slug") or ""),
            app_version=str(manifest.get("app_version") or ""),
            created_at=str(manifest.get("created_at") or ""),
            rows={str(t["model"]): int(t["rows"]) for t in manifest["tables"]},
            people=people,
        )


def account_for(email: str) -> User | None:
    """The account an archive's person with `email` maps onto (case ignored; an active
    account before an inactive one), or None: an inactive account is made for them."""
    if not email:
        return None
    return User.objects.filter(email__iexact=email).order_by("-is_active", "pk").first()


def _name(person: dict[str, Any]) -> str:
    first, last = str(person.get("first_name") or ""), str(person.get("last_name") or "")
    return " ".join(part for part in (first, last) if part) or str(person.get("username") or "")


def _roles(state: _Restoring, entry: dict[str, Any] | None) -> dict[int, str]:
    """People line number -> their role label in the archived review."""
    if entry is None:
        return {}
    labels: dict[str, str] = {str(value): str(label) for value, label in Role.choices}
    roles: dict[int, str] = {}
    for _number, row in state.lines(str(entry["file"]), int(entry["rows"])):
        if isinstance(row.get("user"), int):
            role = str(row.get("role") or "")
            roles[row["user"]] = labels.get(role, role)
    return roles


def archive_restore(
    *, source: IO[bytes] | str, slug: str = "", owner: User | None = None
) -> Restored:
    """Restore the archive in `source` (a path or a binary file) as a new review.

    `slug`: the new review's address (default: the archived one). `owner`: made an owner
    of the restored review (the person restoring it in the browser). Raises ArchiveError.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ArchiveError(
            f"This is not a review archive: not a readable ZIP file ({error})."
        ) from None
    with archive:
        _check_members(archive)
        manifest = _manifest(archive)
        tables = _check_tables(manifest)
        _check_contents(archive, manifest)
        return _restore(archive, manifest, tables, slug=slug, owner=owner)


# --- checks before anything is written ------------------------------------------------


def _check_members(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ArchiveError(f"The archive holds {len(members):,} files: too many to be one.")
    limit = settings.ARCHIVE_MAX_UNPACKED_MB * 1024 * 1024
    total = 0
    names = set()
    for member in members:
        name = member.filename
        if not _MEMBER_NAME.match(name) or ".." in PurePosixPath(name).parts:
            raise ArchiveError(f"The archive holds a file with a name it may not have: {name!r}.")
        if name in names:
            raise ArchiveError(f"The archive holds “{name}” twice.")
        names.add(name)
        if member.flag_bits & 0x1:
            raise ArchiveError(f"“{name}” is encrypted; archives are never encrypted.")
        total += member.file_size
        if total > limit:
            raise ArchiveError(
                f"The archive unpacks to more than {settings.ARCHIVE_MAX_UNPACKED_MB:,} MB "
                "(ARCHIVE_MAX_UNPACKED_MB); refused."
            )
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise ArchiveError(
                f"“{name}” would unpack to {member.file_size:,} bytes from "
                f"{member.compress_size:,}: refused as a zip bomb."
            )


def _read_json(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        data = archive.read(name)
    except KeyError:
        raise ArchiveError(
            f"The archive has no {name}: it is not a review archive, or it is damaged."
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ArchiveError(f"{name} is damaged: {error}.") from None
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArchiveError(f"{name} is not valid JSON: {error}.") from None


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    manifest = _read_json(archive, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != layout.FORMAT:
        raise ArchiveError("manifest.json does not describe a review archive.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ArchiveError(f"manifest.json gives no valid format_version ({version!r}).")
    if version > layout.FORMAT_VERSION:
        raise ArchiveError(
            f"This archive was made by a newer version of the app ({manifest.get('app_version')}"
            f", archive format {version}); this server runs {VERSION}, which reads archive "
            f"format {layout.FORMAT_VERSION} and older. Upgrade this server first."
        )
    for key, kind in (("people", dict), ("tables", list), ("files", list), ("review", dict)):
        if not isinstance(manifest.get(key), kind):
            raise ArchiveError(f"manifest.json has no valid “{key}”.")
    return manifest


def _check_tables(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's tables by label, checked against this version's models."""
    known = {label.lower(): label for label in layout.ARCHIVED}
    tables: dict[str, dict[str, Any]] = {}
    for entry in manifest["tables"]:
        name = entry.get("model") if isinstance(entry, dict) else None
        label = known.get(str(name).lower())
        if label is None:
            raise ArchiveError(
                f"The archive holds a table this version ({VERSION}) does not know: {name!r}. "
                f"It was made by {manifest.get('app_version')}; upgrade this server first."
            )
        if entry.get("file") != layout.table_file(label):
            raise ArchiveError(f"manifest.json: table {label} is not in {entry.get('file')!r}.")
        columns = entry.get("columns")
        if not isinstance(columns, list):
            raise ArchiveError(f"manifest.json: table {label} lists no columns.")
        columns = [layout.column_now(label, str(name)) for name in columns]  # older archives
        entry = {**entry, "columns": columns}
        ours = {c.name: c for c in layout.columns(label)}
        unknown = set(columns) - set(ours)
        if unknown:
            raise ArchiveError(
                f"Table {label} of the archive has columns this version ({VERSION}) does not "
                f"know: {layout.describe(unknown)}. It was made by "
                f"{manifest.get('app_version')}; upgrade this server first."
            )
        for name_, column in ours.items():
            if name_ not in columns and not (column.has_default() or column.null):
                raise ArchiveError(
                    f"Table {label} of the archive has no column “{name_}”, which this "
                    "version needs and cannot fill in."
                )
        tables[label] = entry
    if "reviewer.Review" not in tables:
        raise ArchiveError("The archive holds no review.")
    return tables


def _check_contents(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every listed file present with its checksum; nothing else in the archive."""
    listed: dict[str, str] = {}
    entries = [manifest["people"], *manifest["tables"]]
    for entry in entries:
        listed[str(entry.get("file"))] = str(entry.get("sha256"))
    for entry in manifest["files"]:
        if not isinstance(entry, dict):
            raise ArchiveError("manifest.json: an entry of “files” is not an object.")
        listed[str(entry.get("path"))] = str(entry.get("sha256"))
    present = set(archive.namelist()) - {"manifest.json"}
    for name, expected in listed.items():
        if name not in present:
            raise ArchiveError(
                f"The archive is damaged: {name} is listed in its manifest but missing."
            )
        digest = hashlib.sha256()
        try:
            with archive.open(name) as member:
                while chunk := member.read(CHUNK):
                    digest.update(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ArchiveError(
                f"The archive is damaged: {name} cannot be read ({error})."
            ) from None
        if digest.hexdigest() != expected:
            raise ArchiveError(
                f"The archive is damaged: {name} does not match its checksum in the manifest."
            )
    extra = present - set(listed)
    if extra:
        raise ArchiveError(
            f"The archive holds files its manifest does not list: {layout.describe(extra)}."
        )


# --- the restore itself ---------------------------------------------------------------


class _Restoring:
    def __init__(self, archive: zipfile.ZipFile, slug: str) -> None:
        self.archive = archive
        self.slug = slug
        self.ids = layout.IdMaps()
        self.stored_files: list[tuple[models.FileField, str]] = []
        self.rows: dict[str, int] = {}

    def lines(self, name: str, expected: int) -> Iterator[tuple[int, dict[str, Any]]]:
        count = 0
        with self.archive.open(name) as member:
            for number, raw in enumerate(member, start=1):
                try:
                    row = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as error:
                    raise ArchiveError(
                        f"{name}, line {number}: not valid JSON ({error})."
                    ) from None
                if not isinstance(row, dict):
                    raise ArchiveError(f"{name}, line {number}: not a JSON object.")
                count += 1
                yield number, row
        if count != expected:
            raise ArchiveError(
                f"The archive is damaged: {name} holds {count} rows, its manifest says {expected}."
            )


def _restore(
    archive: zipfile.ZipFile,
    manifest: dict[str, Any],
    tables: dict[str, dict[str, Any]],
    *,
    slug: str,
    owner: User | None,
) -> Restored:
    slug = slug or str(manifest["review"].get("slug") or "")
    if not slug:
        raise ArchiveError("The archive names no review address (slug); give one.")
    state = _Restoring(archive, slug)
    try:
        with transaction.atomic():
            if Review.objects.filter(slug=slug).exists():
                raise ArchiveError(
                    f"A review with the address “{slug}” exists already: choose another one."
                )
            created, matched, people = _people(state, manifest["people"])
            for label in layout.table_order():
                entry = tables.get(label)
                if entry is not None:
                    _table(state, label, entry)
                else:
                    state.rows[label] = 0  # an older archive, made before this table existed
            review = Review.objects.get(pk=state.ids.get("reviewer.Review", 1, where="review"))
            owner_added = _make_owner(review, owner) if owner is not None else False
    except ArchiveError:
        _delete_files(state)
        raise
    except DatabaseError as error:
        _delete_files(state)
        raise ArchiveError(f"The archive's rows do not fit this database: {error}") from None
    except BaseException:
        _delete_files(state)
        raise
    return Restored(
        review=review,
        rows=state.rows,
        people_created=created,
        people_matched=matched,
        owner_added=owner_added,
        people=people,
    )


def _delete_files(state: _Restoring) -> None:
    for column, name in state.stored_files:
        column.storage.delete(name)


def _people_lines(
    state: _Restoring, entry: dict[str, Any]
) -> Iterator[tuple[int, dict[str, Any], str]]:
    for number, person in state.lines(str(entry.get("file")), int(entry.get("rows", -1))):
        yield number, person, str(person.get("email") or "").strip()


def _people(
    state: _Restoring, entry: dict[str, Any]
) -> tuple[list[User], list[User], list[Person]]:
    created: list[User] = []
    matched: list[User] = []
    people: list[Person] = []
    for number, person, email in _people_lines(state, entry):
        user = account_for(email)
        if user is None:
            user = _inactive_account(person, email)
            created.append(user)
        else:
            matched.append(user)
        people.append(Person(email=email, name=_name(person), account=user))
        state.ids.add(layout.user_label(), number, user.pk)
    return created, matched, people


def _inactive_account(person: dict[str, Any], email: str) -> User:
    """An account for someone the archive names and this server does not know: inactive,
    with no usable password, until an owner lets them in."""
    wanted = str(person.get("username") or email.split("@")[0] or "person")[:140]
    username, n = wanted, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{wanted}-{n}"
    user = User(
        username=username,
        email=email,
        first_name=str(person.get("first_name") or "")[:150],
        last_name=str(person.get("last_name") or "")[:150],
        is_active=False,
    )
    user.set_unusable_password()
    user.save()
    return user


def _table(state: _Restoring, label: str, entry: dict[str, Any]) -> None:
    model_class = layout.model(label)
    columns = layout.columns(label)
    auto_times = [
        c for c in columns if isinstance(c, models.DateField) and (c.auto_now or c.auto_now_add)
    ]
    remembered = layout.remembered_columns().get(label, set())
    interrupted = layout.INTERRUPTED.get(label)
    deferred: list[tuple[models.Model, models.Field[Any, Any], tuple[Any, ...]]] = []
    batch: list[tuple[int, models.Model, dict[str, Any]]] = []
    count = 0

    def flush() -> None:
        objs = [obj for _, obj, _ in batch]
        model_class._base_manager.bulk_create(objs)
        for number, obj, times in batch:
            assert obj.pk is not None
            state.ids.add(label, number, obj.pk)
            for column in layout.file_columns(label):
                name = getattr(obj, column.attname)
                if name:
                    state.stored_files.append((column, str(name)))
            for column_name, value in times.items():
                setattr(obj, column_name, value)
        if auto_times:
            # bulk_create stamps auto_now(_add) columns with the present; put back the
            # archived times (bulk_update leaves such columns as they are given)
            model_class._base_manager.bulk_update(objs, [c.name for c in auto_times])
        batch.clear()

    file_name = str(entry["file"])
    listed = set(entry["columns"])
    for line, row in state.lines(file_name, int(entry.get("rows", -1))):
        where = f"{file_name}, line {line}"
        number = row.get("id")
        if not isinstance(number, int) or number < 1:
            raise ArchiveError(f"{where}: no valid “id”.")
        row = {layout.column_now(label, name): value for name, value in row.items()}
        unknown = set(row) - listed
        if unknown:
            raise ArchiveError(
                f"{where}: columns its manifest does not list: {layout.describe(unknown)}."
            )
        values: dict[str, Any] = {}
        pending: list[tuple[models.Field[Any, Any], tuple[Any, ...]]] = []
        for column in columns:
            if column.primary_key:
                continue
            if column.name not in row:
                continue  # an older archive: the column's default applies
            raw = layout.value_now(label, column.name, row[column.name])
            try:
                _column_value(state, label, column, raw, values, pending, where)
            except (BadValue, layout.IdNotFound) as error:
                raise ArchiveError(f"{where}: {error}.") from None
        if label == "reviewer.Review":
            values["slug"] = state.slug
        layout.status_now(label, values)  # older archives
        if interrupted and values.get(interrupted.status_field) in interrupted.unfinished:
            values[interrupted.status_field] = interrupted.becomes
            values[interrupted.message_field] = layout.INTERRUPTED_MESSAGE
        obj = model_class(**values)
        deferred.extend((obj, column, how) for column, how in pending)
        for column_name in remembered:
            state.ids.remember(label, column_name, number, values.get(column_name))
        times = {c.name: values[c.name] for c in auto_times if c.name in values}
        batch.append((number, obj, times))
        count += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    _finish_deferred(state, model_class, deferred)
    state.rows[label] = count


def _column_value(
    state: _Restoring,
    label: str,
    column: models.Field[Any, Any],
    raw: Any,
    values: dict[str, Any],
    pending: list[tuple[models.Field[Any, Any], tuple[Any, ...]]],
    where: str,
) -> None:
    if isinstance(column, models.ForeignKey):
        if raw is None:
            if not column.null:
                raise BadValue(f"“{column.name}” may not be empty")
            values[column.attname] = None
            return
        target = column.related_model
        assert isinstance(target, type)
        target_label = layout.label_of(target)
        if target_label == label:  # a row of the same table: set once the table is in
            values[column.attname] = None
            pending.append((column, ("id", target_label, raw, where)))
            return
        values[column.attname] = state.ids.get(target_label, raw, where=column.name)
        return
    if isinstance(column, models.FileField):
        values[column.attname] = _file(state, raw, where) if raw else ""
        return
    how = layout.json_translation(label, column.name)
    if how is not None and raw is not None:
        if label in how.references:  # ids of its own table: translated once the table is in
            values[column.attname] = load(column, raw)
            pending.append((column, ("json", how, raw, where)))
            return
        values[column.attname] = how.translate(raw, state.ids, column.name)
        return
    values[column.attname] = load(column, raw)


def _file(state: _Restoring, path: Any, where: str) -> File[Any]:
    if not isinstance(path, str) or not path.startswith("files/"):
        raise BadValue(f"a file column holds {path!r}, not a file of the archive")
    try:
        member = state.archive.open(path)
    except KeyError:
        raise BadValue(f"the file {path} is not in the archive") from None
    return File(member, name=PurePosixPath(path).name)


def _finish_deferred(
    state: _Restoring,
    model_class: type[models.Model],
    deferred: list[tuple[models.Model, models.Field[Any, Any], tuple[Any, ...]]],
) -> None:
    """Set the references a table's rows make to rows of the same table."""
    changed: dict[str, list[models.Model]] = {}
    for obj, column, how in deferred:
        try:
            if how[0] == "id":
                _, target_label, raw, where = how
                value = state.ids.get(target_label, raw, where=column.name)
            else:
                _, translation, raw, where = how
                value = translation.translate(raw, state.ids, column.name)
        except layout.IdNotFound as error:
            raise ArchiveError(f"{where}: {error}.") from None
        setattr(obj, column.attname, value)
        changed.setdefault(column.name, []).append(obj)
    for name, objs in changed.items():
        model_class._base_manager.bulk_update(objs, [name], batch_size=BATCH)


def _make_owner(review: Review, user: User) -> bool:
    """Make `user` an owner of the restored review; True if that changed anything. Their
    ranking starts as any new member's does (`ranking_for_new_member`)."""
    membership = Membership.objects.filter(review=review, user=user).first()
    if membership is None:
        membership = Membership.objects.create(
            review=review, user=user, role=Role.OWNER, added_by=user
        )
        ranking_for_new_member(membership=membership)
        return True
    if membership.role != Role.OWNER:
        was_senior = membership.is_senior
        membership.role = Role.OWNER
        membership.save(update_fields=["role"])
        ranking_after_role_change(membership=membership, was_senior=was_senior)
        return True
    return False
