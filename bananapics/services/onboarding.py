"""A user's ``/start``: the welcome on the first one, the referral binding of a ``ref_<code>`` link
(first ``/start`` only), and which deep link the rest of the payload opens (``tpl_<id>``…).

No texts here: :func:`start` answers what happened and the bot draws the screen. The inviter's
"your friend joined" notice is an outbox row (:data:`NOTICE_FRIEND_JOINED`) that the bot's delivery
loop words in the inviter's language.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bananapics.db import atomic
from bananapics.models import User
from bananapics.services import outbox, referrals, users

log = logging.getLogger(__name__)

REFERRAL_PREFIX = "ref_"
NOTICE_FRIEND_JOINED = "ref_joined"  # payload {"name": the new user's first name}


@dataclass(frozen=True)
class Start:
    greet: bool               # the user's first /start: show the welcome
    inviter: User | None      # bound to this user by this /start's referral link
    link: str | None = None   # the deep-link prefix the payload starts with
    arg: str = ""             # the payload after that prefix


def start(user: User, payload: str, links: Iterable[str] = ()) -> Start:
    """``user`` (the row the update registered or read) sent ``/start payload``; ``links``: the
    deep-link prefixes the bot serves. Binds the referrer and marks the user welcomed, once."""
    inviter = None
    greet = user.registered_now or not user.welcomed  # the first /start (a new user is stored welcomed)
    if payload.startswith(REFERRAL_PREFIX) and greet:
        try:
            bound = referrals.attach(user.id, payload[len(REFERRAL_PREFIX):])
            inviter = users.get_by_id(bound.referrer_id)
            _tell_referrer(inviter, user)
        except Exception as exc:  # noqa: BLE001 - a bad link must never break /start
            log.info("referral link %s refused for %s: %s", payload, user.tg_id, exc)
    if greet and not user.welcomed:
        _mark_welcomed(user.id)
    prefix = next((p for p in links if payload.startswith(p)), None)
    return Start(greet, inviter, prefix, payload[len(prefix):] if prefix is not None else "")


def _tell_referrer(inviter: User, friend: User) -> None:
    """A short notice to the inviter, sent by the delivery loop (rate limits, blocked users)."""
    outbox.enqueue(user_id=inviter.id, chat_id=inviter.tg_id, kind=NOTICE_FRIEND_JOINED,
                   payload={"name": friend.first_name or ""}, dedupe_key=f"ref_joined:{friend.id}")


def _mark_welcomed(user_id: int) -> None:
    with atomic():
        User.update(welcomed=True).where(User.id == user_id).execute()
