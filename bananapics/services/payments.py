"""Stars payments as ledger events: credit a charge once, reverse it once.

The Telegram side (invoices, pre-checkout, sending messages) lives in the bot; this module is what
it calls. :func:`credit` is the whole successful-payment transaction: the payment row (UNIQUE charge
id) is inserted first with ``ON CONFLICT DO NOTHING``, so a replayed update credits nothing; then
the top-up (and package bonus), the repayment of any debt, the referral cashback and the intent.

Refund policy (ARCHITECTURE §4, "the user already spent the tokens"):

* a refund takes back the charge's tokens and bonus, and the whole referral cashback it paid
  (:func:`bananapics.services.ledger.reverse_topup`): what the referrer no longer has (spent, or
  held by a running job) is lent to them and becomes their debt, like the payer's; they are told;
* an operator refund (:func:`refund`) is refused when the payer's available balance does not
  cover it, unless an admin forces it; a forced refund lends the shortfall to the payer from their
  ``debt`` account, so the ledger stays exact and ``users.debt`` records what they owe;
* support may refund payments of up to ``admin.support_refund_limit`` Stars; larger ones, forced
  refunds and :func:`mark_refunded` (ledger only, no Stars returned) need an admin;
* everything that can refuse a refund is decided before Telegram is asked (it cannot be undone);
  after Telegram returned the Stars the ledger always follows, into debt if the payer spent tokens
  during the call (the admin log says ``spent_during_refund``);
* a refund Telegram already made (``MessageActionPaymentRefunded``, reconcile) cannot be refused:
  it always reverses, with a debt when needed; an operator's refund it overtook is still logged;
* while ``debt > 0`` the user cannot start a generation (``jobs.submit`` raises InDebt); their next
  top-up repays it first, in the same transaction.

Two different charges for one invoice intent (an old invoice paid twice before the first payment
landed) are both credited: the user paid twice, each charge id credits once and can be refunded
on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bananapics import logs, metrics
from bananapics.db import atomic, connection, is_postgres
from bananapics.errors import (AlreadyRefunded, ChargeAlreadyRefunded, InsufficientTokens, InvalidInput, NotFound,
                               PaymentMismatch, RefundBlocked)
from bananapics.models import InvoiceIntent, Payment, Transfer, User, db, utcnow
from bananapics.services import audit, invoices, ledger, outbox, referrals, settings
from bananapics.services.audit import Actor
from bananapics.services.stars import StarsApi

TELEGRAM = "telegram"  # refunded_by for refunds made outside the bot
# Outbox kinds the bot's delivery loop sends (``bananapics.bot.payments``): what a process without
# the Telegram session (CLI, worker) or a handler that must not send twice has to tell the user.
NOTICE_CREDITED = "payment_credited"
NOTICE_REFUNDED = "payment_refunded"
NOTICE_CASHBACK_REVERSED = "cashback_reversed"  # to the referrer: a friend's refunded top-up took their cashback back


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
    referrer_debt: int = 0  # cashback the referrer no longer had, now their debt


def _clawback(moves: list[tuple[str, int, int | None]]) -> tuple[int, int, int | None]:
    """(taken from the referrer's available, left as their debt, the referrer) from a refund's
    ``(kind, amount, debit user)`` moves."""
    reversal = next((m for m in moves if m[0] == "cashback_reversal"), None)
    if reversal is None:
        return 0, 0, None
    debt = sum(amount for kind, amount, _ in moves if kind == "cashback_debt")
    return reversal[1] - debt, debt, reversal[2]


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
    with logs.context(charge_id=charge_id):  # on every log line of this credit, not after it
        return _credit(user_id, charge_id, stars=stars, tokens=tokens, bonus=bonus, intent_id=intent_id,
                       provider_charge_id=provider_charge_id, source=source)


def _credit(user_id: int, charge_id: str, *, stars: int, tokens: int, bonus: int, intent_id: int | None,
            provider_charge_id: str, source: str) -> Credit:
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
    metrics.payment(stars, tokens + bonus)
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
        clawed, referrer_debt, referrer_id = _clawback([(t.kind, t.amount, t.debit.user_id) for t in done])
        _notice(user, NOTICE_REFUNDED, charge_id, stars=payment.stars, tokens=need, debt=shortfall)
        if referrer_id is not None:
            _notice(User.get_by_id(referrer_id), NOTICE_CASHBACK_REVERSED, charge_id, tokens=clawed + referrer_debt,
                    debt=referrer_debt)
    metrics.stars_refund(payment.stars)
    return Refund(charge_id, payment.user_id, payment.stars, need, shortfall, clawed, referrer_debt=referrer_debt)


def _as_refund(payment: Payment, **flags: bool) -> Refund:
    rows = (Transfer.select(Transfer.kind, Transfer.amount, Transfer.debit_user)
            .where((Transfer.ref == payment.charge_id) & Transfer.kind.in_(("cashback_reversal", "cashback_debt"))))
    clawed, referrer_debt, _ = _clawback([(t.kind, t.amount, t.debit_user_id) for t in rows])
    return Refund(payment.charge_id, payment.user_id, payment.stars, payment.tokens + payment.bonus_tokens,
                  payment.refund_debt, clawed, referrer_debt=referrer_debt, **flags)


def mark_refunded(charge_id: str, *, actor: Actor, reason: str) -> bool:
    """Reverse a paid charge in the ledger once, without asking Telegram and never into debt
    (InsufficientTokens when the payer spent the tokens); False when it was already refunded.

    Admin only: it takes the tokens back without returning any Stars, so it is a correction of the
    books (a refund made outside Telegram's API), not a refund support can give."""
    audit.authorize(actor, "payments.mark_refunded", f"charge:{charge_id}")
    with atomic():
        done = _reverse(charge_id, by=actor.name, reason=reason, allow_debt=False)
        if done is None:
            return False
        audit.record(actor, "payments.refund", f"charge:{charge_id}", before={"status": "paid"},
                     after={"status": "refunded", "telegram": "not asked"}, reason=reason)
    return True


def support_refund_limit() -> int:
    """Stars per payment up to which support may refund (``admin.support_refund_limit``)."""
    return int(settings.get("admin.support_refund_limit"))


def _refundable(charge_id: str, actor: Actor, force: bool) -> tuple[Payment, User]:
    """Everything that can refuse a refund, decided before Telegram is asked (it cannot be undone):
    the payment exists and is paid, the actor may refund this many Stars, and, unless ``force``,
    the payer's locked row still covers what the refund takes back."""
    with atomic():
        payment = Payment.get_or_none(Payment.charge_id == charge_id)
        if payment is None:
            raise NotFound(f"no payment with charge id {charge_id}")
        if payment.status == "refunded":
            raise AlreadyRefunded(f"charge {charge_id} was already refunded "
                                  f"({payment.refunded_at:%Y-%m-%d %H:%M} by {payment.refunded_by or 'unknown'})")
        limit = support_refund_limit()
        if payment.stars > limit:
            audit.authorize(actor, "payments.refund_over_limit", f"charge:{charge_id}",
                            why=f"support may refund up to {limit} ⭐ per payment (admin.support_refund_limit); "
                                f"this one is {payment.stars} ⭐")
        user = _locked_user(payment.user_id)
        need = payment.tokens + payment.bonus_tokens
        if user.available < need and not force:
            raise RefundBlocked(
                f"user {user.tg_id} has {user.available} tokens available but this refund takes back {need}: "
                f"they spent them. Refund with force to leave a debt of {need - user.available} tokens, "
                "which blocks generation until their next top-up", available=user.available, needed=need)
    return payment, user


def refund(charge_id: str, *, actor: Actor, reason: str, telegram: StarsApi, force: bool = False) -> Refund:
    """An operator refund: Telegram returns the Stars (``payments.refundStarsCharge``), then the
    ledger takes back the tokens, bonus and cashback once, with an admin-log row.

    Support may refund payments of up to ``admin.support_refund_limit`` Stars; larger ones and
    forced refunds need an admin (PermissionDenied, nothing changes). A charge refunded before
    raises AlreadyRefunded and calls nobody. Any Telegram error other than CHARGE_ALREADY_REFUNDED
    changes nothing.

    The order of the checks is the point: Telegram's refund cannot be taken back, so whatever may
    refuse the refund is decided first, on the payer's locked row (:func:`_refundable`): without
    ``force`` a payer who spent the tokens gets RefundBlocked and Telegram is never called. Once
    Telegram has returned the Stars (or says it already had), the ledger must follow, so the
    reversal runs with debt allowed on the payer's row locked again: if the payer spent tokens
    during the Telegram call, the shortfall becomes their debt although nobody forced it, and the
    admin-log row says so (``spent_during_refund``). Refusing there would leave the payer with both
    the Stars and the tokens.

    If Telegram's refund update (or reconcile) reversed the charge first, the operator's refund is
    logged all the same and the payment names them and their reason, not "refunded through Telegram".
    """
    audit.authorize(actor, "payments.refund", f"charge:{charge_id}")
    if force:
        audit.authorize(actor, "payments.refund_force", f"charge:{charge_id}")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a refund needs a reason")
    payment, checked = _refundable(charge_id, actor, force)
    telegram_already = False
    try:
        telegram.refund_charge(checked.tg_id, charge_id)
    except ChargeAlreadyRefunded:
        telegram_already = True
    told = "already refunded" if telegram_already else "refunded"
    need = payment.tokens + payment.bonus_tokens
    with atomic():
        user = _locked_user(payment.user_id)
        done = _reverse(charge_id, by=actor.name, reason=reason, allow_debt=True)
        if done is None:  # Telegram's refund update (or reconcile) reached the ledger first
            first = Payment.get(Payment.charge_id == charge_id)
            (Payment.update(refunded_by=actor.name, refund_reason=reason)
             .where((Payment.charge_id == charge_id) & (Payment.refunded_by == TELEGRAM)).execute())
            audit.record(actor, "payments.refund", f"charge:{charge_id}", before={"status": "paid"},
                         after={"status": "refunded", "tokens": need, "debt_added": first.refund_debt,
                                "forced": force, "telegram": told, "ledger_reversed_by": first.refunded_by},
                         reason=reason)
            return _as_refund(Payment.get(Payment.charge_id == charge_id), telegram_already=telegram_already,
                              replayed=True)
        audit.record(actor, "payments.refund", f"charge:{charge_id}",
                     before={"status": "paid", "available": user.available, "debt": user.debt},
                     after={"status": "refunded", "tokens": need, "debt_added": done.debt, "forced": force,
                            "spent_during_refund": bool(done.debt) and not force,
                            "referrer_debt_added": done.referrer_debt, "telegram": told},
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
