"""``bananapics settings show|set``: admin-tunable settings (referral %, mode, …)."""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import AsOpt, JsonOpt, database, out, print_json, table, group
from bananapics.services import settings

app = group("Run-time settings.")


@app.command()
def show(as_json: JsonOpt = False) -> None:
    """Every setting with its value and meaning.

    Example: bananapics settings show --json
    """
    database()
    values = settings.all_settings()
    if as_json:
        print_json(values)
        return
    table(None, ["key", "value", "meaning"],
          [[key, value, settings.REGISTRY[key].help] for key, value in values.items()])


@app.command("set")
def set_(key: Annotated[str, typer.Argument(help="Setting name, e.g. referral.percent.")],
         value: Annotated[str, typer.Argument(help="New value.")],
         reason: Annotated[str | None, typer.Option("--reason", "-r")] = None,
         as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Change a setting; running bots and workers see it at their next read.

    Example: bananapics settings set limits.user_parallel_jobs 3 --reason "more capacity"
    """
    from bananapics.cli.common import operator

    database()
    new = settings.set_value(key, value, actor=operator(as_), reason=reason)
    if as_json:
        print_json({key: new})
    else:
        out.print(f"{key} = {new}")
