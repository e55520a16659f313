"""Never silence: a handler that fails for a reason outside it (the database or the queue away, a
connection cut mid-update) still answers the user — "Something went wrong, try again in a minute"
(``error-generic``): a press as an alert (the button's spinner stops), a message as a message.

The error itself still propagates (logged by Telethon, counted by the handler metrics). The answer
needs no database: the language is the row the guard already read for this update, else the
sender's Telegram language.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

from telethon import errors, events

from bananapics import i18n
from bananapics.bot import viewer

log = logging.getLogger(__name__)


def _language(event: Any) -> str:
    user = viewer.VIEWER.get(None)
    if user is not None and getattr(user, "language", None):
        return user.language
    return i18n.normalize(getattr(getattr(event, "sender", None), "lang_code", None))


async def tell(bot: Any, event: Any) -> None:
    """The apology for ``event`` (a press or a private message); anything else gets none."""
    text = i18n.t(_language(event), "error-generic")
    with contextlib.suppress(errors.RPCError, ConnectionError, OSError):
        if isinstance(event, events.CallbackQuery.Event):
            await event.answer(text, alert=True)  # refused when the handler had answered already
        elif isinstance(event, events.NewMessage.Event) and event.is_private:
            await bot.say(event.chat_id, text)


def guarded(bot: Any, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``callback`` answering the user when it fails (``metrics.instrument(wrap=...)`` applies it)."""
    @functools.wraps(callback)
    async def handler(event: Any) -> Any:
        try:
            return await callback(event)
        except events.StopPropagation:
            raise
        except Exception:
            await tell(bot, event)
            raise

    return handler

