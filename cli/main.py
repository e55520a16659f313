"""The ``bananapics`` command: operators script every admin action from here (``--json`` on reads).

A LAZY registry: :data:`COMMANDS` names each top-level command, the module that holds it and its
one-line help. A command's module (and whatever heavy client it needs: redis, httpx, huey, boto3,
telethon) is imported only when that command runs, so `bananapics users show 5` costs little more
than importing typer and peewee (``bench/startup.py``). ``--help`` lists the commands from the
registry without importing any of them. A new command is one line here.

Conventions every command follows (README "Commands"): ``--json`` on every read, one line on stderr
for an error, the exit codes of :data:`bananapics.cli.common.EXIT_CODES`, ``--yes`` to skip the
confirmation of a destructive command, an ``Example:`` in every ``--help``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli import common

# name: (module under bananapics.cli, attribute: a Typer app or a command function, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("run_cmd", "app", "Run the Telegram bot (and, with `all`, the worker in the same process)."),
    "worker": ("jobs_cmd", "worker", "Run the Huey consumer: generation jobs and, unless --no-periodic, the sweeper."),
    "demo": ("jobs_cmd", "demo", "Chat with the real bot in this terminal: offline images, SQLite, simulated Telegram."),
    "db": ("db_cmd", "app", "Schema migrations."),
    "config": ("config_cmd", "app", "Configuration."),
    "status": ("status_cmd", "status", "What this installation runs on: database, migrations, queue, keys, totals."),
    "users": ("users_cmd", "app", "Users: list, lookup, search, bans, roles and erasure (forget)."),
    "ledger": ("ledger_cmd", "app", "The token ledger: statements, corrections, invariant checks."),
    "payments": ("payments_cmd", "app", "Telegram Stars payments: list, show, refund, reconcile."),
    "settings": ("settings_cmd", "app", "Run-time settings."),
    "jobs": ("jobs_cmd", "app", "Generation jobs."),
    "generate": ("jobs_cmd", "generate", "Run one job through the real pipeline and write its images."),
    "providers": ("providers_cmd", "app", "Image providers."),
    "models": ("models_cmd", "app", "AI models: on/off, default, prices, extras and limits."),
    "packages": ("packages_cmd", "app", "Top-up packages: Stars, tokens, bonus, on sale or not, order."),
    "templates": ("templates_cmd", "app", "Prompt templates: list, edit, hide, pin, delete, export/import."),
    "referral": ("referral_cmd", "app", "The referral programme: percent, mode, on/off."),
    "toggles": ("toggles_cmd", "app", "Feature toggles and maintenance mode."),
    "audit": ("audit_cmd", "audit_log", "The admin action log, newest first, with filters."),
    "export": ("export_cmd", "export", "Stream ledger transfers, payments or jobs for a date range as CSV or JSON lines."),
    "admin": ("admin_cmd", "admin", "Open the admin console (TUI): dashboard, users, ledger audit, pricing, templates, jobs, log."),
    "doctor": ("doctor_cmd", "doctor", "Check every part this installation needs, one line each; exit 1 on any failure."),
    "broadcast": ("broadcast_cmd", "app", "Broadcasts to every user or a segment: create, status, pause, resume, cancel."),
}

app = typer.Typer(
    cls=common.BananaGroup,
    name="bananapics",
    help="BananaPicsBot: run the bot; operator console for every admin action.\n\n"
         "Example: bananapics users show 123456789 --json",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
common.BananaGroup.registry = COMMANDS


@app.callback()
def main(
    config: Annotated[str | None, typer.Option("--config", "-c", envvar="BANANAPICS_CONFIG",
                                               help="Config file (default: ./config.toml if present).")] = None,
    as_user: Annotated[int | None, typer.Option("--as-user", metavar="TGID",
                                                help="Act with this Telegram user's role from the database (the "
                                                     "admin log names tg:TGID); for trying what support or a user "
                                                     "may do.")] = None,
) -> None:
    """Read the config file and environment once for this invocation."""
    common.reset_state(config, as_user=as_user)


def run() -> None:
    """Console-script entry point."""
    app()
