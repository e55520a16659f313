"""💲 Pricing, Stars packages: the list in the order users see it, a package's card (Stars, tokens,
bonus %, on sale or not), edit each term, activate/deactivate, move up/down, add a new one (typed
Stars, tokens and bonus %, then a confirmation). Each change is one ``services.packages`` call
(admin only, admin-logged); an invoice already sent keeps the terms it was sent with.
"""

from __future__ import annotations

import functools
from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button
from bananapics.errors import BananaError
from bananapics.services import packages
from bananapics.services.audit import Actor

EDIT = "packages.edit"
TERMS = {"stars": (1, packages.MAX_STARS), "tokens": (1, packages.MAX_TOKENS), "bonus": (0, packages.MAX_BONUS_PCT)}
KEYWORD = {"stars": "stars", "tokens": "tokens", "bonus": "bonus_pct"}
LIST = ("adm", "pkgs")


def _line(lang: str, p: Any) -> dict[str, Any]:
    return {"state": "✅" if p.active else "⛔", "stars": p.stars, "tokens": p.tokens, "bonus": p.bonus_pct}


@kit.section()
def package_list(press: Press, actor: Actor) -> Answer:
    """``adm:pkgs``: every package, on sale or not, in the users' order."""
    lang = kit.lang(press)
    rows = [[button(lang, "btn-adm-pkg-row", "adm", "pkg", p.id, **_line(lang, p))]
            for p in packages.all_packages(actor=actor)]
    if actor.can(EDIT):
        rows.append([button(lang, "btn-adm-pkg-add", "adm", "padd")])
    rows.append([button(lang, "btn-back", "adm", "models"), *kit.home_row(lang)])
    return Screen(i18n.t(lang, "adm-pkgs-title"), rows), None


def _package(actor: Actor, package_id: int) -> Any:
    found = next((p for p in packages.all_packages(actor=actor) if p.id == package_id), None)
    if found is None:
        raise kit.StaleButton(f"no package {package_id}")
    return found


@kit.section()
def package_card(press: Press, actor: Actor) -> Answer:
    """``adm:pkg:<id>``: the package and its buttons."""
    lang = kit.lang(press)
    p = _package(actor, press.args[0])
    text = i18n.t(lang, "adm-pkg", id=p.id, stars=p.stars, tokens=p.tokens, bonus=p.bonus_pct,
                  bonus_tokens=p.bonus_tokens, state=i18n.t(lang, "adm-pkg-on" if p.active else "adm-pkg-off"))
    rows: list[list[Any]] = []
    if actor.can(EDIT):
        rows.append([button(lang, f"btn-adm-pkg-{t}", "adm", "pset", p.id, t) for t in TERMS])
        rows.append([button(lang, "btn-adm-pkg-off" if p.active else "btn-adm-pkg-on", "adm", "ptog", p.id),
                     button(lang, "btn-adm-up", "adm", "pmove", p.id, "up"),
                     button(lang, "btn-adm-down", "adm", "pmove", p.id, "down")])
    rows.append([button(lang, "btn-back", *LIST), *kit.home_row(lang)])
    return Screen(text, rows), None


def _edit_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    before = _package(actor, values["id"])
    term = values["t"]
    after = packages.edit(values["id"], actor=actor, reason="admin panel", **{KEYWORD[term]: values["v"]})
    return i18n.t(kit.lang(ctx), "adm-done-pkg-edit", what=i18n.t(kit.lang(ctx), f"adm-pkg-term-{term}"),
                  before=getattr(before, KEYWORD[term]), after=getattr(after, KEYWORD[term]))


def _ask_args(values: dict[str, Any]) -> dict[str, Any]:
    return {"what": values.get("label", values["t"]), "current": values.get("current", "")}


for _term, (_lo, _hi) in TERMS.items():
    kit.form(kit.Form(f"packages.{_term}", EDIT, _edit_apply,
                      fields=(kit.Field("v", functools.partial(kit.integer, lo=_lo, hi=_hi), "adm-ask-pkg-value",
                                        _ask_args),),
                      target=lambda v: f"package:{v.get('id')}"))


@kit.section(EDIT)
def edit_term(press: Press, actor: Actor) -> Answer:
    """``adm:pset:<id>:<term>``: type the new Stars price, tokens or bonus %."""
    package_id, term = press.args
    if term not in TERMS:
        raise kit.StaleButton(f"{term} is not edited here")
    p = _package(actor, package_id)
    lang = kit.lang(press)
    values = {"id": package_id, "t": term, "label": i18n.t(lang, f"adm-pkg-term-{term}"),
              "current": getattr(p, KEYWORD[term])}
    return kit.start(press, f"packages.{term}", values, ("adm", "pkg", package_id)), None


@kit.section(EDIT)
def toggle(press: Press, actor: Actor) -> Answer:
    """``adm:ptog:<id>``: on sale / off sale (an unpaid invoice of it then fails pre-checkout)."""
    lang = kit.lang(press)
    p = _package(actor, press.args[0])
    try:
        done = packages.set_active(p.id, not p.active, actor=actor, reason="admin panel")
        note = i18n.t(lang, "adm-done-pkg-on" if done.active else "adm-done-pkg-off", stars=done.stars)
    except BananaError as exc:
        note = kit.failed(lang, exc)
    return kit.render(press, ("adm", "pkg", p.id), note), None


@kit.section(EDIT)
def move(press: Press, actor: Actor) -> Answer:
    """``adm:pmove:<id>:<up|down>``: one place up or down in the users' order."""
    package_id, direction = press.args
    order = [p.id for p in packages.all_packages(actor=actor)]
    if package_id not in order:
        raise kit.StaleButton(f"no package {package_id}")
    at = order.index(package_id)
    other = at + (-1 if direction == "up" else 1)
    if 0 <= other < len(order):
        order[at], order[other] = order[other], order[at]
        packages.reorder(order, actor=actor, reason="admin panel")
    return kit.render(press, ("adm", "pkg", package_id), i18n.t(kit.lang(press), "adm-done-moved")), None


def _add_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    bonus = values["tokens"] * values["bonus"] // 100
    return i18n.t(lang, "adm-effect-pkg-add", stars=values["stars"], tokens=values["tokens"], bonus=values["bonus"],
                  bonus_tokens=bonus)


def _add_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    p = packages.create(stars=values["stars"], tokens=values["tokens"], bonus_pct=values["bonus"], actor=actor,
                        reason="admin panel")
    return i18n.t(kit.lang(ctx), "adm-done-pkg-add", stars=p.stars, tokens=p.tokens, bonus=p.bonus_pct)


kit.form(kit.Form("packages.add", EDIT, _add_apply, effect=_add_effect, target=lambda v: "package:new",
                  fields=(kit.Field("stars", functools.partial(kit.integer, lo=1, hi=packages.MAX_STARS),
                                    "adm-ask-pkg-stars"),
                          kit.Field("tokens", functools.partial(kit.integer, lo=1, hi=packages.MAX_TOKENS),
                                    "adm-ask-pkg-tokens"),
                          kit.Field("bonus", functools.partial(kit.integer, lo=0, hi=packages.MAX_BONUS_PCT),
                                    "adm-ask-pkg-bonus"))))


@kit.section(EDIT)
def add(press: Press, actor: Actor) -> Answer:
    """``adm:padd``: a new package (Stars, tokens, bonus %, confirm)."""
    return kit.start(press, "packages.add", {}, LIST), None


@kit.section()
def section_home(press: Press, actor: Actor) -> Answer:
    return package_list(press.to(*LIST))


ACTIONS = {("adm", "pkgs"): package_list, ("adm", "pkg"): package_card, ("adm", "pset"): edit_term,
           ("adm", "ptog"): toggle, ("adm", "pmove"): move, ("adm", "padd"): add}
SECTIONS = {"packages": section_home}
