"""What every screen is made of: :class:`Screen`, inline buttons, the Menu row, a pager, shortened
text, and a service error in the user's words.

Every feature module (``bananapics.bot.<area>``) builds its screens from these; this module imports
no other screen module, so none of them import each other for a helper.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telethon import Button

from bananapics import i18n
from bananapics.bot.callbacks import encode
from bananapics.errors import BananaError
from bananapics.images import MAX_BYTES
from bananapics.models import AiModel
from bananapics.services import jobs, settings

BOT_USERNAME = {"value": "BananaPicsBot"}  # set by build_bot from config


@dataclass
class Screen:
    text: str
    buttons: list[list[Any]] | None = field(default=None)
    # awaited by the bot right after the screen is shown, as ``followup(bot, chat_id)``; e.g. the
    # progress panel sends the upload_photo chat action for its job
    followup: Callable[[Any, int], Awaitable[None]] | None = field(default=None, compare=False)
    photo: str | None = None  # storage key of an image: the panel becomes a photo with ``text`` as caption
    # parts of ``text`` shown as code (tap to copy). Texts are plain (no Markdown: user words in
    # them must stay as typed), so formatting is given as entities.
    code: tuple[str, ...] = ()
    # a panel that must be seen even in a burst (the one-time welcome): a newer panel for the same chat
    # waits for it instead of taking its place (``Bot.show`` coalesces every other panel)
    keep: bool = False


def excerpt(text: str | None, limit: int, *, squash: bool = False) -> str:
    """``text`` shortened to ``limit`` characters with "…"; ``squash`` folds runs of whitespace first
    (one-line list entries)."""
    text = text or ""
    if squash:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def noted(note: str | None, *lines: str) -> str:
    """``lines`` under an optional note (a blank line between)."""
    return "\n".join(([note, ""] if note else []) + list(lines))


def button(lang: str, key: str, screen: str, action: str, *args: Any, **fmt: Any) -> Any:
    return Button.inline(i18n.t(lang, key, **fmt), encode(screen, action, *args))


def menu_row(lang: str) -> list[Any]:
    return [button(lang, "btn-menu", "menu", "open")]


def pager(lang: str, screen: str, action: str, page: int, pages: int, *args: Any) -> list[list[Any]]:
    """A [◀] [▶] row for a paged screen (``args`` go before the page number); none for one page."""
    row = []
    if page > 0:
        row.append(button(lang, "btn-prev", screen, action, *args, page - 1))
    if page < pages - 1:
        row.append(button(lang, "btn-next", screen, action, *args, page + 1))
    return [row] if row else []


def error_text(lang: str, exc: BananaError, *, model: AiModel | None = None, length: int = 0) -> str:
    """A service error in the user's words, with the numbers its text needs."""
    limits = model.limits_dict if model is not None else {}
    title = getattr(exc, "title", "")
    if getattr(exc, "code", "") == "too_many_jobs":
        limit = int(settings.get("limits.user_parallel_jobs"))
    else:
        limit = jobs.PROMPT_MAX
    maximum = int(limits.get("max_count" if title == "count_out_of_range" else "max_refs", 0))
    args: dict[str, Any] = {"model": model.name if model is not None else "", "length": length, "limit": limit,
                            "max_mb": MAX_BYTES // (1024 * 1024), "max": maximum,
                            "available": getattr(exc, "available", 0), "needed": getattr(exc, "needed", 0)}
    return i18n.t(lang, i18n.error_key(exc), **args)
