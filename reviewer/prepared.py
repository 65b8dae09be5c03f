"""ORM queries compiled to SQL once per process, then run again with other values.

Building and compiling a Django queryset costs far more CPU than the database takes to
answer it when it is a look-up along an index (a few milliseconds against a tenth of one,
for the screening queue's probes): the screening decision makes a handful of such
queries on every key press. A `Prepared` query is still written with the ORM, so its SQL
is the ORM's and stays one source; it is built once with stand-in values, compiled, and
afterwards only its parameters change.

How: the builder is called with a stand-in for each value (negative integers no row id
takes); the compiled parameters that equal a stand-in are the slots the values go into.
Whatever the builder decides in Python (which filters, which order, a LIMIT) belongs to
the query's `shape`, part of the key it is kept under. When a stand-in does not come out
as exactly one parameter per use (inlined into the SQL, or transformed on the way), the
query is not kept and is compiled on every call, as the ORM would: never a wrong answer.

Rows come back as the database driver gives them, without Django's converters: meant for
ids, integers and strings (on SQLite a boolean is 0 or 1, a date a string).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

#: The first stand-in value; each value of a query gets its own, counting down.
_STANDIN = -7_300_000_001


class Prepared:
    """A query whose SQL is compiled once per (database, shape): `rows(shape, **values)`.

    `build(*shape, **values)` returns the queryset (a `values_list`, maybe a union), the
    values being integers (ids, positions)."""

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self._compiled: dict[Hashable, tuple[str, list[Any], str] | None] = {}
        self._lock = threading.Lock()

    def _compile(
        self, shape: tuple[Any, ...], names: list[str]
    ) -> tuple[str, list[Any], str] | None:
        standins = {name: _STANDIN - n for n, name in enumerate(names)}
        queryset = self.build(*shape, **standins)
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
        by_value = {value: name for name, value in standins.items()}
        slots: list[Any] = []
        for param in params:
            if type(param) is int and param in by_value:
                slots.append(_Slot(by_value[param]))
            else:
                slots.append(param)
        used = {slot.name for slot in slots if isinstance(slot, _Slot)}
        inlined = any(str(value) in sql for value in standins.values())
        if used != set(names) or inlined:
            return None
        return sql, slots, queryset.db

    def sql(self, shape: tuple[Any, ...] = (), **values: int) -> tuple[str, list[Any], str]:
        """The SQL, its parameters and the database alias for these values."""
        names = sorted(values)
        key = (shape, tuple(names))
        if key not in self._compiled:
            with self._lock:
                if key not in self._compiled:
                    self._compiled[key] = self._compile(shape, names)
        compiled = self._compiled[key]
        if compiled is None:  # not preparable: compiled each time
            queryset = self.build(*shape, **values)
            sql, params = queryset.query.get_compiler(queryset.db).as_sql()
            return sql, list(params), queryset.db
        sql, slots, alias = compiled
        params = [values[slot.name] if isinstance(slot, _Slot) else slot for slot in slots]
        return sql, params, alias

    def rows(self, shape: tuple[Any, ...] = (), **values: int) -> list[tuple[Any, ...]]:
        sql, params, alias = self.sql(shape, **values)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
