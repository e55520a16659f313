"""The referral programme in numbers for the admin panel: cashback paid and the top referrers over
the last days (7 and 30 by default). Cashback *paid* is what referrers kept: cashback transfers of
the window minus what refunds took back (reversals and the referrer's debts for them). Reads only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee as pw

from bananapics.db import connection
from bananapics.models import Transfer, User, utcnow
from bananapics.services import audit
from bananapics.services.audit import Actor

WINDOWS = (7, 30)
TOP = 5
TAKEN_BACK = ("cashback_reversal", "cashback_debt")


@dataclass(frozen=True)
class Referrer:
    tg_id: int
    username: str | None
    first_name: str
    friends: int
    cashback: dict[int, int]  # window days → tokens paid in it


@dataclass(frozen=True)
class Summary:
    paid: dict[int, int]  # window days → cashback paid (net of refunds)
    top: list[Referrer]  # by cashback in the longest window


def _paid(since: dt.datetime) -> dict[int, int]:
    """users.id → net cashback since ``since``."""
    out: dict[int, int] = {}
    got = (Transfer.select(Transfer.credit_user, pw.fn.SUM(Transfer.amount))
           .where((Transfer.kind == "cashback") & (Transfer.created_at >= since)).group_by(Transfer.credit_user).tuples())
    for user_id, total in got:
        out[user_id] = out.get(user_id, 0) + int(total)
    back = (Transfer.select(Transfer.debit_user, pw.fn.SUM(Transfer.amount))
            .where(Transfer.kind.in_(TAKEN_BACK) & (Transfer.created_at >= since) & Transfer.debit_user.is_null(False))
            .group_by(Transfer.debit_user).tuples())
    for user_id, total in back:
        out[user_id] = out.get(user_id, 0) - int(total)
    return out


def summary(*, actor: Actor, windows: tuple[int, ...] = WINDOWS, top: int = TOP,
            now: dt.datetime | None = None) -> Summary:
    """Cashback paid per window and the ``top`` referrers of the longest window."""
    audit.authorize(actor, "read", "referrals")
    now = now or utcnow()
    with connection():
        per = {days: _paid(now - dt.timedelta(days=days)) for days in windows}
        longest = per[max(windows)]
        best = sorted((uid for uid, amount in longest.items() if amount > 0), key=lambda u: (-longest[u], u))[:top]
        rows = {u.id: u for u in User.select().where(User.id.in_(best))} if best else {}
        friends = dict(User.select(User.referrer, pw.fn.COUNT(User.id)).where(User.referrer.in_(best))
                       .group_by(User.referrer).tuples()) if best else {}
        leaders = [Referrer(rows[uid].tg_id, rows[uid].username, rows[uid].first_name or "", int(friends.get(uid, 0)),
                            {days: per[days].get(uid, 0) for days in windows}) for uid in best if uid in rows]
    return Summary({days: sum(per[days].values()) for days in windows}, leaders)
