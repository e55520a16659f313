"""Stars payments as ledger events: credit a charge once, reverse it once.

The Telegram side (invoices, pre-checkout, sending messages) lives in the bot; this module is what
it calls. :func:`credit` is the whole successful-payment transaction: the payment row (UNIQUE charge
id) is inserted first with ``ON CONFLICT DO NOTHING``, so a replayed update credits nothing; then
the top-up (and package bonus), the repayment of any debt, the referral cashback and the intent.

Refund policy (ARCHITECTURE §4, "the user already spent the tokens"):

* a refund takes back the charge's tokens and bonus, and claws back the referrer's cashback as far
  as the referrer still has it (:func:`bananapics.services.ledger.reverse_topup`);
* an admin refund (:func:`refund`) is refused when the payer's available balance does not cover
  it, unless the admin forces it; a forced refund lends the shortfall to the payer from their
  ``debt`` account, so the ledger stays exact and ``users.debt`` records what they owe;
* a refund Telegram already made (``MessageActionPaymentRefunded``, reconcile) cannot be refused:
  it always reverses, with a debt when needed;
* while ``debt > 0`` the user cannot start a generation (``jobs.submit`` raises InDebt); their next
  top-up repays it first, in the same transaction.

Two different charges for one invoice intent (an old invoice paid twice before the first payment
landed) are both credited: the user paid twice, each charge id credits once and can be refunded
on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bananapics.db import atomic, connection, is_postgres
from bananapics.errors import (AlreadyRefunded, ChargeAlreadyRefunded, InsufficientTokens, InvalidInput, NotFound,
                               PaymentMismatch, RefundBlocked)
from bananapics.models import InvoiceIntent, Payment, Transfer, User, db, utcnow
from bananapics.services import audit, invoices, ledger, outbox, referrals
from bananapics.services.audit import Actor
from bananapics.services.stars import StarsApi

TELEGRAM = "telegram"  # refunded_by for refunds made outside the bot
# Outbox kinds the bot's delivery loop sends (``bananapics.bot.payments``): what a process without
# the Telegram session (CLI, worker) or a handler that must not send twice has to tell the user.
NOTICE_CREDITED = "payment_credited"
NOTICE_REFUNDED = "payment_refunded"


def _notice(user: User, kind: str, charge_id: str, **data: int | str) -> None:
    """Queue one message to the payer in the current transaction; once per (kind, charge)."""
    outbox.enqueue(user_id=user.id, chat_id=user.tg_id, kind=kind, payload={"charge_id": charge_id, **data},
                   dedupe_key=f"{kind}:{charge_id}")


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
    repaid: int = 0  # debt repaid from this top-up


@dataclass(frozen=True)
class Refund:
    charge_id: str
    user_id: int
    stars: int
    tokens: int  # taken back: the charge's tokens plus its bonus
    debt: int  # what the payer could not give back and now owes
    clawed: int  # cashback taken back from the referrer
    telegram_already: bool = False  # Telegram answered CHARGE_ALREADY_REFUNDED
    replayed: bool = False  # someone else reversed it first; nothing changed now


def _locked_user(user_id: int) -> User | None:
    """The user row, locked until commit on Postgres (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    query = User.select().where(User.id == user_id)
    return (query.for_update() if is_postgres() else query).first()


def credit(user_id: int, charge_id: str, *, stars: int, tokens: int, bonus: int = 0,
           intent_id: int | None = None, provider_charge_id: str = "", source: str = "bot") -> Credit:
    """Record a successful Stars payment and credit its tokens exactly once per charge id."""
    if not charge_id or len(charge_id) > 240:
        raise InvalidInput("a charge id must be 1-240 characters")
    if stars <= 0 or tokens <= 0 or bonus < 0:
        raise InvalidInput("stars and tokens must be positive")
    p = db.obj.param
    with atomic():
        # Lock the payer first: two top-ups must not both count as "first", and a referral attach
        # racing this top-up either commits before it (and gets its cashback) or sees
        # first_topup_at and is refused.
        user = _locked_user(user_id)
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        cursor = db.execute_sql(
            "INSERT INTO payments (charge_id, provider_charge_id, user_id, intent_id, stars, tokens, bonus_tokens,"
            f" status, created_at, source) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, 'paid', {p}, {p})"
            " ON CONFLICT (charge_id) DO NOTHING RETURNING id",
            (charge_id, provider_charge_id, user_id, intent_id, stars, tokens, bonus, utcnow(), source),
        )
        row = cursor.fetchone()
        if row is None:
            return _replayed(charge_id)
        payment_id = row[0]
        first = user.first_topup_at is None
        ledger.topup(user_id, tokens, charge_id, bonus=bonus)
        repaid = ledger.repay_debt(user_id, charge_id) if user.debt else None
        if first:
            User.update(first_topup_at=utcnow()).where(User.id == user_id).execute()
        amount = 0
        if user.referrer_id is not None:
            amount = referrals.rules().cashback(tokens, first)
            if amount:
                ledger.cashback(user.referrer_id, amount, charge_id)
        if source != "bot":  # nobody saw the payment update: tell the payer through the outbox
            _notice(user, NOTICE_CREDITED, charge_id, tokens=tokens, bonus=bonus, repaid=repaid.amount if repaid else 0)
        if intent_id is not None:
            # A second charge for an already paid intent keeps the first charge id on the intent.
            InvoiceIntent.update(status="paid", paid_at=utcnow(), charge_id=charge_id) \
                .where((InvoiceIntent.id == intent_id) & (InvoiceIntent.status != "paid")).execute()
    return Credit(payment_id, charge_id, user_id, tokens, bonus, amount, user.referrer_id if amount else None, False,
                  repaid.amount if repaid else 0)


def _replayed(charge_id: str) -> Credit:
    payment = Payment.get(Payment.charge_id == charge_id)
    cb = Transfer.get_or_none((Transfer.kind == "cashback") & (Transfer.ref == charge_id))
    repaid = Transfer.get_or_none((Transfer.kind == "debt_repay") & (Transfer.ref == charge_id))
    return Credit(payment.id, charge_id, payment.user_id, payment.tokens, payment.bonus_tokens,
                  cb.amount if cb else 0, cb.credit_user_id if cb else None, True, repaid.amount if repaid else 0)


def credit_charge(tg_id: int, payload: bytes | str, charge_id: str, *, currency: str, amount: int,
                  provider_charge_id: str = "", source: str = "bot") -> Credit:
    """A Stars charge as Telegram reports it (``MessageActionPaymentSentMe`` or the Stars history):
    find the payer's invoice intent by payload and credit what it promised, once per charge id.

    A charge that matches no invoice of this payer (unknown payload, someone else's, a different
    amount) raises PaymentMismatch and changes nothing: support sorts it out (reconcile lists it).
    """
    with connection():
        if Payment.select(Payment.id).where(Payment.charge_id == charge_id).exists():
            return _replayed(charge_id)
        text = invoices.decode_payload(payload)
        intent = InvoiceIntent.get_or_none(InvoiceIntent.payload == text) if text else None
        payer = User.get_or_none(User.tg_id == tg_id)
    if intent is None:
        raise PaymentMismatch(f"charge {charge_id}: the payload matches no invoice")
    if payer is None or intent.user_id != payer.id:
        raise PaymentMismatch(f"charge {charge_id}: paid by {tg_id}, but the invoice belongs to another user")
    if currency != invoices.CURRENCY or amount != intent.stars:
        raise PaymentMismatch(f"charge {charge_id}: {amount} {currency} paid for an invoice of {intent.stars} XTR")
    return credit(payer.id, charge_id, stars=intent.stars, tokens=intent.tokens, bonus=intent.bonus_tokens,
                  intent_id=intent.id, provider_charge_id=provider_charge_id, source=source)


# ---------------------------------------------------------------- refunds

def _reverse(charge_id: str, *, by: str, reason: str, allow_debt: bool) -> Refund | None:
    """Reverse a paid charge in the ledger once; None when it was already refunded.

    The guarded UPDATE of the payment's status is the "exactly once" claim. When the payer has
    less than the charge gave them, the shortfall is lent from their debt account first (only
    with ``allow_debt``; otherwise InsufficientTokens and nothing changes).
    """
    with atomic():
        payment = Payment.get_or_none(Payment.charge_id == charge_id)
        if payment is None:
            raise NotFound(f"no payment with charge id {charge_id}")
        user = _locked_user(payment.user_id)
        changed = (
            Payment.update(status="refunded", refunded_at=utcnow(), refund_reason=reason, refunded_by=by)
            .where((Payment.charge_id == charge_id) & (Payment.status == "paid"))
            .execute()
        )
        if changed != 1:
            return None
        need = payment.tokens + payment.bonus_tokens
        shortfall = max(0, need - user.available)
        if shortfall:
            if not allow_debt:
                raise InsufficientTokens(user.available, need)  # rolls the status back
            ledger.borrow(user.id, shortfall, charge_id, actor=by, reason=reason)
            Payment.update(refund_debt=shortfall).where(Payment.charge_id == charge_id).execute()
        done = ledger.reverse_topup(charge_id, actor=by, reason=reason)
        _notice(user, NOTICE_REFUNDED, charge_id, stars=payment.stars, tokens=need, debt=shortfall)
    clawed = sum(t.amount for t in done if t.kind == "cashback_reversal")
    return Refund(charge_id, payment.user_id, payment.stars, need, shortfall, clawed)


def _as_refund(payment: Payment, **flags: bool) -> Refund:
    clawed = Transfer.get_or_none((Transfer.kind == "cashback_reversal") & (Transfer.ref == payment.charge_id))
    return Refund(payment.charge_id, payment.user_id, payment.stars, payment.tokens + payment.bonus_tokens,
                  payment.refund_debt, clawed.amount if clawed else 0, **flags)


def mark_refunded(charge_id: str, *, actor: Actor, reason: str) -> bool:
    """Reverse a paid charge in the ledger once, without asking Telegram and never into debt
    (InsufficientTokens when the payer spent the tokens); False when it was already refunded."""
    audit.authorize(actor, "payments.refund", f"charge:{charge_id}")
    with atomic():
        done = _reverse(charge_id, by=actor.name, reason=reason, allow_debt=False)
        if done is None:
            return False
        audit.record(actor, "payments.refund", f"charge:{charge_id}", before={"status": "paid"},
                     after={"status": "refunded"}, reason=reason)
    return True


def refund(charge_id: str, *, actor: Actor, reason: str, telegram: StarsApi, force: bool = False) -> Refund:
    """An admin refund: Telegram returns the Stars (``payments.refundStarsCharge``), then the ledger
    takes back the tokens, bonus and cashback once, with an admin-log row.

    Refused (RefundBlocked) when the payer's available balance does not cover the refund, unless
    ``force`` (admin only), which leaves the shortfall as a debt. A charge refunded before raises
    AlreadyRefunded and calls nobody. If Telegram says CHARGE_ALREADY_REFUNDED (refunded elsewhere,
    update not seen yet) the ledger is brought in line all the same. Any other Telegram error
    changes nothing.
    """
    audit.authorize(actor, "payments.refund", f"charge:{charge_id}")
    if force:
        audit.authorize(actor, "payments.refund_force", f"charge:{charge_id}")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a refund needs a reason")
    with connection():
        payment = Payment.get_or_none(Payment.charge_id == charge_id)
        if payment is None:
            raise NotFound(f"no payment with charge id {charge_id}")
        if payment.status == "refunded":
            raise AlreadyRefunded(f"charge {charge_id} was already refunded "
                                  f"({payment.refunded_at:%Y-%m-%d %H:%M} by {payment.refunded_by or 'unknown'})")
        user = User.get_by_id(payment.user_id)
    need = payment.tokens + payment.bonus_tokens
    if user.available < need and not force:
        raise RefundBlocked(
            f"user {user.tg_id} has {user.available} tokens available but this refund takes back {need}: "
            f"they spent them. Refund with force to leave a debt of {need - user.available} tokens, "
            "which blocks generation until their next top-up", available=user.available, needed=need)
    telegram_already = False
    try:
        telegram.refund_charge(user.tg_id, charge_id)
    except ChargeAlreadyRefunded:
        telegram_already = True
    # Telegram has returned the Stars: from here on the ledger must follow, debt or not.
    with atomic():
        done = _reverse(charge_id, by=actor.name, reason=reason, allow_debt=True)
        if done is None:  # the refund update reached the bot first and reversed it
            return _as_refund(Payment.get(Payment.charge_id == charge_id), telegram_already=telegram_already,
                              replayed=True)
        audit.record(actor, "payments.refund", f"charge:{charge_id}",
                     before={"status": "paid", "available": user.available, "debt": user.debt},
                     after={"status": "refunded", "tokens": need, "debt_added": done.debt, "forced": force,
                            "telegram": "already refunded" if telegram_already else "refunded"},
                     reason=reason)
    return replace(done, telegram_already=telegram_already)


def refunded_by_telegram(charge_id: str, *, reason: str = "refunded through Telegram") -> Refund | None:
    """Telegram refunded a charge (``MessageActionPaymentRefunded``, or seen by reconcile): reverse
    it once, into debt if the tokens are gone. None when it was reversed already (a replay, or our
    own admin refund coming back as an update); NotFound for a charge never credited."""
    return _reverse(charge_id, by=TELEGRAM, reason=reason, allow_debt=True)


# ---------------------------------------------------------------- reads

def get(charge_id: str) -> Payment:
    with connection():
        payment = Payment.get_or_none(Payment.charge_id == charge_id)
    if payment is None:
        raise NotFound(f"no payment with charge id {charge_id}")
    return payment


def get_for_user(user_id: int, payment_id: int) -> Payment:
    """A payment the user may look at (theirs), else NotFound."""
    with connection():
        payment = Payment.get_or_none((Payment.id == payment_id) & (Payment.user == user_id))
    if payment is None:
        raise NotFound("no such payment", title="stale")
    return payment


def for_user(user_id: int, limit: int = 20, offset: int = 0) -> list[Payment]:
    with connection():
        return list(Payment.select().where(Payment.user == user_id)
                    .order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit).offset(offset))


def count_for_user(user_id: int) -> int:
    with connection():
        return Payment.select().where(Payment.user == user_id).count()
