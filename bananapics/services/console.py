"""What the operator consoles (CLI, TUI) read and change that no other service offers in one call.

Each function authorises the actor itself (``read`` for views), so a console run as a Telegram
user's role (``bananapics --as-user TGID …``) is refused here like anywhere else, and every change
writes its admin-log rows in the same transaction as the change.
"""

from __future__ import annotations

from typing import Any

from bananapics.db import atomic
from bananapics.models import Template
from bananapics.models.templates import LANGS
from bananapics.services import audit, maintenance, referrals, settings, templates, toggles
from bananapics.services.audit import Actor


# ---------------------------------------------------------------- referral programme

def referral_view(*, actor: Actor) -> dict[str, Any]:
    """The referral rule as configured (``percent`` is the setting, paid only while ``enabled``)."""
    audit.authorize(actor, "read", "setting:referral")
    return {"enabled": toggles.is_on("referrals"), "percent": int(settings.get("referral.percent")),
            "mode": str(settings.get("referral.mode")),
            "cashback_lock_days": int(settings.get("referral.cashback_lock_days"))}


def set_referral(*, actor: Actor, percent: Any = None, mode: str | None = None, enabled: bool | None = None,
                 reason: str | None = None) -> dict[str, Any]:
    """Percent, mode and on/off in one transaction (each changed setting with its admin-log row)."""
    audit.authorize(actor, "settings.set", "setting:referral")
    with atomic():
        if percent is not None or mode is not None:
            referrals.set_rules(percent=percent, mode=mode, actor=actor, reason=reason)
        if enabled is not None:
            toggles.set_feature("referrals", enabled, actor=actor, reason=reason)
    return referral_view(actor=actor)


# ---------------------------------------------------------------- toggles and maintenance

def toggles_view(*, actor: Actor) -> dict[str, Any]:
    """Every feature toggle and maintenance mode with its message per language."""
    audit.authorize(actor, "read", "setting:features")
    return {"features": toggles.current(),
            "maintenance": {"enabled": maintenance.enabled(),
                            "messages": {lang: str(settings.get(f"maintenance.message_{lang}") or "")
                                         for lang in maintenance.LANGS}}}


# ---------------------------------------------------------------- templates

def template_rows(*, actor: Actor) -> list[tuple[Template, int]]:
    """Every template, hidden ones too, with its use count (the admin list)."""
    audit.authorize(actor, "read", "templates")
    return templates.admin_list()


def template(template_id: int, *, actor: Actor) -> Template:
    """One template, hidden or not."""
    audit.authorize(actor, "read", f"template:{template_id}")
    return templates.get(template_id, active_only=False)


def template_dict(row: Template, uses: int | None = None) -> dict[str, Any]:
    """A template as the consoles show it: titles and prompts per language."""
    snap = templates.snapshot(row)
    data = {k: snap[k] for k in ("id", "category", "model", "settings", "preview_key", "active", "pinned", "sort")}
    data["titles"] = {lang: snap[f"title_{lang}"] for lang in LANGS}
    data["prompts"] = {lang: snap[f"prompt_{lang}"] for lang in LANGS}
    if uses is not None:
        data["uses"] = uses
    return data


def template_categories(*, actor: Actor) -> list[tuple[Any, int]]:
    """Every template category, empty ones too, with how many templates (hidden included) it has."""
    from bananapics.db import connection
    from bananapics.models import TemplateCategory

    audit.authorize(actor, "read", "templates")
    counts: dict[str, int] = {}
    for row, _ in templates.admin_list():
        counts[row.category_id] = counts.get(row.category_id, 0) + 1
    with connection():
        rows = list(TemplateCategory.select().order_by(TemplateCategory.sort, TemplateCategory.slug))
    return [(row, counts.get(row.slug, 0)) for row in rows]
