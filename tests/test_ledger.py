"""Ledger service on SQLite and Postgres: holds, outcomes, top-ups, adjustments, replays, guards."""

from __future__ import annotations

import peewee as pw
import pytest

from bananapics.db import atomic
from bananapics.errors import IdempotencyConflict, InsufficientTokens, InvalidInput, NotFound, PermissionDenied
from bananapics.models import AdminAction, Hold, Transfer, User, db
from bananapics.services import ledger, lists, payments, referrals
from bananapics.services.audit import Actor
from bananapics.services.ledger import Account
from tests.helpers import assert_ledger_clean, new_user

ADMIN = Actor.operator("tester")


def balances(user) -> tuple[int, int]:
    return ledger.balance(user.id)


def test_hold_then_settle_moves_tokens_to_revenue(database):
    user = new_user(100)
    ledger.hold(user.id, 30, "job-1")
    assert balances(user) == (70, 30)
    outcome = ledger.settle("job-1")
    assert (outcome.settled, outcome.refunded, outcome.replayed) == (30, 0, False)
    assert balances(user) == (70, 0)
    assert ledger.system_balances()["revenue"] == 30
    assert_ledger_clean()


def test_refund_returns_the_hold(database):
    user = new_user(100)
    ledger.hold(user.id, 40, "job-2")
    outcome = ledger.refund("job-2")
    assert (outcome.settled, outcome.refunded) == (0, 40)
    assert balances(user) == (100, 0)
    assert_ledger_clean()


def test_partial_settle_charges_delivered_share_rounding_down(database):
    user = new_user(100)
    ledger.hold(user.id, 50, "job-3")
    outcome = ledger.partial_settle("job-3", delivered=1, requested=3)
    assert (outcome.settled, outcome.refunded) == (16, 34)
    assert balances(user) == (84, 0)
    kinds = sorted(t.kind for t in Transfer.select().where(Transfer.ref == "job-3"))
    assert kinds == ["hold", "refund", "settle"]
    assert_ledger_clean()


def test_hold_outcome_happens_exactly_once(database):
    user = new_user(100)
    ledger.hold(user.id, 30, "job-4")
    first = ledger.settle("job-4")
    for again in (ledger.settle("job-4"), ledger.refund("job-4"), ledger.partial_settle("job-4", 1, 2), ledger.finish("job-4", 3)):
        assert again.replayed
        assert (again.settled, again.refunded) == (first.settled, first.refunded)
    assert balances(user) == (70, 0)
    assert Transfer.select().where(Transfer.ref == "job-4").count() == 2
    assert_ledger_clean()


def test_hold_replay_returns_first_result_and_moves_nothing(database):
    user = new_user(100)
    first = ledger.hold(user.id, 30, "job-5")
    for _ in range(5):
        again = ledger.hold(user.id, 30, "job-5")
        assert again.replayed and again.id == first.id
    assert balances(user) == (70, 30)
    with pytest.raises(IdempotencyConflict):
        ledger.hold(user.id, 31, "job-5")
    assert balances(user) == (70, 30)
    assert_ledger_clean()


def test_insufficient_balance_is_typed_and_changes_nothing(database):
    user = new_user(20)
    with pytest.raises(InsufficientTokens) as exc:
        ledger.hold(user.id, 21, "job-6")
    assert (exc.value.available, exc.value.needed) == (20, 21)
    assert balances(user) == (20, 0)
    assert Hold.select().count() == 0
    assert Transfer.select().where(Transfer.kind == "hold").count() == 0
    # the key was not consumed: the same job can be held once the user has tokens
    ledger.adjust(user.id, 1, reason="top up by hand", actor=ADMIN)
    assert not ledger.hold(user.id, 21, "job-6").replayed
    assert_ledger_clean()


def test_bad_amounts_and_unknown_refs(database):
    user = new_user(10)
    for amount in (0, -5, 1.5, True, "3"):
        with pytest.raises(InvalidInput):
            ledger.hold(user.id, amount, f"bad-{amount}")
    with pytest.raises(NotFound):
        ledger.settle("never-held")
    with pytest.raises(NotFound):
        ledger.hold(999_999_999, 5, "ghost")
    ledger.hold(user.id, 10, "job-7")
    with pytest.raises(InvalidInput):
        ledger.finish("job-7", 11)
    with pytest.raises(InvalidInput):
        ledger.partial_settle("job-7", 3, 2)
    assert balances(user) == (0, 10)
    assert_ledger_clean()


def test_topup_with_bonus_is_credited_once_per_charge(database):
    user = new_user()
    ledger.topup(user.id, 100, "charge-1", bonus=10)
    again = ledger.topup(user.id, 100, "charge-1", bonus=10)
    assert again.replayed
    assert balances(user) == (110, 0)
    sys_ = ledger.system_balances()
    assert (sys_["stars_in"], sys_["bonus"]) == (-100, -10)


def test_reverse_topup_takes_back_tokens_bonus_and_cashback(database):
    referrer, payer = new_user(), new_user()
    ledger.topup(payer.id, 100, "charge-2", bonus=10)
    ledger.cashback(referrer.id, 10, "charge-2")
    done = ledger.reverse_topup("charge-2", reason="refund")
    assert sorted(t.kind for t in done) == ["bonus_reversal", "cashback_reversal", "stars_refund"]
    assert balances(payer) == (0, 0) and balances(referrer) == (0, 0)
    assert all(t.replayed for t in ledger.reverse_topup("charge-2", reason="refund"))
    assert ledger.system_balances() == {"stars_in": 0, "bonus": 0, "referral": 0, "adjustment": 0, "revenue": 0, "debt": 0}


def test_refund_needs_the_tokens_and_claws_back_the_cashback_lending_what_is_spent(database):
    referrer, payer = new_user(), new_user()
    referrals.attach(payer.id, referrer.referral_code)
    payments.credit(payer.id, "charge-3", stars=50, tokens=100)
    assert balances(referrer) == (10, 0)
    ledger.hold(referrer.id, 8, "spent")
    ledger.settle("spent")
    ledger.hold(payer.id, 60, "job-8")
    with pytest.raises(InsufficientTokens):
        payments.mark_refunded("charge-3", actor=ADMIN, reason="asked")
    assert balances(payer) == (40, 60)
    assert_ledger_clean()
    ledger.refund("job-8")
    assert payments.mark_refunded("charge-3", actor=ADMIN, reason="asked")
    assert not payments.mark_refunded("charge-3", actor=ADMIN, reason="asked")
    assert balances(referrer) == (0, 0) and balances(payer) == (0, 0) and ledger.debt(referrer.id) == 8
    clawback = Transfer.get((Transfer.kind == "cashback_reversal") & (Transfer.ref == "charge-3"))
    lent = Transfer.get((Transfer.kind == "cashback_debt") & (Transfer.ref == "charge-3"))
    assert (clawback.amount, lent.amount) == (10, 8)
    assert_ledger_clean()


def test_adjust_needs_reason_admin_and_never_overdraws(database):
    user = new_user(50)
    with pytest.raises(InvalidInput, match="reason"):
        ledger.adjust(user.id, 10, reason="  ", actor=ADMIN)
    with pytest.raises(PermissionDenied):
        ledger.adjust(user.id, 10, reason="favour", actor=Actor("tg:1", "support"))
    with pytest.raises(InvalidInput):
        ledger.adjust(user.id, 0, reason="nothing", actor=ADMIN)
    with pytest.raises(InsufficientTokens):
        ledger.adjust(user.id, -51, reason="too much", actor=ADMIN)
    assert balances(user) == (50, 0)
    # nothing changed but the one denial row
    assert [(a.action, a.outcome) for a in AdminAction.select()] == [("ledger.adjust", "denied")]
    ledger.adjust(user.id, -20, reason="chargeback", actor=ADMIN)
    assert balances(user) == (30, 0)
    log = AdminAction.get(AdminAction.outcome == "ok")
    assert (log.actor, log.action, log.reason) == ("cli:tester", "ledger.adjust", "chargeback")
    assert '"available": 50' in log.before and '"available": 30' in log.after
    assert_ledger_clean()


def test_adjust_with_key_is_idempotent(database):
    user = new_user()
    first = ledger.adjust(user.id, 25, reason="promo", actor=ADMIN, key="promo-2026")
    for _ in range(3):
        assert ledger.adjust(user.id, 25, reason="promo", actor=ADMIN, key="promo-2026").replayed
    assert first.ref == "promo-2026"
    assert balances(user) == (25, 0)
    assert AdminAction.select().count() == 1
    with pytest.raises(IdempotencyConflict):
        ledger.adjust(user.id, 30, reason="promo", actor=ADMIN, key="promo-2026")


def test_transfers_are_append_only(database):
    user = new_user(10)
    with pytest.raises(pw.DatabaseError):
        with atomic():
            Transfer.update(amount=1000).execute()
    with pytest.raises(pw.DatabaseError):
        with atomic():
            Transfer.delete().execute()
    assert balances(user) == (10, 0)
    assert_ledger_clean()


def test_check_constraints_forbid_negative_balances(database):
    user = new_user(10)
    with pytest.raises(pw.IntegrityError):
        with atomic():
            User.update(available=-1).where(User.id == user.id).execute()
    with pytest.raises(pw.IntegrityError):
        with atomic():
            User.update(held=-1).where(User.id == user.id).execute()
    with pytest.raises(pw.IntegrityError):
        with atomic():
            db.execute_sql(
                "INSERT INTO transfers (kind, ref, amount, debit_user_id, debit_account, credit_user_id, credit_account,"
                " actor, created_at) VALUES ('x', 'y', 0, NULL, 'bonus', NULL, 'revenue', 't', '2026-01-01')"
            )
    assert balances(user) == (10, 0)


def test_transfer_rejects_same_account_and_unknown_accounts(database):
    user = new_user(10)
    with pytest.raises(InvalidInput):
        ledger.transfer("x", "1", 5, Account(user.id, "available"), Account(user.id, "available"))
    with pytest.raises(ValueError):
        Account(None, "piggy_bank")
    with pytest.raises(ValueError):
        Account(user.id, "savings")


def test_statement_lists_both_sides_newest_first(database):
    user = new_user(100)
    ledger.hold(user.id, 10, "job-9")
    ledger.refund("job-9")
    kinds = [t.kind for t in lists.transfers(actor=ADMIN, user=user.tg_id).items]
    assert kinds == ["refund", "hold", "grant"]


def test_partial_settle_refuses_absurd_shares(database):
    user = new_user(100)
    ledger.hold(user.id, 100, "job-big")
    with pytest.raises(InvalidInput):
        ledger.partial_settle("job-big", 10**7 + 1, 3 * 10**7)
    assert ledger.partial_settle("job-big", 1, 1000).settled == 0
    assert_ledger_clean()
