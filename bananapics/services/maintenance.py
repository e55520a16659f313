"""Maintenance mode: users get the admin's message; admins and support pass.

The state is settings (``maintenance.enabled`` and ``maintenance.message_<lang>``), so it reaches
every process within one settings-cache check. The bot's guard asks :func:`blocks` for each update
and answers with :func:`message`. Payments already in flight are not affected: pre-checkout and
crediting never consult maintenance mode, so an invoice paid during maintenance still credits.
"""

from __future__ import annotations

from bananapics import i18n
from bananapics.db import atomic
from bananapics.errors import InvalidInput
from bananapics.models import User
from bananapics.services import audit, settings
from bananapics.services.audit import Actor

LANGS = ("uz", "ru", "en")
PASS_ROLES = ("admin", "support")
DEFAULT_KEY = "maintenance-default"


def enabled() -> bool:
    return bool(settings.get("maintenance.enabled"))


def blocks(user: User | None) -> bool:
    """Does maintenance mode stop this user now? Admins and support always pass."""
    if not enabled():
        return False
    return user is None or user.role not in PASS_ROLES


def message(lang: str | None) -> str:
    """The admin's message in ``lang`` (uz/ru/en), else the built-in text in that language."""
    lang = i18n.normalize(lang)
    text = str(settings.get(f"maintenance.message_{lang}") or "").strip()
    return text or i18n.t(lang, DEFAULT_KEY)


def set_mode(on: bool, *, actor: Actor, messages: dict[str, str] | None = None, reason: str | None = None) -> bool:
    """Switch maintenance mode (``toggles.set``: admin), optionally with new messages per language;
    every changed setting and its audit row commit together."""
    audit.authorize(actor, "toggles.set", "setting:maintenance")
    messages = dict(messages or {})
    unknown = set(messages) - set(LANGS)
    if unknown:
        raise InvalidInput(f"maintenance messages are in {', '.join(LANGS)}, not {sorted(unknown)[0]!r}")
    with atomic():
        for lang, text in messages.items():
            settings.set_value(f"maintenance.message_{lang}", str(text).strip(),
                               actor=actor, reason=reason)
        settings.set_value("maintenance.enabled", bool(on), actor=actor, reason=reason)
    return bool(on)
