"""What every CLI command shares: config and database for this invocation, output, errors.

Commands stay thin: parse → one service call → print (a rich table, or JSON with ``--json``).
Service errors (:class:`~bananapics.errors.BananaError`) and usage errors become one line on stderr
and a non-zero exit (1 for a refused action, 2 for bad usage), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any

import peewee as pw
import typer
from rich.console import Console
from rich.table import Table
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError  # typer vendors click (pinned <0.30)
from typer.core import TyperGroup

from bananapics import db as dbm
from bananapics.config import Config, load_config
from bananapics.errors import BananaError
from bananapics.services.audit import Actor
from bananapics.text import UNSAFE, safe_json, safe_terminal

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Operator name for the admin log (default: [operator] name).")]


@dataclass
class State:
    config_path: str | None = None
    config: Config | None = None
    database: pw.Database | None = None
    extra: dict[str, Any] = field(default_factory=dict)


state = State()


def reset_state(config_path: str | None) -> None:
    close_database()
    state.config_path, state.config, state.extra = config_path, None, {}


def config() -> Config:
    if state.config is None:
        state.config = load_config(state.config_path)
    return state.config


def database(require_schema: bool = True) -> pw.Database:
    """Connect on first use; an unreachable server or a missing/old schema is one clear line."""
    if state.database is None:
        state.database = dbm.connect(config().database)
        dbm.check_connection(state.database)
    if require_schema and not state.extra.get("schema_ok"):
        pending = [m.name for m in dbm.migration_status(state.database) if not m.applied]
        if pending:
            raise BananaError(f"the database schema is not up to date ({len(pending)} migration(s) pending): "
                              "run `bananapics db upgrade`")
        state.extra["schema_ok"] = True
    return state.database


def close_database() -> None:
    if state.database is not None:
        dbm.close(state.database)
        state.database = None


def operator(name: str | None) -> Actor:
    if name is not None and (not name.strip() or len(name) > 64 or UNSAFE.search(name)):
        raise typer.BadParameter("1-64 characters, no control or bidi characters", param_hint="'--as'")
    return Actor.operator(name or config().operator.name)


class SafeConsole(Console):
    """A console that never writes a control or bidi character it was given in a string: user text
    (names, reasons, prompts, an argument echoed in an error) is shown with visible escapes
    (:func:`~bananapics.text.safe_terminal`). Tables are built from cleaned cells by :func:`table`."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().print(*(safe_terminal(o) if isinstance(o, str) else o for o in objects), **kwargs)


# Pipes and captures get a wide console so tables are not squeezed to 80 columns. No emoji codes:
# a name like ":fire:" is shown as typed.
out = SafeConsole(highlight=False, markup=False, emoji=False, soft_wrap=True,
                  width=None if sys.stdout.isatty() else 160)
err = SafeConsole(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, dt.datetime) else value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def print_json(data: Any) -> None:
    """JSON on stdout; control, bidi and undecodable characters in strings are ``\\uXXXX`` escapes."""
    sys.stdout.write(safe_json(json.dumps(data, default=_default, ensure_ascii=False, indent=2)) + "\n")


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    grid = Table(title=safe_terminal(title) if title else title, title_justify="left", show_edge=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else safe_terminal(str(cell)) for cell in row))
    out.print(grid)


def fail(message: str, code: int = 1) -> None:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def _check_text_args(args: list[str]) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates, which no database, log or terminal
    can take: the argument is refused before any command runs (the shell can spell any real name)."""
    for number, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"argument {number} ({safe_terminal(arg)}) is not valid UTF-8 text") from None


class BananaGroup(TyperGroup):
    """Turns every failure into one line on stderr with a non-zero exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        args = sys.argv[1:] if args is None else list(args)
        try:
            _check_text_args(args)
            code = super().main(args=args, prog_name=prog_name or "bananapics", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            code = 0
        except ClickException as exc:
            err.print(f"error: {exc.format_message()} (see --help)", markup=False)
            code = exc.exit_code
        except BananaError as exc:
            err.print(f"error: {exc.msg}", markup=False)
            code = 1
        except typer.Abort:
            err.print("aborted", markup=False)
            code = 1
        except pw.DatabaseError as exc:  # a server gone mid-command, a lock timeout …
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            err.print(f"error: database error: {first}", markup=False)
            code = 1
        finally:
            close_database()
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code
