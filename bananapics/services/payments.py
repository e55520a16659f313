"""Stars payments as ledger events: credit a charge once, reverse it once.

The Telegram side (invoices, pre-checkout, ``refundStarsCharge``) lives in the bot; this module is
what it calls. :func:`credit` is the whole successful-payment transaction: the payment row (UNIQUE
charge id) is inserted first with ``ON CONFLICT DO NOTHING``, so a replayed update credits nothing;
then the top-up (and package bonus), the referral cashback and the intent.
"""

from __future__ import annotations

from dataclasses import dataclass

from bananapics.db import atomic, connection, is_postgres
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import InvoiceIntent, Payment, Transfer, User, db, utcnow
from bananapics.services import audit, ledger, referrals
from bananapics.services.audit import Actor


@dataclass(frozen=True)
class Credit:
    payment_id: int
    charge_id: str
    user_id: int
    tokens: int
    bonus: int
    cashback: int
    referrer_id: int | None
    replayed: bool


def credit(user_id: int, charge_id: str, *, stars: int, tokens: int, bonus: int = 0,
           intent_id: int | None = None, provider_charge_id: str = "") -> Credit:
    """Record a successful Stars payment and credit its tokens exactly once per charge id."""
    if not charge_id or len(charge_id) > 128:
        raise InvalidInput("a charge id must be 1-128 characters")
    if stars <= 0 or tokens <= 0 or bonus < 0:
        raise InvalidInput("stars and tokens must be positive")
    p = db.obj.param
    with atomic():
        # Lock the payer first (Postgres; SQLite's BEGIN IMMEDIATE already serialises writers): two
        # top-ups must not both count as "first", and a referral attach racing this top-up either
        # commits before it (and gets its cashback) or sees first_topup_at and is refused.
        query = User.select().where(User.id == user_id)
        user = (query.for_update() if is_postgres() else query).first()
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        cursor = db.execute_sql(
            "INSERT INTO payments (charge_id, provider_charge_id, user_id, intent_id, stars, tokens, bonus_tokens,"
            f" status, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, 'paid', {p})"
            " ON CONFLICT (charge_id) DO NOTHING RETURNING id",
            (charge_id, provider_charge_id, user_id, intent_id, stars, tokens, bonus, utcnow()),
        )
        row = cursor.fetchone()
        if row is None:
            return _replayed(charge_id)
        payment_id = row[0]
        first = user.first_topup_at is None
        ledger.topup(user_id, tokens, charge_id, bonus=bonus)
        if first:
            User.update(first_topup_at=utcnow()).where(User.id == user_id).execute()
        amount = 0
        if user.referrer_id is not None:
            amount = referrals.rules().cashback(tokens, first)
            if amount:
                ledger.cashback(user.referrer_id, amount, charge_id)
        if intent_id is not None:
            InvoiceIntent.update(status="paid", paid_at=utcnow(), charge_id=charge_id) \
                .where(InvoiceIntent.id == intent_id).execute()
    return Credit(payment_id, charge_id, user_id, tokens, bonus, amount, user.referrer_id if amount else None, False)


def _replayed(charge_id: str) -> Credit:
    payment = Payment.get(Payment.charge_id == charge_id)
    cb = Transfer.get_or_none((Transfer.kind == "cashback") & (Transfer.ref == charge_id))
    return Credit(payment.id, charge_id, payment.user_id, payment.tokens, payment.bonus_tokens,
                  cb.amount if cb else 0, cb.credit_user_id if cb else None, True)


def mark_refunded(charge_id: str, *, actor: Actor, reason: str) -> bool:
    """Reverse a paid charge in the ledger once; False when it was already refunded."""
    actor.require("support", "refunding payments")
    with atomic():
        payment = Payment.get_or_none(Payment.charge_id == charge_id)
        if payment is None:
            raise NotFound(f"no payment with charge id {charge_id}")
        changed = (
            Payment.update(status="refunded", refunded_at=utcnow(), refund_reason=reason)
            .where((Payment.charge_id == charge_id) & (Payment.status == "paid"))
            .execute()
        )
        if changed != 1:
            return False
        ledger.reverse_topup(charge_id, actor=actor.name, reason=reason)
        audit.record(actor, "payments.refund", f"charge:{charge_id}", before={"status": "paid"},
                     after={"status": "refunded"}, reason=reason)
    return True


def for_user(user_id: int, limit: int = 20) -> list[Payment]:
    with connection():
        return list(Payment.select().where(Payment.user == user_id).order_by(Payment.id.desc()).limit(limit))
