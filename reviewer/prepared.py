"""ORM queries compiled to SQL once per process, then run again with other values.

Building and compiling a Django queryset costs far more CPU than the database takes to
answer it when it is a look-up along an index (a few milliseconds against a tenth of one,
for the screening queue's probes): the screening decision makes a handful of such
queries on every key press. A `Prepared` query is still written with the ORM, so its SQL
is the ORM's and stays one source; it is built once with stand-in values, compiled, and
afterwards only its parameters change.

How: the builder is called with a stand-in for each value (integers from `_STANDIN` up,
or strings no slug takes); the compiled parameters that equal a stand-in are the slots
the values go into (as the ORM typed them: psycopg's `Int4` for a 32-bit column).
Whatever the builder decides in Python (which filters, which order, a LIMIT) belongs to
the query's `shape`, part of the key it is kept under. When a stand-in does not come out
as exactly one parameter per use (inlined into the SQL, transformed on the way, or dropped
as a comparison that is always true), the query is not kept and is compiled on every
call, as the ORM would: never a wrong answer.

`rows` gives what `values_list` would (Django's converters applied); `objects` the model
instances the queryset would give, with its `select_related` objects, `only` fields and
annotations (not `prefetch_related` or a related manager's own object: the caller sets
that).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

#: The first stand-in value; each value of a query gets its own, counting up. Never run,
#: only looked for among the compiled parameters, so it need not be a value no row has:
#: it must be one no query has as a constant, and lie within the range of the columns it
#: is compared with, positive ones (a rank) and 32-bit ones included, because Django drops
#: a comparison that is always true (`rank > -1` on a positive column) and a value missing
#: from the parameters makes the query not preparable (compiled on every call).
_STANDIN = 2_000_000_001
_STANDIN_TEXT = "\x1fprepared-standin-{}\x1f"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: list[Any]
    alias: str
    converters: list[tuple[int, tuple[list[Any], Any]]]
    make: Callable[[list[Any]], Model] | None  # a model instance from a row


class _Slot:
    """Where a value goes; `kind`: the type the ORM gave its stand-in (an int, or a
    driver's sized integer such as psycopg's `Int4` for a 32-bit column)."""

    __slots__ = ("kind", "name")

    def __init__(self, name: str, kind: type) -> None:
        self.name = name
        self.kind = kind


def _maker(compiler: Any, alias: str) -> Callable[[list[Any]], Model] | None:
    """What `ModelIterable` does with a row, from the compiler's layout of it."""
    klass_info = compiler.klass_info
    if not klass_info:
        return None
    annotations = list(compiler.annotation_col_map.items())
    select = compiler.select
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, alias)

    def make(row: list[Any]) -> Model:
        obj: Model = model.from_db(alias, names, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in annotations:
            setattr(obj, name, row[position])
        return obj

    return make


class Prepared:
    """A query whose SQL is compiled once per (database, shape): `rows(shape, **values)`
    or `objects(shape, **values)`.

    `build(*shape, **values)` returns the queryset (maybe a union), the values being
    integers (ids, positions) or strings (slugs) compared as they are."""

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self._compiled: dict[Hashable, _Compiled | None] = {}
        self._lock = threading.Lock()

    def _compile(
        self, shape: tuple[Any, ...], values: dict[str, Any], *, standins: bool = True
    ) -> _Compiled | None:
        """The query compiled with stand-ins for `values` (None: not preparable), or,
        `standins` False, with the values themselves."""
        given: dict[str, Any] = {}
        for n, (name, value) in enumerate(sorted(values.items())):
            if not standins:
                given[name] = value
            elif isinstance(value, str):
                given[name] = _STANDIN_TEXT.format(n)
            elif type(value) is int:
                given[name] = _STANDIN + n
            else:
                return None
        queryset = self.build(*shape, **given)
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        slots: list[Any] = list(params)
        if standins:
            by_value = {(type(value), value): name for name, value in given.items()}

            def slot(param: Any) -> Any:
                if type(param) is str:
                    key: tuple[type, Any] = (str, param)
                elif isinstance(param, int) and type(param).__module__.startswith("psycopg"):
                    key = (int, int(param))  # psycopg's Int2/Int4/Int8 for sized columns
                elif type(param) is int:
                    key = (int, param)
                else:
                    return param
                name = by_value.get(key)
                return param if name is None else _Slot(name, type(param))

            slots = [slot(param) for param in params]
            used = {slot.name for slot in slots if isinstance(slot, _Slot)}
            if used != set(given) or any(str(value) in sql for value in given.values()):
                return None
        expressions = [column[0] for column in compiler.select] if compiler.select else []
        converters = list(compiler.get_converters(expressions).items())
        return _Compiled(sql, slots, queryset.db, converters, _maker(compiler, queryset.db))

    def _get(self, shape: tuple[Any, ...], values: dict[str, Any]) -> _Compiled | None:
        key = (shape, tuple(sorted((name, type(value)) for name, value in values.items())))
        if key not in self._compiled:
            with self._lock:
                if key not in self._compiled:
                    self._compiled[key] = self._compile(shape, values)
        return self._compiled[key]

    def _ready(self, shape: tuple[Any, ...], values: dict[str, Any]) -> _Compiled:
        compiled = self._get(shape, values)
        if compiled is None:  # not preparable: compiled each time, as the ORM would
            compiled = self._compile(shape, values, standins=False)
            assert compiled is not None
        return compiled

    def sql(self, shape: tuple[Any, ...] = (), **values: Any) -> tuple[str, list[Any], str]:
        """The SQL, its parameters and the database alias for these values."""
        compiled = self._ready(shape, values)
        return compiled.sql, self._params(compiled, values), compiled.alias

    @staticmethod
    def _params(compiled: _Compiled, values: dict[str, Any]) -> list[Any]:
        return [
            (values[slot.name] if slot.kind in (int, str) else slot.kind(values[slot.name]))
            if isinstance(slot, _Slot)
            else slot
            for slot in compiled.slots
        ]

    def _fetch(self, compiled: _Compiled, values: dict[str, Any]) -> list[list[Any]]:
        connection = connections[compiled.alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, self._params(compiled, values))
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for position, (converters, expression) in compiled.converters:
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
        return rows

    def rows(self, shape: tuple[Any, ...] = (), **values: Any) -> list[tuple[Any, ...]]:
        """The rows of the query (a `values_list`: with flat=True too, one-tuples)."""
        return [tuple(row) for row in self._fetch(self._ready(shape, values), values)]

    def objects(self, shape: tuple[Any, ...] = (), **values: Any) -> list[Any]:
        """The model instances the queryset gives."""
        compiled = self._ready(shape, values)
        if compiled.make is None:
            return list(self.build(*shape, **values))
        return [compiled.make(row) for row in self._fetch(compiled, values)]
