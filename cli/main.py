"""The ``bananapics`` command: operators script every admin action from here (``--json`` on reads).

Sub-apps live one module per topic and are attached below; each command parses, calls one
service and prints.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli import admin_cmd  # `bananapics admin`: textual loads only when it runs
from bananapics.cli import (common, config_cmd, db_cmd, jobs_cmd, ledger_cmd, payments_cmd, providers_cmd,
                            run_cmd, settings_cmd, status_cmd, users_cmd)

app = typer.Typer(
    cls=common.BananaGroup,
    name="bananapics",
    help="BananaPicsBot: run the bot; operator console for database, users, ledger, payments, jobs, providers, settings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main(
    config: Annotated[str | None, typer.Option("--config", "-c", envvar="BANANAPICS_CONFIG",
                                               help="Config file (default: ./config.toml if present).")] = None,
) -> None:
    """Read the config file and environment once for this invocation."""
    common.reset_state(config)


app.add_typer(db_cmd.app, name="db")
app.add_typer(config_cmd.app, name="config")
app.add_typer(users_cmd.app, name="users")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(payments_cmd.app, name="payments")
app.add_typer(settings_cmd.app, name="settings")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(providers_cmd.app, name="providers")
app.add_typer(run_cmd.app, name="run")
app.command("generate")(jobs_cmd.generate)
app.command("worker")(jobs_cmd.worker)
app.command("demo")(jobs_cmd.demo)
app.command("status")(status_cmd.status)
app.command("audit")(status_cmd.audit_log)
app.command("admin")(admin_cmd.admin)


def run() -> None:
    """Console-script entry point."""
    app()
