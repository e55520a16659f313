"""👥 Referrals: the rule (percent, every vs first top-up, on/off) and the programme in numbers —
cashback paid over the last 7 and 30 days and the top referrers. Changes go through
``services.console.set_referral`` (admin only, each changed setting admin-logged).
"""

from __future__ import annotations

import functools
from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, excerpt
from bananapics.errors import BananaError
from bananapics.services import console, referral_stats
from bananapics.services.audit import Actor

EDIT = "settings.set"
HOME = ("adm", "refs")


@kit.section()
def referrals_home(press: Press, actor: Actor) -> Answer:
    """``adm:refs`` / ``adm:sec:referrals``: the rule, the cashback paid and the top referrers."""
    lang = kit.lang(press)
    rule = console.referral_view(actor=actor)
    stats = referral_stats.summary(actor=actor)
    lines = [i18n.t(lang, "adm-refs-title"),
             i18n.t(lang, "adm-refs-rule", state=i18n.t(lang, "adm-on" if rule["enabled"] else "adm-off"),
                    percent=rule["percent"], mode=i18n.t(lang, f"adm-refs-mode-{rule['mode']}")),
             i18n.t(lang, "adm-refs-paid", week=stats.paid[7], month=stats.paid[30])]
    if stats.top:
        lines.append(i18n.t(lang, "adm-refs-top"))
        lines += [i18n.t(lang, "adm-refs-top-row", n=i + 1, user=excerpt(kit.who(r.tg_id, r.username, r.first_name), 40),
                         friends=r.friends, week=r.cashback[7], month=r.cashback[30]) for i, r in enumerate(stats.top)]
    else:
        lines.append(i18n.t(lang, "adm-refs-top-none"))
    rows: list[list[Any]] = []
    if actor.can(EDIT) and actor.can("toggles.set"):
        rows.append([button(lang, "btn-adm-refs-pct", "adm", "refpct"),
                     button(lang, "btn-adm-refs-off" if rule["enabled"] else "btn-adm-refs-on", "adm", "reftog")])
        rows.append([button(lang, f"btn-adm-refs-mode-{mode}", "adm", "refmode", mode,
                            mark="✓ " if rule["mode"] == mode else "") for mode in ("every", "first")])
    rows.append(kit.home_row(lang))
    return Screen("\n".join(lines), rows), None


def _set(ctx: kit.Ctx, actor: Actor, note_key: str, **change: Any) -> str:
    lang = kit.lang(ctx)
    before = console.referral_view(actor=actor)
    try:
        after = console.set_referral(actor=actor, reason="admin panel", **change)
    except BananaError as exc:
        return kit.failed(lang, exc)
    return i18n.t(lang, note_key, before=before["percent"], after=after["percent"],
                  mode=i18n.t(lang, f"adm-refs-mode-{after['mode']}"))


def _pct_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    return _set(ctx, actor, "adm-done-refs-pct", percent=values["pct"])


kit.form(kit.Form("referrals.percent", EDIT, _pct_apply, target=lambda v: "setting:referral",
                  fields=(kit.Field("pct", functools.partial(kit.integer, lo=0, hi=100), "adm-ask-refs-pct",
                                    lambda v: {"current": v.get("current", "")}),)))


@kit.section(EDIT)
def ask_percent(press: Press, actor: Actor) -> Answer:
    """``adm:refpct``: type the cashback percent (0–100)."""
    current = console.referral_view(actor=actor)["percent"]
    return kit.start(press, "referrals.percent", {"current": current}, HOME), None


@kit.section(EDIT)
def set_mode(press: Press, actor: Actor) -> Answer:
    """``adm:refmode:<every|first>``: cashback on every top-up or the first only."""
    return kit.render(press, HOME, _set(press, actor, "adm-done-refs-mode", mode=press.args[0])), None


@kit.section("toggles.set")
def toggle(press: Press, actor: Actor) -> Answer:
    """``adm:reftog``: the programme on or off (off: invite links bind nobody, top-ups pay no cashback)."""
    lang = kit.lang(press)
    on = not console.referral_view(actor=actor)["enabled"]
    try:
        console.set_referral(actor=actor, enabled=on, reason="admin panel")
        note = i18n.t(lang, "adm-done-refs-on" if on else "adm-done-refs-off")
    except BananaError as exc:
        note = kit.failed(lang, exc)
    return kit.render(press, HOME, note), None


@kit.section()
def section_home(press: Press, actor: Actor) -> Answer:
    return referrals_home(press.to(*HOME))


ACTIONS = {("adm", "refs"): referrals_home, ("adm", "refpct"): ask_percent, ("adm", "refmode"): set_mode,
           ("adm", "reftog"): toggle}
SECTIONS = {"referrals": section_home}
