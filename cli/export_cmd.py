"""``bananapics export transfers|payments|jobs``: a date range as CSV or JSON lines, streamed.

The rows go to stdout, or with ``--out FILE`` to a file that appears only once complete (written
next to it, then renamed: an interrupted export leaves no half file). The row count goes to stderr,
so stdout stays pure data. Exit codes: 0 ok, 1 refused, 2 usage (bad date, format, kind, an --out
that cannot be created), 3 not found (--user), 4 forbidden.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from bananapics.cli.common import database, err, fail, operator
from bananapics.errors import NotFound, PermissionDenied
from bananapics.services import export as export_service

EXIT_USAGE, EXIT_NOT_FOUND, EXIT_FORBIDDEN = 2, 3, 4

Kind = Enum("Kind", {k: k for k in export_service.KINDS}, type=str)  # type: ignore[misc]
Format = Enum("Format", {f: f for f in export_service.FORMATS}, type=str)  # type: ignore[misc]


def _when(value: str | None, option: str) -> dt.datetime | None:
    """``2025-01-31`` (midnight UTC) or ``2025-01-31T12:00[:00]`` (UTC)."""
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip()).replace(tzinfo=None) if "T" in value or " " in value.strip() \
            else dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)", param_hint=option) from None


def export(
    kind: Annotated[Kind, typer.Argument(help="What to export: transfers, payments or jobs.")],
    since: Annotated[str | None, typer.Option(help="From this UTC date or time on (YYYY-MM-DD[THH:MM]).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this UTC date or time (exclusive).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="csv (spreadsheet-safe cells) or jsonl.")] = Format.csv,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    user: Annotated[int | None, typer.Option("--user", help="Only rows of this Telegram user id.")] = None,
) -> None:
    """Export ledger transfers, payments or jobs created in [--since, --until), oldest first, in constant memory.

    CSV text cells starting with = + - @ get a leading ' so no cell runs as a spreadsheet formula.

    Example: bananapics export transfers --since 2025-01-01 --until 2025-02-01 --format csv --out jan.csv
    """
    start, end = _when(since, "'--since'"), _when(until, "'--until'")
    if start is not None and end is not None and start >= end:
        raise typer.BadParameter("must be before --until", param_hint="'--since'")
    database()
    actor = operator(None)
    try:
        if out_file is None:
            rows = export_service.write(kind.value, sys.stdout.buffer, actor=actor, fmt=fmt.value, since=start,
                                        until=end, user=user)
            sys.stdout.buffer.flush()
        else:
            rows = _to_file(out_file, kind.value, actor, fmt.value, start, end, user)
    except NotFound as exc:
        fail(exc.msg, EXIT_NOT_FOUND)
    except PermissionDenied as exc:
        fail(exc.msg, EXIT_FORBIDDEN)
    err.print(f"{rows} {kind.value} row(s)" + (f" written to {out_file}" if out_file else ""))


def _to_file(path: Path, kind: str, actor, fmt: str, since, until, user) -> int:
    partial = path.with_name(path.name + ".partial")
    try:
        handle = open(partial, "wb")
    except OSError as exc:
        fail(f"cannot create {path}: {exc.strerror}", EXIT_USAGE)
    try:
        with handle:
            rows = export_service.write(kind, handle, actor=actor, fmt=fmt, since=since, until=until, user=user)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return rows
