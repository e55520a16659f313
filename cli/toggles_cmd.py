"""``bananapics toggles show|set|maintenance``: feature toggles and maintenance mode."""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import (AsOpt, JsonOpt, ReasonOpt, YesOpt, confirm, database, group, operator, out,
                                   print_json, table)
from bananapics.services import console, maintenance, toggles

app = group("Feature toggles and maintenance mode.")


def _show(data: dict, as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    table(None, ["toggle", "state"],
          [[f"features.{name}", "on" if on else "OFF"] for name, on in data["features"].items()]
          + [["maintenance", "ON" if data["maintenance"]["enabled"] else "off"]]
          + [[f"maintenance message ({lang})", text or "(built-in text)"]
             for lang, text in data["maintenance"]["messages"].items()])


@app.command()
def show(as_json: JsonOpt = False) -> None:
    """Every feature toggle, maintenance mode and its message per language.

    --json prints {features: {templates, referrals, topups}, maintenance: {enabled, messages: {uz, ru, en}}}.

    Example: bananapics toggles show --json
    """
    database()
    _show(console.toggles_view(actor=operator(None)), as_json)


@app.command("set")
def set_(feature: Annotated[str, typer.Argument(help=f"{', '.join(toggles.FEATURES)}.")],
         state: Annotated[str, typer.Argument(help="on or off.")],
         reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Switch a feature on or off for every user; bots and workers see it within seconds.

    Example: bananapics toggles set topups off --reason "payment provider incident"
    """
    if state not in ("on", "off"):
        raise typer.BadParameter(f"{state!r} is not on or off", param_hint="'STATE'")
    actor = operator(as_)
    database()
    toggles.set_feature(feature, state == "on", actor=actor, reason=reason)
    _show(console.toggles_view(actor=actor), as_json)


@app.command("maintenance")
def maintenance_(state: Annotated[str, typer.Argument(help="on or off.")],
                 message: Annotated[str | None, typer.Option("--message", "-m", help="What users are told, in "
                                                             "every language (empty: the built-in text).")] = None,
                 message_uz: Annotated[str | None, typer.Option("--message-uz", help="The Uzbek message.")] = None,
                 message_ru: Annotated[str | None, typer.Option("--message-ru", help="The Russian message.")] = None,
                 message_en: Annotated[str | None, typer.Option("--message-en", help="The English message.")] = None,
                 reason: ReasonOpt = None, yes: YesOpt = False, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Maintenance mode on (users get the message; admins and support pass) or off.

    Example: bananapics toggles maintenance on --message "Back at 14:00 UTC" --yes
    """
    if state not in ("on", "off"):
        raise typer.BadParameter(f"{state!r} is not on or off", param_hint="'STATE'")
    messages = {lang: text for lang, text in (("uz", message_uz), ("ru", message_ru), ("en", message_en))
                if text is not None}
    if message is not None:
        messages = {lang: messages.get(lang, message) for lang in maintenance.LANGS}
    actor = operator(as_)
    database()
    if state == "on":
        confirm("Switch maintenance mode on (every user but admins and support is stopped)", yes)
    maintenance.set_mode(state == "on", actor=actor, messages=messages, reason=reason)
    data = console.toggles_view(actor=actor)
    if as_json:
        print_json(data)
    else:
        out.print(f"maintenance {'ON' if data['maintenance']['enabled'] else 'off'}")
