"""Exports of ledger transfers, payments and jobs for a date range, as CSV or JSON lines.

Streamed in constant memory whatever the range: on Postgres the server writes the rows itself
(``COPY (SELECT …) TO STDOUT``, read in chunks by psycopg2), on SQLite a cursor is read a batch at a
time. Rows come oldest first (``created_at``, ``id``: the ``(created_at, id)`` indexes of 0012), users
as Telegram ids, timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` UTC, both engines byte-compatible
in CSV.

**Spreadsheet safety.** A CSV text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'``, so a user's name, prompt or a reason can never run as a formula when the
file is opened in a spreadsheet (OWASP "CSV injection"). Numbers are left alone (a number column holds
only digits and a sign). JSON lines are exact (no spreadsheet reads them).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import IO, Any

from bananapics.db import connection, is_postgres
from bananapics.errors import InvalidInput
from bananapics.models import db
from bananapics.services import audit, lists
from bananapics.services.audit import Actor

FORMATS = ("csv", "jsonl")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000  # SQLite rows per fetch


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    text: bool = False  # user or operator text: escaped in CSV
    stamp: bool = False


def _c(name: str, sql: str | None = None, **kw: bool) -> Column:
    return Column(name, sql or f"x.{name}", **kw)


@dataclass(frozen=True)
class Source:
    table: str
    columns: tuple[Column, ...]
    joins: str
    user_filter: str  # SQL condition on x naming one users.id ({p} = the parameter mark)


SOURCES = {
    "transfers": Source("transfers", (
        _c("id"), _c("created_at", stamp=True), _c("kind", text=True), _c("ref", text=True), _c("amount"),
        _c("debit_account", text=True), _c("debit_user", "du.tg_id"), _c("credit_account", text=True),
        _c("credit_user", "cu.tg_id"), _c("actor", text=True), _c("reason", text=True),
    ), "LEFT JOIN users du ON du.id = x.debit_user_id LEFT JOIN users cu ON cu.id = x.credit_user_id",
        "(x.debit_user_id = {p} OR x.credit_user_id = {p})"),
    "payments": Source("payments", (
        _c("id"), _c("created_at", stamp=True), _c("charge_id", text=True), _c("user", "u.tg_id"), _c("stars"),
        _c("tokens"), _c("bonus_tokens"), _c("status", text=True), _c("source", text=True),
        _c("refunded_at", stamp=True), _c("refunded_by", text=True), _c("refund_reason", text=True),
        _c("refund_debt"),
    ), "JOIN users u ON u.id = x.user_id", "x.user_id = {p}"),
    "jobs": Source("jobs", (
        _c("id", text=True), _c("created_at", stamp=True), _c("user", "u.tg_id"), _c("model", text=True),
        _c("provider", text=True), _c("status", text=True), _c("count"), _c("cost"), _c("attempts"),
        _c("error_kind", text=True), _c("started_at", stamp=True), _c("finished_at", stamp=True),
        _c("source", text=True), _c("prompt", text=True),
    ), "JOIN users u ON u.id = x.user_id", "x.user_id = {p}"),
}
KINDS = tuple(SOURCES)


def header(kind: str) -> list[str]:
    return [c.name for c in _source(kind).columns]


def safe_cell(value: Any) -> Any:
    """A CSV cell that cannot start a formula (see the module docstring)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _source(kind: str) -> Source:
    if kind not in SOURCES:
        raise InvalidInput(f"unknown export {kind!r}; choose {', '.join(KINDS)}")
    return SOURCES[kind]


def write(kind: str, out: IO[bytes], *, actor: Actor, fmt: str = "csv", since: dt.datetime | None = None,
          until: dt.datetime | None = None, user: int | None = None) -> int:
    """Write every ``kind`` row created in [since, until) (of Telegram user ``user``) to the binary
    stream ``out`` in ``fmt``; returns the number of rows."""
    source = _source(kind)
    audit.authorize(actor, "read", kind)
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")
    if since is not None and until is not None and since >= until:
        raise InvalidInput("--since must be before --until")
    with connection():
        where, params = ["TRUE" if is_postgres() else "1"], []
        mark = db.obj.param
        if since is not None:
            where.append(f"x.created_at >= {mark}")
            params.append(since)
        if until is not None:
            where.append(f"x.created_at < {mark}")
            params.append(until)
        if user is not None:
            uid = lists._user_id(user)  # NotFound for an unknown user, InvalidInput for a bad id
            where.append(source.user_filter.format(p=mark))
            params += [uid] * source.user_filter.count("{p}")
        tail = f"FROM {source.table} x {source.joins} WHERE {' AND '.join(where)} ORDER BY x.created_at, x.id"
        if is_postgres():
            return _postgres(source, tail, params, fmt, out)
        return _sqlite(source, tail, params, fmt, out)


def _pg_value(column: Column, fmt: str) -> str:
    sql = f"{column.sql}::text" if column.stamp else column.sql
    if column.text and fmt == "csv":
        sql = (f"CASE WHEN left({sql}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
               f"THEN '''' || {sql} ELSE {sql} END")
    return sql


def _postgres(source: Source, tail: str, params: list, fmt: str, out: IO[bytes]) -> int:
    if fmt == "csv":
        select = ", ".join(f'{_pg_value(c, fmt)} AS "{c.name}"' for c in source.columns)
        options = "FORMAT csv, HEADER"
    else:
        pairs = ", ".join(f"'{c.name}', {_pg_value(c, fmt)}" for c in source.columns)
        select = f"json_build_object({pairs})::text"
        # JSON escapes every control character, so with these two never-seen characters as quote and
        # delimiter, CSV mode writes each object verbatim, one per line (text mode would double "\").
        options = "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"
    cursor = db.obj.connection().cursor()
    query = cursor.mogrify(f"COPY (SELECT {select} {tail}) TO STDOUT WITH ({options})", params).decode()
    try:
        cursor.copy_expert(query, out, size=1 << 16)
        return max(cursor.rowcount, 0)
    finally:
        cursor.close()


def _stamp(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return str(value)
    return value


def _sqlite(source: Source, tail: str, params: list, fmt: str, out: IO[bytes]) -> int:
    select = ", ".join(c.sql for c in source.columns)
    cursor = db.obj.execute_sql(f"SELECT {select} {tail}", params)
    names = [c.name for c in source.columns]
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    rows = 0
    try:
        if fmt == "csv":
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(names)
            escape = [c.text for c in source.columns]
            while batch := cursor.fetchmany(BATCH):
                writer.writerows([safe_cell(v) if e else v for v, e in zip(row, escape)] for row in batch)
                rows += len(batch)
        else:
            while batch := cursor.fetchmany(BATCH):
                text.writelines(json.dumps(dict(zip(names, map(_stamp, row))), ensure_ascii=False) + "\n"
                                for row in batch)
                rows += len(batch)
        text.flush()
    finally:
        text.detach()  # the caller owns ``out``
        cursor.close()
    return rows
