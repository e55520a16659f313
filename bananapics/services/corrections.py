"""An admin's balance correction from the panel: ``ledger.adjust`` (± tokens, with a reason, admin
only, admin-logged) plus one message telling the user, queued in the same transaction.

``key`` makes the correction idempotent (the panel passes the confirmation's one-time nonce): a
replay moves nothing and tells nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from bananapics.db import atomic
from bananapics.models import User
from bananapics.services import audit, ledger, outbox, users
from bananapics.services.audit import Actor

NOTICE_ADJUSTED = "balance_adjusted"


@dataclass(frozen=True)
class Adjusted:
    tg_id: int
    delta: int
    before: int
    after: int  # available after the correction
    reason: str
    replayed: bool


def adjust_balance(tg_id: int, delta: int, *, reason: str, actor: Actor, key: str | None = None) -> Adjusted:
    """Add (``delta`` > 0) or remove tokens from a user's available balance, never below zero
    (InsufficientTokens). The user is told "+50 tokens (reason), balance 170"."""
    audit.authorize(actor, "ledger.adjust", f"user:{tg_id}")
    user = users.get(tg_id)
    with atomic():
        before = User.get_by_id(user.id).available
        result = ledger.adjust(user.id, delta, reason=reason, actor=actor, key=f"panel:{key}" if key else None)
        after = User.get_by_id(user.id).available
        if not result.replayed:
            outbox.enqueue(user_id=user.id, chat_id=user.tg_id, kind=NOTICE_ADJUSTED,
                           payload={"delta": delta, "reason": reason.strip(), "balance": after},
                           dedupe_key=f"{NOTICE_ADJUSTED}:{result.id}")
    return Adjusted(tg_id, delta, before if not result.replayed else after - delta, after, reason.strip(),
                    result.replayed)
