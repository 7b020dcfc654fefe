"""Database refusals no retry can cure, and which column each one is about.

PostgreSQL says "value too long for type character varying(100)" or "integer out of range" without
naming the column; SQLite keeps long text but cannot bind an integer beyond 64 bits. Either way the
same write fails again on every retry, so the caller must stop retrying and tell a person what the
data was. `describe` finds the column by comparing the statement's values with the models' column
types, and never repeats a value (it may be a customer's e-mail or address).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, String, Table
from sqlalchemy.exc import DataError, StatementError

from domain import limits
from persistence.guarded_writes.inventory import TooMuchStock
from persistence.models import Base

PERMANENT = (DataError, OverflowError, TooMuchStock)
"""What a retry cannot fix: the value does not fit (SQLAlchemy wraps PostgreSQL's data exceptions,
e.g. string truncation or numeric out of range, as DataError; SQLite's driver raises OverflowError
for an integer beyond 64 bits, wrapped or not; a stock record refuses a count past 32 bits)."""

_TABLES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE)\s+\"?(\w+)\"?", re.IGNORECASE)
_ROW_SUFFIX = re.compile(r"(?:__\d+|_m\d+|_\d+)$")
_INT_RANGE = {Integer: limits.INTEGER_MAX, BigInteger: limits.BIGINT_MAX}


def is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, PERMANENT):
        return True
    return isinstance(exc, StatementError) and isinstance(exc.orig, PERMANENT)


def describe(exc: BaseException) -> str:
    """A readable account of why the database refused the write, naming the columns whose values
    do not fit (e.g. "order_lines.title: 301 characters, the column holds 300")."""
    found = sorted(set(_misfits(exc)))
    if found:
        return "; ".join(found)
    return f"the database refused a value: {_first_line(exc)}"


def _misfits(exc: BaseException) -> Iterator[str]:
    if not isinstance(exc, StatementError) or not exc.statement:
        return
    tables = [Base.metadata.tables[name] for name in _TABLES.findall(exc.statement) if name in Base.metadata.tables]
    for row in _rows(exc.params):
        for key, value in row.items():
            for table in tables:
                column = _column(table, key)
                if column is not None:
                    problem = _misfit(column, value)
                    if problem:
                        yield f"{table.name}.{column.name}: {problem}"


def _rows(params: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(params, Mapping):
        yield params
    elif isinstance(params, list | tuple):
        for item in params:
            if isinstance(item, Mapping):
                yield item


def _column(table: Table, key: str) -> Column[Any] | None:
    for name in (key, _ROW_SUFFIX.sub("", key)):
        if name in table.columns:
            return table.columns[name]
    return None


def _misfit(column: Column[Any], value: object) -> str | None:
    kind = column.type
    if isinstance(value, str) and isinstance(kind, String) and kind.length is not None and len(value) > kind.length:
        return f"{len(value)} characters, the column holds {kind.length}"
    if isinstance(value, int) and not isinstance(value, bool):
        for integer, most in _INT_RANGE.items():
            if type(kind) is integer and abs(value) > most:
                bits = 32 if integer is Integer else 64
                return f"{value} does not fit a {bits}-bit integer column"
    return None


def _first_line(exc: BaseException) -> str:
    """The driver's own words without the statement or its parameters (they may hold personal data)."""
    orig = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
