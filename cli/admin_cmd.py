"""``bananapics admin``: open the Textual operator console (recorded as ``tui:<name>``).

Textual loads only when this command runs, so other commands start no slower.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import AsOpt, config, database, operator
from bananapics.services.audit import Actor


def admin(as_: AsOpt = None,
          refresh: Annotated[float, typer.Option(min=0.5, max=3600, help="Dashboard refresh, seconds.")] = 5.0) -> None:
    """Open the admin console: dashboard, users, ledger audit (ctrl+p lists every screen and action).

    Example: bananapics admin --as alice
    """
    from bananapics import botapi
    from bananapics.services import system
    from bananapics.tui.app import create_app

    name = operator(as_).name.split(":", 1)[1]  # validated like every --as
    database()
    cfg = config()
    from bananapics.wiring import build_tasks

    tasks = build_tasks(cfg)
    create_app(actor=Actor.operator(name, channel="tui"), telegram=lambda: botapi.from_config(cfg),
               provider_keys=system.provider_keys(cfg), refresh_s=refresh, enqueue=tasks.enqueue).run()
