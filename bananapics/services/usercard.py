"""A user as the admin tools see them: the card (balance, held, debt, role, ban, referrer, friends,
spent, jobs, payments), read in one connection. Reads only: support and admin (``read``). The search
box that finds the user is ``services.search``."""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from bananapics.db import connection
from bananapics.models import Job, Payment, Transfer, User
from bananapics.services import audit, users
from bananapics.services.audit import Actor


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
