"""Reconcile the bot's Stars history with the payments table.

Telegram delivers ``MessageActionPaymentSentMe`` at least once, but a bot that was down (or lost an
update) may never see it. :func:`reconcile` reads the bot's Stars transactions
(``payments.getStarsTransactions``) and, for each user invoice payment:

* never recorded → credited now, exactly as the update would have (``source = 'reconcile'``);
  unless Telegram has refunded it already: then nothing is owed either way, it is skipped (crediting
  and reversing it would only send the payer a thank-you and a refund notice, and re-lend any debt);
* refunded on Telegram but still paid here → reversed (into debt if the tokens are gone); a
  reversal that fails is reported, never skipped;
* anything that does not fit (no matching invoice, other amount or payer, refunded here but not on
  Telegram, a payment here Telegram does not list) → reported, nothing changed.

Running it again changes nothing: the charge id is the key everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bananapics.db import atomic, connection
from bananapics.errors import BananaError
from bananapics.models import Payment, User
from bananapics.services import audit, payments
from bananapics.services.audit import Actor
from bananapics.services.stars import StarsApi, StarsTx


@dataclass(frozen=True)
class Mismatch:
    charge_id: str
    problem: str


@dataclass
class Report:
    seen: int = 0  # user invoice payments in the history
    complete: bool = True  # the whole history was read
    credited: list[str] = field(default_factory=list)
    reversed: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"seen": self.seen, "complete": self.complete, "credited": self.credited, "reversed": self.reversed,
                "mismatches": [{"charge_id": m.charge_id, "problem": m.problem} for m in self.mismatches]}


def _known(charge_ids: list[str]) -> dict[str, tuple[Payment, int]]:
    found: dict[str, tuple[Payment, int]] = {}
    with connection():
        for start in range(0, len(charge_ids), 500):
            chunk = charge_ids[start:start + 500]
            for p in Payment.select(Payment, User.tg_id).join(User).where(Payment.charge_id.in_(chunk)):
                found[p.charge_id] = (p, p.user.tg_id)
    return found


def reconcile(api: StarsApi, *, max_pages: int = 50, actor: Actor | None = None) -> Report:
    """Every credit and reversal is logged in its own transaction (by ``actor``, else ``system``);
    an operator's run (``actor``) also logs what it found."""
    if actor is not None:
        audit.authorize(actor, "payments.reconcile", "payments")
    by = actor or Actor.system()
    history, complete = api.transactions(max_pages=max_pages)
    paid: dict[str, StarsTx] = {}
    refunded: set[str] = set()
    for tx in sorted(history, key=lambda t: (t.date, t.refund)):
        if tx.refund:
            refunded.add(tx.id)
        elif tx.user_tg_id is not None and tx.payload is not None and tx.amount > 0:
            paid[tx.id] = tx
    report = Report(seen=len(paid), complete=complete)
    known = _known(sorted(set(paid) | refunded))
    for charge_id, tx in paid.items():
        if charge_id in known:
            payment, tg_id = known[charge_id]
            # a forgotten payer (privacy.forget) has no Telegram id here any more: only the amount is compared
            if payment.stars != tx.amount or (tg_id != tx.user_tg_id and tg_id > 0):
                report.mismatches.append(Mismatch(charge_id, f"Telegram: {tx.amount} ⭐ from {tx.user_tg_id}; "
                                                             f"here: {payment.stars} ⭐ from {tg_id}"))
            continue
        if charge_id in refunded:  # Telegram already gave the Stars back: nothing is owed either way
            continue
        try:
            with atomic():
                credit = payments.credit_charge(tx.user_tg_id, tx.payload, charge_id, currency="XTR",
                                                amount=tx.amount, source="reconcile")
                if not credit.replayed:
                    audit.record(by, "payments.reconcile_credit", f"charge:{charge_id}",
                                 after={"user": tx.user_tg_id, "stars": tx.amount, "tokens": credit.tokens})
        except BananaError as exc:
            report.mismatches.append(Mismatch(charge_id, f"never credited: {exc.msg}"))
            continue
        report.credited.append(charge_id)
    for charge_id in sorted(refunded):
        if charge_id in known and known[charge_id][0].status == "refunded":
            continue  # reversed here already (the same as the replay refunded_by_telegram would be)
        try:
            with atomic():
                done = payments.refunded_by_telegram(charge_id, reason="refund found by reconcile")
                if done is not None and not done.replayed:
                    audit.record(by, "payments.reconcile_reverse", f"charge:{charge_id}",
                                 after={"tokens": done.tokens, "debt": done.debt})
        except BananaError as exc:
            if charge_id in known:  # recorded here, refunded there, and the reversal failed: say so
                report.mismatches.append(Mismatch(charge_id, f"refunded on Telegram, not reversed here: {exc.msg}"))
            elif charge_id not in paid:  # its payment is older than the history we read
                report.mismatches.append(Mismatch(charge_id, "refunded on Telegram, never recorded here"))
            # else: paid and refunded on Telegram, never credited here: nothing is owed either way
            continue
        if done is not None:
            report.reversed.append(charge_id)
    for charge_id, (payment, _) in known.items():
        if payment.status == "refunded" and charge_id in paid and charge_id not in refunded:
            report.mismatches.append(Mismatch(charge_id, "refunded here but not on Telegram"))
    if complete:
        report.mismatches.extend(Mismatch(charge_id, "recorded here but not in Telegram's Stars history")
                                 for charge_id in _unlisted(set(paid)))
    if actor is not None:
        with atomic():
            audit.record(actor, "payments.reconcile", "payments", after=report.as_dict())
    return report


def _unlisted(listed: set[str]) -> list[str]:
    with connection():
        return [charge_id for (charge_id,) in Payment.select(Payment.charge_id).tuples() if charge_id not in listed]
