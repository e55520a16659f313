"""The figures of a user's profile screen, read in one connection."""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from bananapics.db import connection
from bananapics.errors import NotFound
from bananapics.models import Job, Transfer, User
from bananapics.services import referrals

DELIVERED = ("succeeded", "partial")


@dataclass(frozen=True)
class Profile:
    tg_id: int
    language: str
    available: int
    held: int
    spent: int  # tokens settled for delivered images (refunds excluded)
    generations: int  # jobs that delivered at least one image
    images: int
    friends: int
    earned: int  # referral cashback, net of claw-backs
    debt: int = 0  # tokens a forced refund left owed (repaid from the next top-up)


def summary(user_id: int) -> Profile:
    with connection():
        user = User.get_or_none(User.id == user_id)
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        spent = (Transfer.select(pw.fn.COALESCE(pw.fn.SUM(Transfer.amount), 0))
                 .where((Transfer.debit_user == user_id) & (Transfer.kind == "settle")).scalar())
        done = (Job.select(pw.fn.COUNT(Job.id), pw.fn.COALESCE(pw.fn.SUM(Job.delivered), 0))
                .where((Job.user == user_id) & Job.status.in_(DELIVERED)).tuples().first())
        stats = referrals.stats(user_id)
    return Profile(user.tg_id, user.language, user.available, user.held, int(spent), int(done[0]), int(done[1]),
                   stats.friends, stats.earned, user.debt)
