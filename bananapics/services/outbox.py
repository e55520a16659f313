"""The delivery outbox: what the bot must send, written in the same transaction as the job's end.

The bot's delivery loop takes rows with :func:`claim` (pending and due → sending, with a lock that
expires so a crashed sender's rows come back), sends them, then calls :func:`mark_sent` or
:func:`retry`. A row is never sent twice after it is marked sent: ``mark_sent`` is a guarded UPDATE
and ``claim`` only takes pending rows.

A row may take several Telegram messages (photos, files, a closing text). After each part Telegram
accepted, :func:`part_sent` records it in ``parts_sent``, so a FloodWait (:func:`release`) or a crash
(:func:`recover` at the next start, or the sweeper) resumes with the next part instead of sending
the first ones again. The first claim also stores ``random_id``, the base of the ``random_id`` each
message of the row is sent with: a part Telegram accepted just before a crash (``parts_sent`` not
stored yet) is sent again with the same ids, and Telegram refuses it as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable

import peewee as pw

from bananapics.db import atomic, atomic_statement, connection
from bananapics.models import Broadcast, Outbox, User, utcnow

MAX_ATTEMPTS = 8
BACKOFF_S = (2, 5, 15, 30, 60, 120, 300, 600)


def claim_order() -> tuple:
    """The order due rows are taken in: oldest due first, then queue order (which keeps each chat's
    rows in order)."""
    return (Outbox.next_try_at, Outbox.id)


def claim(limit: int = 20, lock_s: float = 60.0, now: dt.datetime | None = None, *,
          skip_chats: Iterable[int] = ()) -> list[Outbox]:
    """Take up to ``limit`` due rows for sending (in :func:`claim_order`; a broadcast's rows only when
    no user-facing row is due, and only while the broadcast is running). ``skip_chats``: chats the
    sender is still busy with; their rows wait, so a chat's rows are never sent out of order by two
    senders at once."""
    now = now or utcnow()
    taken: list[Outbox] = []
    busy = list(skip_chats)
    where = (Outbox.status == "pending") & (Outbox.next_try_at <= now)
    if busy:
        where &= Outbox.chat_id.not_in(busy)
    with atomic():
        due = list(Outbox.select(Outbox.id).where(where & Outbox.broadcast_id.is_null())
                   .order_by(*claim_order()).limit(limit))
        if len(due) < limit:  # broadcast rows after every user-facing row, and only of running broadcasts
            running = Broadcast.select(Broadcast.id).where(Broadcast.status == "running")
            due += list(Outbox.select(Outbox.id).where(where & Outbox.broadcast_id.in_(running))
                        .order_by(*claim_order()).limit(limit - len(due)))
        for row in due:
            got = (
                Outbox.update(status="sending", locked_until=now + dt.timedelta(seconds=lock_s),
                              attempts=Outbox.attempts + 1,
                              random_id=pw.fn.COALESCE(Outbox.random_id, secrets.randbits(63)))
                .where((Outbox.id == row.id) & (Outbox.status == "pending"))
                .execute()
            )
            if got == 1:
                taken.append(row.id)
        return list(Outbox.select().where(Outbox.id.in_(taken)).order_by(Outbox.id)) if taken else []


def mark_sent(outbox_id: int) -> bool:
    """True the first time; False when it was already marked (a duplicate confirmation)."""
    with atomic():
        return (
            Outbox.update(status="sent", sent_at=utcnow(), locked_until=None, last_error=None)
            .where((Outbox.id == outbox_id) & (Outbox.status == "sending"))
            .execute()
        ) == 1


def part_sent(outbox_id: int, parts: int, lock_s: float = 60.0) -> bool:
    """Telegram accepted the first ``parts`` parts of the row; the sender's lock is extended."""
    now = utcnow()
    with atomic():
        return (
            Outbox.update(parts_sent=parts, locked_until=now + dt.timedelta(seconds=lock_s))
            .where((Outbox.id == outbox_id) & (Outbox.parts_sent < parts))
            .execute()
        ) == 1


def release(outbox_id: int, error: str, *, delay_s: float, now: dt.datetime | None = None) -> bool:
    """Not this row's fault (a FloodWait): back to pending after ``delay_s`` without using up an attempt."""
    now = now or utcnow()
    with atomic():
        return (
            Outbox.update(status="pending", next_try_at=now + dt.timedelta(seconds=delay_s), locked_until=None,
                          last_error=error[:1000],
                          attempts=pw.Case(None, [(Outbox.attempts > 0, Outbox.attempts - 1)], 0))
            .where((Outbox.id == outbox_id) & (Outbox.status == "sending"))
            .execute()
        ) == 1


def hold(outbox_id: int, lock_s: float = 60.0) -> bool:
    """The sender is about to send a row it claimed a while ago: keep it (its lock is renewed, and a
    row the sweeper handed back after its lock ran out is taken again). False when it is no longer
    there to send (sent or dead meanwhile)."""
    with atomic():
        return (
            Outbox.update(status="sending", locked_until=utcnow() + dt.timedelta(seconds=lock_s))
            .where((Outbox.id == outbox_id) & Outbox.status.in_(("pending", "sending")))
            .execute()
        ) == 1


def release_chat(chat_id: int, held: list[int], error: str, *, delay_s: float) -> int:
    """A FloodWait paused a chat: the rows the sender held for it (``held``, the refused one first)
    go back to pending without using up an attempt, all due at the same moment, and the chat's other
    pending rows wait at least as long — so, claimed in id order again, none overtakes another.
    Returns how many held rows went back."""
    until = utcnow() + dt.timedelta(seconds=delay_s)
    back = 0
    with atomic():
        for n, outbox_id in enumerate(held):
            back += (
                Outbox.update(status="pending", next_try_at=until, locked_until=None,
                              last_error=(error if n == 0 else "chat paused")[:1000],
                              attempts=pw.Case(None, [(Outbox.attempts > 0, Outbox.attempts - 1)], 0))
                .where((Outbox.id == outbox_id) & (Outbox.status == "sending"))
                .execute())
        (Outbox.update(next_try_at=until)
         .where((Outbox.chat_id == chat_id) & (Outbox.status == "pending") & (Outbox.next_try_at < until))
         .execute())
    return back


def recover() -> int:
    """At the bot's start: rows a crashed bot left in ``sending`` go back to pending at once (there is
    one bot process, so nobody else is sending them); they resume from ``parts_sent``."""
    with atomic():
        return Outbox.update(status="pending", locked_until=None).where(Outbox.status == "sending").execute()


def retry(outbox_id: int, error: str, *, delay_s: float | None = None, now: dt.datetime | None = None) -> str:
    """Sending failed: back to pending after a backoff (or FloodWait's delay), dead after MAX_ATTEMPTS."""
    now = now or utcnow()
    with atomic():
        row = Outbox.get_or_none(Outbox.id == outbox_id)
        if row is None or row.status != "sending":
            return row.status if row else "missing"
        if row.attempts >= MAX_ATTEMPTS:
            status, next_try = "dead", row.next_try_at
        else:
            wait = delay_s if delay_s is not None else BACKOFF_S[min(row.attempts, len(BACKOFF_S)) - 1]
            status, next_try = "pending", now + dt.timedelta(seconds=wait)
        (Outbox.update(status=status, next_try_at=next_try, locked_until=None, last_error=error[:1000])
         .where((Outbox.id == outbox_id) & (Outbox.status == "sending")).execute())
        return status


def give_up(outbox_id: int, error: str) -> None:
    """Never deliverable (the user blocked the bot): dead at once."""
    with atomic():
        (Outbox.update(status="dead", locked_until=None, last_error=error[:1000])
         .where((Outbox.id == outbox_id) & Outbox.status.in_(("pending", "sending"))).execute())


def give_up_blocked(outbox_id: int, error: str) -> None:
    """The user blocked the bot: mark them (delivery skips them until they come back) and drop the row."""
    with atomic():
        row = Outbox.get_or_none(Outbox.id == outbox_id)
        if row is not None:
            User.update(blocked_bot=True).where(User.id == row.user_id).execute()
        give_up(outbox_id, error)


# Rows dropped because the user had blocked the bot, and how long they wait for the user to come back.
BLOCKED_ERRORS = ("blocked_bot", "UserIsBlockedError")
REVIVE_DAYS = 7


def revive_blocked(user_id: int) -> int:
    """The user is back (unblocked the bot or wrote to it): what delivery dropped while it was blocked,
    up to a week old, is sent after all — from the part it stopped at. Returns how many rows."""
    since = utcnow() - dt.timedelta(days=REVIVE_DAYS)
    with atomic():
        return (Outbox.update(status="pending", next_try_at=utcnow(), locked_until=None, last_error=None)
                .where((Outbox.user == user_id) & (Outbox.status == "dead")
                       & Outbox.last_error.in_(BLOCKED_ERRORS) & (Outbox.created_at > since)
                       & Outbox.broadcast_id.is_null())  # a broadcast missed is not sent late
                .execute())


def pending_count() -> int:
    with connection():
        return Outbox.select().where(Outbox.status.in_(("pending", "sending"))).count()



KEY_MAX = 96  # outbox.dedupe_key's width


def stored_key(key: str) -> str:
    """``key`` as stored: a key over the column's width keeps a readable head and a hash of the
    whole, so two long keys (e.g. ~110-character charge ids) never collide by being cut."""
    if len(key) <= KEY_MAX:
        return key
    return f"{key[:KEY_MAX - 72]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def enqueue(*, user_id: int, chat_id: int, kind: str, payload: dict, dedupe_key: str, job_id: str | None = None) -> bool:
    """Queue one message for the delivery loop (in the caller's transaction, if any: one statement,
    no savepoint); False when ``dedupe_key`` was queued before."""
    with atomic_statement():
        inserted = (Outbox.insert(dedupe_key=stored_key(dedupe_key), job=job_id, user=user_id, chat_id=chat_id,
                                  kind=kind, payload=json.dumps(payload, ensure_ascii=False))
                    .on_conflict_ignore().returning(Outbox.id).execute())
        return next(iter(inserted), None) is not None

