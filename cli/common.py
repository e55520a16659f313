"""What every CLI command shares: config and database for this invocation, output, errors.

Commands stay thin: parse → one service call → print (a rich table, or JSON with ``--json``).
Service errors (:class:`~bananapics.errors.BananaError`) and usage errors become one line on stderr
and a non-zero exit (:data:`EXIT_CODES`), never a traceback. Nothing heavy is imported here: the
config, the database layer and rich load when a command first needs them.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import importlib
import json
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import peewee as pw
import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError  # typer vendors click (pinned <0.29)
from typer.core import TyperGroup

from bananapics.errors import BananaError, NotFound, PermissionDenied, TelegramError
from bananapics.text import UNSAFE, safe_json, safe_terminal

if TYPE_CHECKING:  # imported when first used: rich and the models cost start-up time
    from bananapics.config import Config
    from bananapics.services.audit import Actor

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Operator name for the admin log (default: [operator] name).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", "-r", help="Why (kept in the admin log).")]

# The one table of exit codes (README "Commands" shows it).
OK, REFUSED, USAGE, NOT_FOUND, FORBIDDEN, UNAVAILABLE = 0, 1, 2, 3, 4, 5
EXIT_CODES = {
    OK: "done",
    REFUSED: "refused: a service said no (bad value, overdraft, missing reason, already done …), a ledger "
             "breach or a mismatch found, or a confirmation answered no",
    USAGE: "usage: the command line does not parse (unknown command or option, missing or malformed argument)",
    NOT_FOUND: "not found: no such user, model, package, template, job, payment …",
    FORBIDDEN: "forbidden: the acting role may not do this (see --as-user)",
    UNAVAILABLE: "unavailable: the database is unreachable or not migrated, or Telegram or storage failed",
}


UNAVAILABLE_TITLE = "unavailable"


def unavailable(message: str) -> BananaError:
    """Something the command needs is not there (database down or not migrated): exit 5."""
    return BananaError(message, title=UNAVAILABLE_TITLE)


def exit_code(exc: BaseException) -> int:
    """The exit code for an error a command raised."""
    if isinstance(exc, NotFound):
        return NOT_FOUND
    if isinstance(exc, PermissionDenied):
        return FORBIDDEN
    if isinstance(exc, TelegramError) or (isinstance(exc, BananaError) and exc.title == UNAVAILABLE_TITLE):
        return UNAVAILABLE
    if any(cls.__name__ == "StorageError" for cls in type(exc).__mro__):  # bananapics.storage: not imported here
        return UNAVAILABLE
    if isinstance(exc, (pw.OperationalError, pw.InterfaceError)):
        return UNAVAILABLE
    return REFUSED


@dataclass
class State:
    config_path: str | None = None
    config: Config | None = None
    database: pw.Database | None = None
    as_user: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


state = State()


def reset_state(config_path: str | None, as_user: int | None = None) -> None:
    close_database()
    state.config_path, state.config, state.extra, state.as_user = config_path, None, {}, as_user


def config() -> Config:
    if state.config is None:
        from bananapics.config import load_config

        state.config = load_config(state.config_path)
    return state.config


def database(require_schema: bool = True) -> pw.Database:
    """Connect on first use; an unreachable server or a missing/old schema is one clear line (exit 5)."""
    from bananapics import db as dbm
    from bananapics.errors import ConfigError

    if state.database is None:
        state.database = dbm.connect(config().database)
        try:
            dbm.check_connection(state.database)
        except ConfigError as exc:
            raise unavailable(exc.msg) from None
    if require_schema and not state.extra.get("schema_ok"):
        pending = dbm.pending_migrations(state.database)
        if pending:
            raise unavailable(f"the database schema is not up to date ({len(pending)} migration(s) pending): "
                              "run `bananapics db upgrade`")
        state.extra["schema_ok"] = True
    return state.database


def close_database() -> None:
    if state.database is not None:
        from bananapics import db as dbm

        dbm.close(state.database)
        state.database = None


def operator(name: str | None) -> Actor:
    """Who acts: the operator (``cli:<name>``, admin), or with ``--as-user TGID`` that Telegram user
    with the role their database row holds (``tg:<TGID>``)."""
    from bananapics.services.audit import Actor

    if name is not None and (not name.strip() or len(name) > 64 or UNSAFE.search(name)):
        raise typer.BadParameter("1-64 characters, no control or bidi characters", param_hint="'--as'")
    if state.as_user is not None:
        if name is not None:
            raise typer.BadParameter("--as names an operator; --as-user acts as a Telegram user: give one",
                                     param_hint="'--as'")
        from bananapics.services import users

        database()
        return Actor.for_user(users.get(state.as_user).id)
    return Actor.operator(name or config().operator.name)


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive change unless ``--yes``; "no" (or no answer) stops with exit 1."""
    if yes:
        return
    if not typer.confirm(safe_terminal(question) + "?", default=False):
        raise typer.Abort()


def group(help: str) -> typer.Typer:
    """A command group as every module makes it (plain help text, no rich markup)."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, add_completion=False)


_RELATIVE = re.compile(r"(\d{1,6})([mhd])")


def when(value: str | None, option: str) -> dt.datetime | None:
    """``--since``/``--until``: an ISO date or time (UTC), or a span back from now: ``30m``, ``24h``, ``7d``."""
    if value is None:
        return None
    text = value.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        from bananapics.models.base import utcnow

        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return utcnow() - dt.timedelta(**{unit: int(match.group(1))})
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (2025-01-31, 2025-01-31T12:00) or a span (30m, 24h, 7d)",
                                 param_hint=f"'{option}'") from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp


class _LazyConsole:
    """The rich console, made on first print (importing rich costs start-up time)."""

    def __init__(self, stderr: bool) -> None:
        self._stderr, self._console = stderr, None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            self._console = _make_console(self._stderr)
        return getattr(self._console, name)


def _make_console(stderr: bool):
    from rich.console import Console

    class SafeConsole(Console):
        """A console that never writes a control or bidi character it was given in a string: user text
        (names, reasons, prompts, an argument echoed in an error) is shown with visible escapes
        (:func:`~bananapics.text.safe_terminal`). Tables are built from cleaned cells by :func:`table`."""

        def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
            super().print(*(safe_terminal(o) if isinstance(o, str) else o for o in objects), **kwargs)

    # Pipes and captures get a wide console so tables are not squeezed to 80 columns. No emoji codes:
    # a name like ":fire:" is shown as typed.
    if stderr:
        return SafeConsole(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)
    return SafeConsole(highlight=False, markup=False, emoji=False, soft_wrap=True,
                       width=None if sys.stdout.isatty() else 160)


class _ErrorLine:
    """stderr for one-line messages: no rich console needed (it costs start-up time on every error)."""

    def print(self, text: str, **_: Any) -> None:
        sys.stderr.write(safe_terminal(text) + "\n")
        sys.stderr.flush()


out = _LazyConsole(stderr=False)
err = _ErrorLine()


def fields(data: dict[str, Any]) -> None:
    """One record as aligned ``key  value`` lines (no table machinery for a single row)."""
    width = max((len(k) for k in data), default=0)
    lines = []
    for key, value in data.items():
        shown = "" if value is None else (json.dumps(value, ensure_ascii=False, default=_default)
                                          if isinstance(value, (dict, list)) else str(value))
        lines.append(f"{key.ljust(width)}  {safe_terminal(shown)}")
    sys.stdout.write("\n".join(lines) + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, dt.datetime) else value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def print_json(data: Any) -> None:
    """JSON on stdout; control, bidi and undecodable characters in strings are ``\\uXXXX`` escapes."""
    sys.stdout.write(safe_json(json.dumps(data, default=_default, ensure_ascii=False, indent=2)) + "\n")


def print_page(items: list[Any], next_cursor: str | None) -> None:
    """A paged list as JSON: ``{"items": [...], "next": cursor or null}`` (give ``--after`` the cursor)."""
    print_json({"items": items, "next": next_cursor})


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    grid = Table(title=safe_terminal(title) if title else title, title_justify="left", show_edge=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else safe_terminal(str(cell)) for cell in row))
    out.print(grid)


def fail(message: str, code: int = REFUSED) -> None:
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


class LazyCommands(TyperGroup):
    """A group that lists its commands by name (:attr:`lazy`) and builds one (:meth:`build`) only
    when it runs; "Did you mean …?" draws on every listed name."""

    lazy: dict[str, Any] = {}

    def build(self, name: str) -> Any:
        raise NotImplementedError

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        return _suggest(self, ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = self.build(cmd_name)
        return self.commands.get(cmd_name)


class BananaGroup(LazyCommands):
    """The root command: loads each command from :attr:`registry` only when it runs (``--help``
    lists them from the registry alone), and turns every failure into one line on stderr with the
    exit code of :data:`EXIT_CODES`."""

    registry: dict[str, tuple[str, str, str]] = {}

    @property
    def lazy(self) -> dict[str, Any]:  # type: ignore[override]
        return self.registry

    def build(self, name: str) -> Any:
        return load_command(name, self.registry[name])

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, self.registry[name][2] if name in self.registry else self.commands[name].get_short_help_str())
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
            code = exit_code(exc)
        except typer.Abort:
            err.print("aborted", markup=False)
            code = 1
        except pw.DatabaseError as exc:  # a server gone mid-command, a lock timeout …
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            err.print(f"error: database error: {first}", markup=False)
            code = exit_code(exc)
        finally:
            close_database()
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _suggest(group: TyperGroup, ctx: Any, args: list[str]) -> tuple[Any, Any, list[str]]:
    """``resolve_command`` with "Did you mean …?" drawn from every name the group lists (typer's
    own looks only at the commands already built)."""
    try:
        return group._click_resolve_command(ctx, args)
    except UsageError as exc:
        matches = difflib.get_close_matches(args[0], group.list_commands(ctx)) if args else []
        if matches and "Did you mean" not in exc.message:
            exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(repr(m) for m in matches)}?"
        raise


class LazyGroup(LazyCommands):
    """A command group whose subcommands are built when they run: typer builds every command of a
    group (each parameter's type resolved) to run one, ~1-3 ms a command; a group has up to 20."""

    infos: dict[str, Any] = {}

    @property
    def lazy(self) -> dict[str, Any]:  # type: ignore[override]
        return self.infos

    def build(self, name: str) -> Any:
        return typer.main.get_command_from_info(self.infos[name], pretty_exceptions_short=True, rich_markup_mode=None)


def lazy_group(app: typer.Typer) -> LazyGroup:
    """``typer.main.get_group(app)`` with its commands left for :class:`LazyGroup` to build."""
    shell = copy.copy(app)
    shell.registered_commands = []
    group = typer.main.get_group(shell)
    group.__class__ = LazyGroup
    group.infos = {info.name or typer.main.get_command_name(info.callback.__name__): info
                   for info in app.registered_commands}
    return group


def load_command(name: str, entry: tuple[str, str, str]) -> Any:
    """The click command for a registry entry: the module is imported now, not before."""
    module_name, attribute, _ = entry
    target = getattr(importlib.import_module(f"bananapics.cli.{module_name}"), attribute)
    if isinstance(target, typer.Typer):
        command = lazy_group(target)  # a group even with one command (`config show`)
    else:  # a single command function
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command
