"""Telegram's limits and the simulator's clocks: content validation (text, captions, keyboards)
and the flood model charged per send request."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
import time
from typing import Any, Optional

from telethon.tl import types

from .errors import TgError
from .records import UserRecord
from .wire import utf16_len

_URL_RE = re.compile(r"^(https?|tg)://\S+$", re.IGNORECASE)


class RealClock:
    """Wall-clock time (``time.time``)."""

    def __call__(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to; inject it so flood limits and timeouts need no sleep."""

    def __init__(self, start: float = 1_767_225_600.0):  # 2026-01-01T00:00:00Z
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def set(self, when: float) -> None:
        self.now = float(when)

    async def sleep(self, seconds: float) -> None:
        """A drop-in for ``asyncio.sleep`` that advances this clock instead of waiting: inject it
        into the bot's own rate limiter so bot and simulated Telegram agree on time."""
        if seconds > 0:
            self.now += seconds
        await asyncio.sleep(0)


@dataclasses.dataclass
class Limits:
    """Telegram's limits as enforced by the simulator (all adjustable per test).

    Content limits are Telegram's documented ones. The rate limits are a *model* of the
    unpublished, dynamic real ones (Bot FAQ: ~30 messages/s overall, ~1 message/s per chat with
    short bursts tolerated): a sliding one-second window over all messages the bot creates, and a
    per-chat token bucket (``per_chat_rate`` tokens/s, ``per_chat_burst`` capacity) charged one
    token per send *request* (an album is one request). Edits, callback answers, chat actions and
    deletions are not rate-limited.
    """

    text_max: int = 4096  # Unicode code points, after entity parsing
    caption_max: int = 1024
    callback_data_max: int = 64  # bytes
    callback_answer_max: int = 200
    inline_buttons_per_row: int = 8
    inline_buttons_total: int = 100
    reply_buttons_per_row: int = 12
    reply_buttons_total: int = 300
    album_max: int = 10
    commands_max: int = 100
    global_messages_per_second: int = 30
    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    rate_limits: bool = True
    callback_query_ttl: float = 15.0  # seconds to answer a callback query, then QUERY_ID_INVALID
    precheckout_ttl: float = 10.0  # seconds to answer a pre-checkout query, then it is cancelled
    delete_window: float = 48 * 3600.0  # bots may delete private-chat messages for 48 h


class LimitsMixin:
    """Validation of what the bot sends and the rate limits it is charged."""

    def _check_text(self, text: str, entities: Optional[list], *, caption: bool) -> Optional[list]:
        limit = self.limits.caption_max if caption else self.limits.text_max
        if len(text) > limit:
            raise TgError(400, "MEDIA_CAPTION_TOO_LONG" if caption else "MESSAGE_TOO_LONG")
        size = utf16_len(text)
        out = []
        for ent in entities or []:
            if ent.offset < 0 or ent.length <= 0 or ent.offset + ent.length > size:
                raise TgError(400, "ENTITY_BOUNDS_INVALID")
            if isinstance(ent, types.InputMessageEntityMentionName):
                target = self._input_user(ent.user_id, error="ENTITY_MENTION_USER_INVALID")
                ent = types.MessageEntityMentionName(ent.offset, ent.length, target.id)
            out.append(ent)
        return out or None

    def _check_markup(self, markup: Any, *, invoice: bool = False) -> Any:
        lim = self.limits
        if markup is None:
            return None
        if isinstance(markup, types.ReplyInlineMarkup):
            total = 0
            for r, row in enumerate(markup.rows):
                if len(row.buttons) > lim.inline_buttons_per_row:
                    raise TgError(400, "REPLY_MARKUP_TOO_LONG")
                total += len(row.buttons)
                for c, button in enumerate(row.buttons):
                    self._check_inline_button(button, first=(r == 0 and c == 0), invoice=invoice)
            if total > lim.inline_buttons_total:
                raise TgError(400, "REPLY_MARKUP_TOO_LONG")
            if total == 0:
                raise TgError(400, "REPLY_MARKUP_INVALID")
            if invoice and not isinstance(markup.rows[0].buttons[0].type, types.InlineButtonTypeBuy):
                raise TgError(400, "REPLY_MARKUP_BUY_EMPTY")
            return markup
        if invoice:
            raise TgError(400, "REPLY_MARKUP_BUY_EMPTY")
        if isinstance(markup, types.ReplyKeyboardMarkup):
            total = 0
            for row in markup.rows:
                if len(row.buttons) > lim.reply_buttons_per_row:
                    raise TgError(400, "REPLY_MARKUP_TOO_LONG")
                total += len(row.buttons)
                for button in row.buttons:
                    if not getattr(button, "text", "").strip():
                        raise TgError(400, "BUTTON_TEXT_INVALID")
            if total > lim.reply_buttons_total:
                raise TgError(400, "REPLY_MARKUP_TOO_LONG")
            return markup
        return markup  # ReplyKeyboardHide / ReplyKeyboardForceReply

    def _check_inline_button(self, button: Any, *, first: bool, invoice: bool) -> None:
        if not isinstance(button, types.KeyboardInlineButton):
            raise TgError(400, "BUTTON_TYPE_INVALID")  # a reply-keyboard button in an inline keyboard
        if not button.text or not button.text.strip():
            raise TgError(400, "BUTTON_TEXT_INVALID")
        kind = button.type
        if isinstance(kind, types.InlineButtonTypeCallback):
            if not kind.data or len(kind.data) > self.limits.callback_data_max:
                raise TgError(400, "BUTTON_DATA_INVALID")
        elif isinstance(kind, types.InlineButtonTypeUrl):
            if not _URL_RE.match(kind.url or ""):
                raise TgError(400, "BUTTON_URL_INVALID")
        elif isinstance(kind, types.InlineButtonTypeBuy):
            if not (invoice and first):
                raise TgError(400, "BUTTON_TYPE_INVALID")

    def _take_flood(self, user: UserRecord, messages: int) -> None:
        """Charge the rate limits for one send request creating ``messages`` messages."""
        lim = self.limits
        if not lim.rate_limits:
            return
        now = self.now()
        chat = self.chat(user.id)
        tokens = min(float(lim.per_chat_burst), chat.tokens + (now - chat.tokens_at) * lim.per_chat_rate)
        if tokens < 1.0:
            wait = max(1, math.ceil((1.0 - tokens) / lim.per_chat_rate))
            self.flood_waits.append((now, "chat", user.id, wait))
            raise TgError(420, f"FLOOD_WAIT_{wait}")
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) + messages > lim.global_messages_per_second:
            wait = max(1, math.ceil(window[0] + 1.0 - now)) if window else 1
            self.flood_waits.append((now, "global", user.id, wait))
            raise TgError(420, f"FLOOD_WAIT_{wait}")
        chat.tokens, chat.tokens_at = tokens - 1.0, now
        window.extend([now] * messages)
