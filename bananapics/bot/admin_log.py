"""📜 Admin log: newest first, each row with who, what, on what, before → after and the reason;
filtered by actor (``tg:123``, ``cli:alice``) or target (``user:123``, ``charge:…``, ``job:…``; a bare
number is a user), typed as a text step.
"""

from __future__ import annotations

import json
from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, excerpt
from bananapics.services import lists
from bananapics.services.audit import Actor

PAGE_SIZE = 6
ACTOR_PREFIXES = ("tg:", "cli:", "tui:")


def _value(value: Any) -> str:
    if value is None:
        return "—"
    return excerpt(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str), 160)


def _row(lang: str, a: Any) -> str:
    head = f"• {a.created_at:%m-%d %H:%M} {a.actor} · {a.action}" + (" ⛔" if a.outcome == "denied" else "")
    lines = [head, f"  {excerpt(a.target, 80)}"]
    before = json.loads(a.before) if a.before else None
    after = json.loads(a.after) if a.after else None
    if before is not None or after is not None:
        lines.append(f"  {_value(before)} → {_value(after)}")
    if a.reason:
        lines.append("  " + i18n.t(lang, "adm-log-reason", reason=excerpt(a.reason, 160)))
    return "\n".join(lines)


@kit.section()
def log_page(press: Press, actor: Actor) -> Answer:
    """``adm:log:<page>``: the admin log with the current filter."""
    lang = kit.lang(press)

    def fetch(f: dict[str, Any], after: str | None, limit: int) -> Any:
        return lists.admin_log(actor=actor, by=f.get("by"), target=f.get("target"), limit=limit, after=after)

    def count(f: dict[str, Any]) -> int:
        return lists.count_admin_log(actor=actor, by=f.get("by"), target=f.get("target"))

    view = kit.keyset_page(press, "log", press.args[0], fetch, count, size=PAGE_SIZE)
    lines = [i18n.t(lang, "adm-log-title")]
    shown = view.filters.get("by") or view.filters.get("target")
    if shown:
        lines.append(i18n.t(lang, "adm-log-filter", filter=excerpt(shown, 80)))
    lines.append(view.label(lang) if view.items else i18n.t(lang, "admin-empty"))
    lines += [_row(lang, a) for a in view.items]
    rows = view.pager(lang, "adm", "log")
    filter_row = [button(lang, "btn-adm-log-filter", "adm", "logq")]
    if shown:
        filter_row.append(button(lang, "btn-adm-log-all", "adm", "logall"))
    rows += [filter_row, kit.home_row(lang)]
    return Screen("\n".join(lines)[:4000], rows), None


@kit.section()
def section_home(press: Press, actor: Actor) -> Answer:
    """``adm:sec:log`` / ``adm:logall``: the whole log, newest first."""
    kit.set_filters(press, "log", {})
    return log_page(press.to("adm", "log", 0))


def parse_filter(text: str) -> dict[str, str]:
    """"tg:123" / "cli:alice" → by actor; "user:123", "charge:…" → by target; "123" → user:123."""
    raw = kit.query(text)
    if raw.lstrip("@").isdigit():
        return {"target": f"user:{int(raw.lstrip('@'))}"}
    if raw.startswith(ACTOR_PREFIXES) or raw == "system":
        return {"by": raw}
    return {"target": raw}


def _set(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    kit.set_filters(ctx, "log", values["filter"])
    return ""


kit.form(kit.Form("log.filter", "read", _set, fields=(kit.Field("filter", parse_filter, "adm-ask-log-filter"),)))


@kit.section()
def ask_filter(press: Press, actor: Actor) -> Answer:
    """``adm:logq``: ask for an actor or target to filter by."""
    return kit.start(press, "log.filter", {}, ("adm", "log", 0)), None


ACTIONS = {("adm", "log"): log_page, ("adm", "logq"): ask_filter, ("adm", "logall"): section_home}
SECTIONS = {"log": section_home}
