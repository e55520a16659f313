"""``bananapics referral show|set``: the referral programme's rule."""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import AsOpt, JsonOpt, ReasonOpt, database, group, operator, out, print_json
from bananapics.services import console

app = group("The referral programme: percent, mode, on/off.")


def _print(data: dict, as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    out.print(f"referrals {'on' if data['enabled'] else 'OFF'}: {data['percent']}% cashback on "
              f"{'every top-up' if data['mode'] == 'every' else 'the first top-up only'} of an invited friend"
              + (f", spendable after {data['cashback_lock_days']} day(s)" if data["cashback_lock_days"] else ""))


@app.command()
def show(as_json: JsonOpt = False) -> None:
    """The referral rule: on/off, cashback percent, every or first top-up.

    --json prints {enabled, percent, mode, cashback_lock_days}.

    Example: bananapics referral show --json
    """
    database()
    _print(console.referral_view(actor=operator(None)), as_json)


@app.command("set")
def set_(percent: Annotated[str | None, typer.Option("--percent", help="Cashback % of a friend's top-up (0-100).")] = None,
         mode: Annotated[str | None, typer.Option("--mode", help="every (each top-up) or first (the first only).")] = None,
         enabled: Annotated[bool | None, typer.Option("--on/--off", help="Switch the programme on or off.")] = None,
         reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Change the referral rule; every change is logged, all of them in one transaction.

    Example: bananapics referral set --percent 15 --mode first --on --reason "spring campaign"
    """
    if percent is None and mode is None and enabled is None:
        raise typer.BadParameter("give --percent, --mode and/or --on/--off", param_hint="'--percent'")
    actor = operator(as_)
    database()
    _print(console.set_referral(actor=actor, percent=percent, mode=mode, enabled=enabled, reason=reason), as_json)
