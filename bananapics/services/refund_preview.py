"""What a Stars refund would do, before anyone confirms it: "Refund ⭐250 to @ann: −550 tokens,
−55 cashback from @bob". Reads only (``read``); ``payments.refund`` decides and logs the refund.
"""

from __future__ import annotations

from dataclasses import dataclass

from bananapics.db import connection
from bananapics.errors import NotFound
from bananapics.models import Payment, Transfer, User
from bananapics.services import audit, payments
from bananapics.services.audit import Actor


@dataclass(frozen=True)
class Preview:
    charge_id: str
    payment_id: int
    status: str  # paid | refunded
    stars: int
    payer_tg_id: int
    payer_username: str | None
    tokens: int  # taken back from the payer: the charge's tokens and bonus
    payer_available: int
    shortfall: int  # what the payer no longer has: the refund needs force and leaves this as debt
    cashback: int  # taken back from the referrer (what they no longer have becomes their debt)
    referrer_tg_id: int | None
    referrer_username: str | None
    over_support_limit: bool  # more Stars than support may refund


def preview(payment_id: int, *, actor: Actor) -> Preview:
    """The exact effect of refunding payment ``payment_id`` now."""
    audit.authorize(actor, audit.READ, f"payment:{payment_id}")
    with connection():
        payment = Payment.get_or_none(Payment.id == payment_id)
        if payment is None:
            raise NotFound(f"payment #{payment_id} not found")
        payer = User.get_by_id(payment.user_id)
        cashback = (Transfer.select().where((Transfer.kind == "cashback") & (Transfer.ref == payment.charge_id))
                    .first())
        referrer = User.get_by_id(cashback.credit_user_id) if cashback is not None else None
    need = payment.tokens + payment.bonus_tokens
    return Preview(payment.charge_id, payment.id, payment.status, payment.stars, payer.tg_id, payer.username, need,
                   payer.available, max(0, need - payer.available), cashback.amount if cashback else 0,
                   referrer.tg_id if referrer else None, referrer.username if referrer else None,
                   payment.stars > payments.support_refund_limit())


def payment(payment_id: int, *, actor: Actor) -> tuple[Payment, list[Transfer]]:
    """A payment (its payer joined) and every transfer it caused, in order."""
    audit.authorize(actor, audit.READ, f"payment:{payment_id}")
    with connection():
        row = Payment.select(Payment, User).join(User).where(Payment.id == payment_id).first()
        if row is None:
            raise NotFound(f"payment #{payment_id} not found")
        moves = list(Transfer.select().where(Transfer.ref == row.charge_id).order_by(Transfer.id))
    return row, moves
