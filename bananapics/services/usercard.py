"""A user as the admin tools see them: the card (balance, held, debt, role, ban, referrer, friends,
spent, jobs, payments) and the one search box.

The search box takes a Telegram id (a number), a ``@username`` prefix or any part of a name
(``users.search_condition``), and also a payment's charge id or a referral code, which find the
payer or the code's owner. Results page by keyset (``services.lists``) with the total, for "N of M".
Reads only: support and admin (``read``).

Note: another module (``services.search``) is planned to own the admin user search with the
signature ``users(actor, query, *, limit=20, after=None)``; :func:`find` keeps that shape (plus the
total) so the panel can switch to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from bananapics.db import connection
from bananapics.errors import InvalidInput
from bananapics.models import Job, Payment, Transfer, User
from bananapics.services import audit, lists, users
from bananapics.services.audit import Actor
from bananapics.services.lists import Page

CODE_LENGTH = users.CODE_LENGTH


@dataclass(frozen=True)
class Card:
    tg_id: int
    username: str | None
    first_name: str
    last_name: str
    language: str
    role: str
    banned: bool
    ban_reason: str | None
    available: int
    held: int
    debt: int
    referrer_tg_id: int | None
    referrer_username: str | None
    friends: int  # users this user invited
    spent: int  # tokens settled for delivered images
    jobs: int
    payments: int
    stars_paid: int  # Stars of payments not refunded
    joined: object  # datetime


def card(tg_id: int, *, actor: Actor) -> Card:
    """Everything the admin's user card shows, read in one connection."""
    audit.authorize(actor, audit.READ, f"user:{tg_id}")
    user = users.get(tg_id)
    with connection():
        referrer = User.get_or_none(User.id == user.referrer_id) if user.referrer_id else None
        friends = User.select().where(User.referrer == user.id).count()
        spent = (Transfer.select(pw.fn.COALESCE(pw.fn.SUM(Transfer.amount), 0))
                 .where((Transfer.debit_user == user.id) & (Transfer.kind == "settle")).scalar())
        jobs = Job.select().where(Job.user == user.id).count()
        paid = (Payment.select(pw.fn.COUNT(Payment.id),
                               pw.fn.COALESCE(pw.fn.SUM(pw.Case(None, [(Payment.status == "paid", Payment.stars)], 0)), 0))
                .where(Payment.user == user.id).tuples().first())
    return Card(user.tg_id, user.username, user.first_name, user.last_name, user.language, user.role,
                bool(user.banned), user.ban_reason, user.available, user.held, user.debt,
                referrer.tg_id if referrer else None, referrer.username if referrer else None,
                friends, int(spent), jobs, int(paid[0]), int(paid[1]), user.created_at)


def _exact(text: str) -> pw.Expression | None:
    """A charge id's payer or a referral code's owner, as a condition on users (None: neither)."""
    if " " in text or len(text) > 255:
        return None
    payer = Payment.select(Payment.user).where(Payment.charge_id == text)
    condition = User.id.in_(payer)
    if len(text) == CODE_LENGTH and text.isalnum():
        condition = condition | (User.referral_code == text.lower())
    return condition


def _condition(query: str) -> pw.Expression:
    text = (query or "").strip()
    if not text:
        raise InvalidInput("search needs some text, a @username, a Telegram id, a charge id or a referral code")
    condition = users.search_condition(text)
    exact = _exact(text)
    return condition | exact if exact is not None else condition


def find(actor: Actor, query: str, *, limit: int = 20, after: str | None = None) -> tuple[Page[User], int]:
    """One page of the users ``query`` finds (newest first) and how many it finds in all."""
    audit.authorize(actor, audit.READ, "users")
    condition = _condition(query)
    with connection():
        total = User.select().where(condition).count()
        query_rows = User.select().where(condition)
        return lists.keyset(query_rows, User, limit, after), total
