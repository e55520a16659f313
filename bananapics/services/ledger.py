"""The double-entry token ledger: the only code that moves tokens.

Accounts are each user's ``available`` and ``held`` plus the system accounts (``stars_in``, ``bonus``,
``referral``, ``adjustment``, ``revenue``). A transfer moves a positive integer amount from a debit
account to a credit account and is never edited; mistakes are fixed by new transfers.

Rules every function here follows (ARCHITECTURE §3, reliability.md §0):

* one transaction per movement (:func:`bananapics.db.atomic`; ``BEGIN IMMEDIATE`` on SQLite);
* the idempotency key is ``UNIQUE(kind, ref)``: the transfer row is inserted first with
  ``ON CONFLICT DO NOTHING``; a replay inserts nothing, moves nothing and returns the first result;
* cached balances change by a conditional UPDATE (``… WHERE available >= amount``), never by
  read-modify-write; CHECK constraints are the last line of defence;
* a hold is a pending transfer resolved exactly once (guarded UPDATE on ``holds.status``): settle
  (held → revenue), refund (held → available), or a partial settle that does both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import peewee as pw

from bananapics.db import atomic, atomic_statement, connection, is_postgres
from bananapics.errors import IdempotencyConflict, InsufficientTokens, InvalidInput, NotFound
from bananapics.models import Hold, Transfer, User, utcnow
from bananapics.models.ledger import SYSTEM_ACCOUNTS, USER_ACCOUNTS
from bananapics.services import audit
from bananapics.services import ledger_sql as sql
from bananapics.services.audit import Actor

MAX_AMOUNT = 10**12
# amount·K stays far inside BIGINT (and SQLite's 64-bit integers) for any share of up to 1000 parts
MAX_SHARE_DENOMINATOR = 1000
# What lends tokens against a user's debt: a refund's shortfall on the payer and on the referrer.
DEBT_KINDS = ("debt", "cashback_debt")


@dataclass(frozen=True)
class Account:
    """``Account(user_id, "available")`` or ``Account(None, "revenue")``."""

    user_id: int | None
    name: str

    def __post_init__(self) -> None:
        if self.user_id is None and self.name not in SYSTEM_ACCOUNTS:
            raise ValueError(f"unknown system account {self.name!r}")
        if self.user_id is not None and self.name not in USER_ACCOUNTS:
            raise ValueError(f"unknown user account {self.name!r}")


def sys(name: str) -> Account:
    return Account(None, name)


@dataclass(frozen=True)
class TransferResult:
    id: int
    kind: str
    ref: str
    amount: int
    debit: Account
    credit: Account
    replayed: bool = False


@dataclass(frozen=True)
class HoldOutcome:
    ref: str
    user_id: int
    amount: int
    settled: int
    refunded: int
    replayed: bool = False


def _check_amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput(f"amount must be a whole number of tokens, got {amount!r}")
    if amount <= 0:
        raise InvalidInput(f"amount must be positive, got {amount}")
    if amount > MAX_AMOUNT:
        raise InvalidInput(f"amount {amount} is too large")
    return amount


def _check_ref(ref: str) -> str:
    ref = str(ref)
    if not ref or len(ref) > 255:
        raise InvalidInput("an idempotency key must be 1-255 characters")
    return ref


def _result(row: Transfer, replayed: bool) -> TransferResult:
    return TransferResult(
        id=row.id, kind=row.kind, ref=row.ref, amount=row.amount,
        debit=Account(row.debit_user_id, row.debit_account),
        credit=Account(row.credit_user_id, row.credit_account),
        replayed=replayed,
    )


def _insert_transfer(kind: str, ref: str, amount: int, debit: Account, credit: Account,
                     actor: str, reason: str | None) -> int | None:
    """Insert one transfer; ``None`` when ``(kind, ref)`` already exists (a replay)."""
    return sql.insert_transfer(kind, ref, amount, (debit.user_id, debit.name), (credit.user_id, credit.name),
                               actor, reason, utcnow())


def _replay(kind: str, ref: str, amount: int, debit: Account, credit: Account) -> TransferResult:
    row = Transfer.get((Transfer.kind == kind) & (Transfer.ref == ref))
    result = _result(row, replayed=True)
    if (result.amount, result.debit, result.credit) != (amount, debit, credit):
        raise IdempotencyConflict(
            f"key {kind}:{ref} was already used for {result.amount} tokens "
            f"{_named(result.debit)} → {_named(result.credit)}"
        )
    return result


def _label(account: Account) -> str:
    return f"user#{account.user_id}:{account.name}" if account.user_id is not None else f"sys:{account.name}"


def _named(account: Account) -> str:
    """An account as an operator knows it: a user by Telegram id (the internal row id means nothing
    outside the database; the CLI takes Telegram ids)."""
    if account.user_id is None:
        return f"sys:{account.name}"
    row = User.select(User.tg_id).where(User.id == account.user_id).first()
    return f"user {row.tg_id}:{account.name}" if row is not None else _label(account)


def _available(user_id: int) -> int:
    row = User.select(User.available).where(User.id == user_id).first()
    if row is None:
        raise NotFound(f"user #{user_id} not found")
    return row.available


def _apply(account: Account, delta: int) -> None:
    """Change one cached user balance by ``delta``; a debit is guarded so it cannot go negative."""
    if account.user_id is None:
        return  # system accounts have no cached balance (no hot row)
    column = getattr(User, account.name)
    query = User.update({column: column + delta, User.updated_at: utcnow()}).where(User.id == account.user_id)
    if delta < 0:
        query = query.where(column >= -delta)
    if query.execute() != 1:
        if account.name == "available":
            raise InsufficientTokens(_available(account.user_id), -delta)
        raise InvalidInput(f"user #{account.user_id} has less than {-delta} tokens held")


def _move(kind: str, ref: str, amount: int, debit: Account, credit: Account, *,
          actor: str, reason: str | None = None, apply: bool = True) -> TransferResult:
    """Insert and apply one transfer inside the caller's open transaction."""
    try:
        new_id = _insert_transfer(kind, ref, amount, debit, credit, actor, reason)
    except pw.IntegrityError as exc:
        raise NotFound(f"unknown account in {_label(debit)} → {_label(credit)}") from exc
    if new_id is None:
        return _replay(kind, ref, amount, debit, credit)
    if apply:
        _apply(debit, -amount)
        _apply(credit, amount)
    return TransferResult(new_id, kind, ref, amount, debit, credit)


def transfer(kind: str, ref: str, amount: int, debit: Account, credit: Account, *,
             actor: str = "system", reason: str | None = None) -> TransferResult:
    """Move ``amount`` from ``debit`` to ``credit`` once per ``(kind, ref)``.

    Runs in its own transaction, or as a savepoint of the caller's. A replay returns the first
    result (``replayed=True``); the same key with other content raises IdempotencyConflict.
    """
    _check_amount(amount)
    ref = _check_ref(ref)
    if debit == credit:
        raise InvalidInput("a transfer needs two different accounts")
    with atomic():
        return _move(kind, ref, amount, debit, credit, actor=actor, reason=reason)


# ---------------------------------------------------------------- holds (generation jobs)

def hold(user_id: int, amount: int, ref: str, *, actor: str = "system") -> TransferResult:
    """Reserve tokens for a job: available → held, and open the hold ``ref``.

    One transaction: the transfer row (the idempotency guard), one guarded UPDATE of both cached
    balances, the hold row; on Postgres all three are one statement (:mod:`.ledger_sql`).
    """
    _check_amount(amount)
    ref = _check_ref(ref)
    debit, credit = Account(user_id, "available"), Account(user_id, "held")
    if is_postgres():
        return _hold_postgres(user_id, amount, ref, actor)
    with atomic():
        result = _move("hold", ref, amount, debit, credit, actor=actor, apply=False)
        if result.replayed:
            return result
        now = utcnow()
        if sql.hold_balances(user_id, amount, now) != 1:
            raise InsufficientTokens(_available(user_id), amount)
        sql.open_hold(ref, user_id, amount, now)
    return result


def _hold_postgres(user_id: int, amount: int, ref: str, actor: str) -> TransferResult:
    debit, credit = Account(user_id, "available"), Account(user_id, "held")
    with atomic():
        try:
            new_id, held = sql.hold_postgres(user_id, amount, ref, actor, utcnow())
        except pw.IntegrityError as exc:
            raise NotFound(f"user #{user_id} not found") from exc
        if new_id is None:
            return _replay("hold", ref, amount, debit, credit)
        if held != 1:
            raise InsufficientTokens(_available(user_id), amount)  # rolls the transfer row back
    return TransferResult(new_id, "hold", ref, amount, debit, credit)


def _already_closed(ref: str, fixed: int | None) -> HoldOutcome:
    """The close claimed nothing: a replay (the first outcome), an unknown ref, or too big a settle."""
    existing = Hold.get_or_none(Hold.ref == ref)
    if existing is None:
        raise NotFound(f"no hold {ref}")
    if existing.status == "open":
        raise InvalidInput(f"cannot settle {fixed!r} of a {existing.amount}-token hold")
    return HoldOutcome(ref, existing.user_id, existing.amount, existing.settled, existing.refunded, replayed=True)


def _finish(ref: str, share: tuple[int, int] | None, fixed: int | None, actor: str) -> HoldOutcome:
    """Close hold ``ref`` once, settling ``amount·K/N`` (``share``) or exactly ``fixed`` tokens.

    The claim is one ``UPDATE … WHERE status = 'open' RETURNING``: the first caller gets the row and
    moves the tokens; every later caller gets nothing and reads the first outcome back.
    """
    ref = _check_ref(ref)
    now = utcnow()
    if is_postgres():
        return _finish_postgres(ref, share, fixed, actor, now)
    with atomic():
        row = sql.close_hold(ref, share, fixed, now)
        if row is None:
            return _already_closed(ref, fixed)
        user, amount, settle, refund = row
        held = Account(user, "held")
        if settle:
            _move("settle", ref, settle, held, sys("revenue"), actor=actor, apply=False)
        if refund:
            _move("refund", ref, refund, held, Account(user, "available"), actor=actor, apply=False)
        if sql.release_balances(user, amount, refund, now) != 1:  # the CHECK would fire anyway; say what broke
            raise InvalidInput(f"user #{user} holds less than hold {ref} ({amount}); run `ledger verify`")
    return HoldOutcome(ref, user, amount, settle, refund)


def _finish_postgres(ref: str, share: tuple[int, int] | None, fixed: int | None, actor: str, now) -> HoldOutcome:
    """The same close as the generic path, as one statement on Postgres (one round trip)."""
    with atomic_statement():
        row = sql.finish_postgres(ref, share, fixed, actor, now)
        if row is None:
            return _already_closed(ref, fixed)
        user, amount, settle, refund, users_moved = row
        if users_moved != 1:
            raise InvalidInput(f"user #{user} holds less than hold {ref} ({amount}); run `ledger verify`")
    return HoldOutcome(ref, user, amount, settle, refund)


def finish(ref: str, settle: int, *, actor: str = "system") -> HoldOutcome:
    """Resolve an open hold exactly once: ``settle`` tokens go to revenue, the rest back to available.

    A second call (any amount) moves nothing and returns the first outcome with ``replayed=True``.
    """
    if isinstance(settle, bool) or not isinstance(settle, int) or settle < 0:
        raise InvalidInput(f"cannot settle {settle!r} tokens")
    return _finish(ref, None, settle, actor)


def settle(ref: str, *, actor: str = "system") -> HoldOutcome:
    """The job delivered everything: the whole hold becomes revenue."""
    return _finish(ref, (1, 1), None, actor)


def refund(ref: str, *, actor: str = "system") -> HoldOutcome:
    """The job failed: the whole hold returns to available."""
    return _finish(ref, (0, 1), None, actor)


def partial_settle(ref: str, delivered: int, requested: int, *, actor: str = "system") -> HoldOutcome:
    """K of N images delivered: settle ⌊amount·K/N⌋, refund the rest."""
    if not 0 < requested <= MAX_SHARE_DENOMINATOR or not 0 <= delivered <= requested:
        raise InvalidInput(f"delivered {delivered} of {requested} is not a valid outcome")
    return _finish(ref, (delivered, requested), None, actor)


# ---------------------------------------------------------------- top-ups, cashback, adjustments

def topup(user_id: int, tokens: int, charge_id: str, *, bonus: int = 0, actor: str = "system") -> TransferResult:
    """Credit tokens bought with Stars (and the package bonus) once per charge id."""
    with atomic():
        result = transfer("topup", charge_id, tokens, sys("stars_in"), Account(user_id, "available"), actor=actor)
        if bonus:
            transfer("bonus", charge_id, bonus, sys("bonus"), Account(user_id, "available"), actor=actor)
    return result


def cashback(referrer_id: int, amount: int, charge_id: str, *, actor: str = "system") -> TransferResult:
    """Pay a referrer their share of a friend's top-up, once per charge id."""
    return transfer("cashback", charge_id, amount, sys("referral"), Account(referrer_id, "available"), actor=actor)


def grant(user_id: int, amount: int, ref: str, *, reason: str, actor: str = "system") -> TransferResult:
    """Free tokens (welcome balance, promotions): bonus → available, once per ref."""
    return transfer("grant", ref, amount, sys("bonus"), Account(user_id, "available"), actor=actor, reason=reason)


def reverse_topup(charge_id: str, *, actor: str = "system", reason: str | None = None) -> list[TransferResult]:
    """Undo a Stars top-up (refund): take back its tokens and bonus, and the whole cashback it paid.

    The payer must still have the tokens (InsufficientTokens otherwise; the payments policy lends
    the shortfall first with :func:`borrow`). The referrer gives back the cashback from what they
    have available; whatever they no longer have (spent, or held by a running job) is lent to them
    first (kind ``cashback_debt``, sys ``debt`` → referrer) and becomes their debt, exactly like the
    payer's. So the ``cashback_reversal`` always equals the cashback, and ``ledger verify`` checks
    that the part taken from ``available`` plus the referrer's new debt adds up to it. Idempotent
    per charge id; call it inside the refund's transaction.
    """
    with atomic():
        original = Transfer.get_or_none((Transfer.kind == "topup") & (Transfer.ref == charge_id))
        if original is None:
            raise NotFound(f"no top-up for charge {charge_id}")
        payer = Account(original.credit_user_id, "available")
        done = [transfer("stars_refund", charge_id, original.amount, payer, sys("stars_in"), actor=actor, reason=reason)]
        bonus = Transfer.get_or_none((Transfer.kind == "bonus") & (Transfer.ref == charge_id))
        if bonus is not None:
            done.append(transfer("bonus_reversal", charge_id, bonus.amount, payer, sys("bonus"), actor=actor, reason=reason))
        paid = Transfer.get_or_none((Transfer.kind == "cashback") & (Transfer.ref == charge_id))
        if paid is not None:
            done.extend(_claw_back(paid, charge_id, actor=actor, reason=reason))
    return done


def _claw_back(paid: Transfer, charge_id: str, *, actor: str, reason: str | None) -> list[TransferResult]:
    """Take the cashback ``paid`` back from its referrer, lending them what they no longer have."""
    previous = [Transfer.get_or_none((Transfer.kind == kind) & (Transfer.ref == charge_id))
                for kind in ("cashback_debt", "cashback_reversal")]
    if previous[1] is not None:  # a replay: the first result, debt included
        return [_result(row, replayed=True) for row in previous if row is not None]
    referrer = paid.credit_user_id
    query = User.select(User.available).where(User.id == referrer)
    row = (query.for_update() if is_postgres() else query).first()  # the shortfall is read on a locked row
    shortfall = max(0, paid.amount - row.available)
    done = []
    if shortfall:
        done.append(borrow(referrer, shortfall, charge_id, kind="cashback_debt", actor=actor,
                           reason=f"cashback of a refunded top-up already spent ({reason or 'refund'})"))
    done.append(transfer("cashback_reversal", charge_id, paid.amount, Account(referrer, "available"),
                         sys("referral"), actor=actor, reason=reason))
    return done


def borrow(user_id: int, amount: int, ref: str, *, kind: str = "debt", actor: str = "system",
           reason: str | None = None) -> TransferResult:
    """Lend the user ``amount`` tokens (sys ``debt`` → available) and record that they owe them
    (``users.debt``), once per (kind, ref). Only a refund that must take back more than the user has
    does this: the payer's shortfall (kind ``debt``) or the referrer's (``cashback_debt``)."""
    if kind not in DEBT_KINDS:
        raise InvalidInput(f"{kind!r} is not a kind of debt")
    with atomic():
        result = transfer(kind, ref, amount, sys("debt"), Account(user_id, "available"), actor=actor, reason=reason)
        if not result.replayed:
            User.update(debt=User.debt + amount, updated_at=utcnow()).where(User.id == user_id).execute()
    return result


def repay_debt(user_id: int, ref: str, *, actor: str = "system") -> TransferResult | None:
    """Pay as much of the user's debt as their available balance covers (available → sys ``debt``),
    once per ref; None when there is nothing to repay. Call inside the crediting transaction."""
    ref = _check_ref(ref)
    with atomic():
        row = User.select(User.available, User.debt).where(User.id == user_id).first()
        if row is None:
            raise NotFound(f"user #{user_id} not found")
        amount = min(row.available, row.debt)
        if amount <= 0:
            return None
        result = transfer("debt_repay", ref, amount, Account(user_id, "available"), sys("debt"),
                          actor=actor, reason="debt repaid from a top-up")
        if not result.replayed:
            owed = (User.update(debt=User.debt - amount, updated_at=utcnow())
                    .where((User.id == user_id) & (User.debt >= amount)).execute())
            if owed != 1:
                raise InvalidInput(f"user #{user_id} owes less than {amount} tokens")
    return result


def adjust(user_id: int, amount: int, *, reason: str, actor: Actor, key: str | None = None) -> TransferResult:
    """An admin correction: positive adds tokens, negative removes them (never below zero).

    Needs a reason and the ``ledger.adjust`` permission (admin); the admin log row commits with the transfer. ``key`` makes
    a retried command a no-op (a fresh one is generated when omitted).
    """
    audit.authorize(actor, "ledger.adjust", f"user#{user_id}")
    if not reason or not reason.strip():
        raise InvalidInput("an adjustment needs a reason")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise InvalidInput(f"adjustment must be a non-zero whole number, got {amount!r}")
    key = key or uuid.uuid4().hex
    user_acct, adj = Account(user_id, "available"), sys("adjustment")
    debit, credit = (adj, user_acct) if amount > 0 else (user_acct, adj)
    with atomic():
        before = _available(user_id)
        result = transfer("adjust", key, abs(amount), debit, credit, actor=actor.name, reason=reason.strip())
        if not result.replayed:
            user = User.get_by_id(user_id)
            audit.record(actor, "ledger.adjust", f"user:{user.tg_id}",
                         before={"available": before}, after={"available": user.available},
                         reason=reason.strip())
    return result


# ---------------------------------------------------------------- reads

def balance(user_id: int) -> tuple[int, int]:
    """(available, held) from the cached columns."""
    with connection():
        row = User.select(User.available, User.held).where(User.id == user_id).first()
    if row is None:
        raise NotFound(f"user #{user_id} not found")
    return row.available, row.held


def debt(user_id: int) -> int:
    """Tokens the user owes (0 for nearly everyone)."""
    with connection():
        row = User.select(User.debt).where(User.id == user_id).first()
    if row is None:
        raise NotFound(f"user #{user_id} not found")
    return row.debt


def transfers_for_ref(ref: str) -> list[Transfer]:
    """Every transfer one event caused (a charge id: top-up, bonus, cashback, refund…), in order."""
    with connection():
        return list(Transfer.select().where(Transfer.ref == ref).order_by(Transfer.id))


def system_balances() -> dict[str, int]:
    """Each system account's balance: credits minus debits over all transfers."""
    totals = {name: 0 for name in SYSTEM_ACCOUNTS}
    with connection():
        for side, sign in (("credit", 1), ("debit", -1)):
            for name, amount in sql.system_sums(side):
                totals[name] = totals.get(name, 0) + sign * amount
    return totals
