"""Which text step a user's next typed message answers: the wizard's prompt (no row), or a step a
screen asked for — an admin's amount, a search, a reason — with the data it needs and an expiry.

The step is a row in ``conversations`` (one per user), so it survives a bot restart and is the same
for every process. The bot reads it only when a text message arrives (``current``); screens that
ask for text call :func:`expect`; answering, ``/cancel`` or a new draft call :func:`clear`.
Authorisation stays with the service the step's handler calls (the role is read from the database
there), never with the step itself. A user has at most one row: an expired one is ignored, and
replaced by the next :func:`expect`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from bananapics.db import atomic, atomic_statement, connection
from bananapics.errors import InvalidInput
from bananapics.models import Conversation, utcnow

DEFAULT_TTL_S = 600  # an unanswered question is forgotten after ten minutes
_STEP = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


@dataclass(frozen=True)
class Step:
    """A step the user was asked for: its name (``"adm.grant"``…) and what the asking screen left."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    expires_at: dt.datetime | None = None


def expect(user_id: int, step: str, data: dict[str, Any] | None = None, ttl_s: float = DEFAULT_TTL_S) -> Step:
    """The user's next typed message answers ``step`` (replacing any other), for ``ttl_s`` seconds."""
    if not _STEP.fullmatch(step) or len(step) > 32:
        raise InvalidInput(f"bad conversation step {step!r}")
    if ttl_s <= 0:
        raise InvalidInput("a conversation step needs a positive time to live")
    now = utcnow()
    expires = now + dt.timedelta(seconds=ttl_s)
    payload = json.dumps(data or {}, ensure_ascii=False, sort_keys=True)
    with atomic():
        Conversation.upsert(Conversation.user, {"user": user_id, "step": step, "data": payload,
                                                "expires_at": expires, "updated_at": now})
    return Step(step, dict(data or {}), expires)


def current(user_id: int) -> Step | None:
    """The step the user's typed text answers now; None for the wizard's prompt (no step, or expired)."""
    with connection():
        row = Conversation.by(Conversation.user, user_id)
    if row is None or row.expires_at <= utcnow():
        return None
    return Step(row.step, row.data_dict, row.expires_at)


def expire(now: dt.datetime | None = None) -> int:
    """Delete every step past its expiry (the sweeper; :func:`current` already ignores them): one
    statement; returns how many went."""
    with atomic_statement():
        return Conversation.delete().where(Conversation.expires_at <= (now or utcnow())).execute()


def clear(user_id: int) -> None:
    """Typed text is the wizard's prompt again (answered, cancelled, or a new draft)."""
    with atomic_statement():
        Conversation.delete().where(Conversation.user == user_id).execute()



def take(user_id: int, step: str, nonce: str) -> Step | None:
    """Consume the user's ``step`` once: the row is deleted and returned only while it lasts and its
    data holds ``nonce`` (a confirmation's one-time token), in one transaction; None otherwise, so a
    replayed or older "yes" finds nothing and does nothing."""
    with atomic():
        row = Conversation.by(Conversation.user, user_id)
        if row is None or row.step != step or row.expires_at <= utcnow() or not nonce:
            return None
        data = row.data_dict
        if data.get("nonce") != nonce:
            return None
        gone = (Conversation.delete().where((Conversation.user == user_id) & (Conversation.step == step)
                                            & (Conversation.data == row.data)).execute())
    return Step(row.step, data, row.expires_at) if gone == 1 else None
