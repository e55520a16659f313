"""Referral program: one code per user, attach once, cashback on a friend's top-ups.

Rules (all checked here, not in the bot):

* a user can be attached to a referrer once, never to themselves, never into a cycle, and never
  after their first top-up (a guarded UPDATE on ``referrer_id IS NULL AND first_topup_at IS NULL``);
* cashback is ``⌊tokens × percent / 100⌋`` of the friend's top-up, paid on every top-up or only the
  first (``referral.mode``), in the same transaction as the top-up (see ``services.payments``);
* percent and mode are admin settings;
* while an admin has referrals switched off (``features.referrals``) no new binding is made and
  top-ups pay no cashback;
* with ``referral.cashback_lock_days`` > 0, a cashback cannot be spent on generations for that
  many days (``jobs.submit`` asks :func:`locked_cashback`): a refund of the friend's top-up within
  them finds it still there and takes it back whole instead of leaving the referrer a debt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee as pw

from bananapics.db import atomic, connection
from bananapics.errors import NotFound, ReferralRejected
from bananapics.models import Payment, Transfer, User, utcnow
from bananapics.services import audit, settings, toggles
from bananapics.services.audit import Actor

MAX_CHAIN = 1000


@dataclass(frozen=True)
class Rules:
    percent: int
    mode: str  # every | first

    def cashback(self, tokens: int, first_topup: bool) -> int:
        if self.percent <= 0 or (self.mode == "first" and not first_topup):
            return 0
        return tokens * self.percent // 100


@dataclass(frozen=True)
class Stats:
    code: str
    friends: int
    earned: int


def rules() -> Rules:
    """The cashback rule now; while referrals are switched off (``features.referrals``) it pays 0."""
    percent = int(settings.get("referral.percent")) if toggles.is_on("referrals") else 0
    return Rules(percent=percent, mode=str(settings.get("referral.mode")))


def set_rules(*, percent: int | None = None, mode: str | None = None, actor: Actor, reason: str | None = None) -> Rules:
    audit.authorize(actor, "settings.set", "setting:referral")
    with atomic():
        if percent is not None:
            settings.set_value("referral.percent", percent, actor=actor, reason=reason)
        if mode is not None:
            settings.set_value("referral.mode", mode, actor=actor, reason=reason)
    return rules()


def attach(user_id: int, code: str) -> User:
    """Bind ``user_id`` to the owner of ``code``; raises ReferralRejected with a reason code, or
    FeatureOff while referrals are switched off."""
    toggles.require("referrals")
    code = (code or "").strip().lower()
    with atomic():
        user = User.get_or_none(User.id == user_id)
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        referrer = User.get_or_none(User.referral_code == code)
        if referrer is None:
            raise ReferralRejected("unknown referral code", title="unknown_code")
        if referrer.id == user.id:
            raise ReferralRejected("you cannot invite yourself", title="self")
        if user.referrer_id is not None:
            raise ReferralRejected("already invited by someone", title="already_bound")
        if user.first_topup_at is not None:
            raise ReferralRejected("referral links work only before the first top-up", title="too_late")
        # Walk up the referrer's chain: binding must not close a cycle.
        cursor, seen = referrer, 0
        while cursor.referrer_id is not None and seen < MAX_CHAIN:
            if cursor.referrer_id == user.id:
                raise ReferralRejected("that would make a referral cycle", title="cycle")
            cursor = User.get_by_id(cursor.referrer_id)
            seen += 1
        bound = (
            User.update(referrer=referrer.id, referred_at=utcnow(), updated_at=utcnow())
            .where((User.id == user.id) & User.referrer.is_null() & User.first_topup_at.is_null())
            .execute()
        )
        if bound != 1:  # changed under us: a concurrent bind or the first top-up won
            fresh = User.get_by_id(user.id)
            if fresh.referrer_id is None and fresh.first_topup_at is not None:
                raise ReferralRejected("referral links work only before the first top-up", title="too_late")
            raise ReferralRejected("already invited by someone", title="already_bound")
    return User.get_by_id(user_id)


def locked_cashback(user_id: int, now: dt.datetime | None = None) -> int:
    """Cashback the user got less than ``referral.cashback_lock_days`` ago for charges not refunded:
    it cannot be spent on generations yet (0 when the setting is off)."""
    days = int(settings.get("referral.cashback_lock_days"))
    if days <= 0:
        return 0
    since = (now or utcnow()) - dt.timedelta(days=days)
    return int(
        Transfer.select(pw.fn.COALESCE(pw.fn.SUM(Transfer.amount), 0))
        .join(Payment, on=(Payment.charge_id == Transfer.ref))
        .where((Transfer.kind == "cashback") & (Transfer.credit_user == user_id) & (Transfer.created_at > since)
               & (Payment.status != "refunded"))
        .scalar()
    )


def stats(user_id: int) -> Stats:
    with connection():
        user = User.get_or_none(User.id == user_id)
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        friends = User.select().where(User.referrer == user_id).count()
        # Only cashback that still stands: a refunded top-up's cashback was reversed in full
        # (clawed back, or left as the referrer's debt), so it is not earned.
        earned = (
            Transfer.select(pw.fn.COALESCE(pw.fn.SUM(Transfer.amount), 0))
            .join(Payment, on=(Payment.charge_id == Transfer.ref))
            .where((Transfer.kind == "cashback") & (Transfer.credit_user == user_id) & (Payment.status != "refunded"))
            .scalar()
        )
    return Stats(user.referral_code, friends, int(earned))
