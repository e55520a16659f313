"""Referral rules: bind once, no self, no cycles, not after a top-up; cashback modes and rounding."""

from __future__ import annotations

import pytest

from bananapics.errors import InvalidInput, ReferralRejected
from bananapics.models import Transfer
from bananapics.services import ledger, payments, referrals, settings
from bananapics.services.audit import Actor
from tests.helpers import assert_ledger_clean, new_user

ADMIN = Actor.operator("ops")


def reason(fn) -> str:
    with pytest.raises(ReferralRejected) as exc:
        fn()
    return exc.value.title


def test_binding_rules(database):
    a, b, c = new_user(), new_user(), new_user()
    assert reason(lambda: referrals.attach(a.id, a.referral_code)) == "self"
    assert reason(lambda: referrals.attach(a.id, "nosuchcode")) == "unknown_code"
    assert referrals.attach(b.id, a.referral_code).referrer_id == a.id
    assert reason(lambda: referrals.attach(b.id, c.referral_code)) == "already_bound"
    assert referrals.attach(c.id, b.referral_code.upper()).referrer_id == b.id  # codes are case-insensitive
    assert reason(lambda: referrals.attach(a.id, c.referral_code)) == "cycle"
    d = new_user()
    payments.credit(d.id, "ch-d", stars=50, tokens=100)
    assert reason(lambda: referrals.attach(d.id, a.referral_code)) == "too_late"


def test_cashback_every_topup_rounds_down(database):
    referrer, friend = new_user(), new_user()
    referrals.attach(friend.id, referrer.referral_code)
    referrals.set_rules(percent=7, mode="every", actor=ADMIN)
    first = payments.credit(friend.id, "ch-1", stars=50, tokens=105)
    second = payments.credit(friend.id, "ch-2", stars=50, tokens=99)
    assert (first.cashback, second.cashback) == (7, 6)  # floor(7.35), floor(6.93)
    assert ledger.balance(referrer.id) == (13, 0)
    stats = referrals.stats(referrer.id)
    assert (stats.friends, stats.earned) == (1, 13)
    assert_ledger_clean()


def test_cashback_first_topup_only(database):
    referrer, friend = new_user(), new_user()
    referrals.attach(friend.id, referrer.referral_code)
    referrals.set_rules(percent=10, mode="first", actor=ADMIN)
    assert payments.credit(friend.id, "ch-1", stars=50, tokens=100).cashback == 10
    assert payments.credit(friend.id, "ch-2", stars=50, tokens=100).cashback == 0
    assert ledger.balance(referrer.id) == (10, 0)
    assert_ledger_clean()


def test_no_cashback_without_referrer_or_at_zero_percent(database):
    alone = new_user()
    assert payments.credit(alone.id, "ch-1", stars=50, tokens=100).cashback == 0
    referrer, friend = new_user(), new_user()
    referrals.attach(friend.id, referrer.referral_code)
    referrals.set_rules(percent=0, actor=ADMIN)
    assert payments.credit(friend.id, "ch-2", stars=50, tokens=100).cashback == 0
    assert Transfer.select().where(Transfer.kind == "cashback").count() == 0
    assert_ledger_clean()


def test_payment_replay_credits_once_and_returns_first_result(database):
    referrer, friend = new_user(), new_user()
    referrals.attach(friend.id, referrer.referral_code)
    first = payments.credit(friend.id, "ch-r", stars=250, tokens=500, bonus=50)
    for _ in range(20):
        again = payments.credit(friend.id, "ch-r", stars=250, tokens=500, bonus=50)
        assert again.replayed and (again.tokens, again.cashback, again.payment_id) == (500, 50, first.payment_id)
    assert ledger.balance(friend.id) == (550, 0)
    assert ledger.balance(referrer.id) == (50, 0)
    assert_ledger_clean()


def test_refund_claws_back_cashback(database):
    referrer, friend = new_user(), new_user()
    referrals.attach(friend.id, referrer.referral_code)
    payments.credit(friend.id, "ch-x", stars=50, tokens=100)
    assert payments.mark_refunded("ch-x", actor=ADMIN, reason="asked")
    assert ledger.balance(referrer.id) == (0, 0)
    assert referrals.stats(referrer.id).earned == 0
    assert_ledger_clean()


def test_rules_are_validated_and_logged(database):
    with pytest.raises(InvalidInput):
        referrals.set_rules(percent=101, actor=ADMIN)
    with pytest.raises(InvalidInput):
        referrals.set_rules(mode="sometimes", actor=ADMIN)
    assert referrals.rules() == referrals.Rules(10, "every")
    assert referrals.set_rules(percent=15, mode="first", actor=ADMIN) == referrals.Rules(15, "first")
    assert settings.get("referral.percent") == 15


def test_unknown_payer_is_not_found(database):
    from bananapics.errors import NotFound

    with pytest.raises(NotFound):
        payments.credit(987654321, "ch-ghost", stars=50, tokens=100)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_first_topups_pay_first_only_cashback_once(database):
    """Two top-ups by one friend racing on Postgres: only one of them is the first (row lock)."""
    import threading

    from bananapics.db import atomic

    referrer, friend = new_user(), new_user()
    referrals.attach(friend.id, referrer.referral_code)
    referrals.set_rules(percent=10, mode="first", actor=ADMIN)
    inside, release = threading.Event(), threading.Event()
    results = {}

    def first():
        with atomic():
            results["a"] = payments.credit(friend.id, "race-a", stars=50, tokens=100)
            inside.set()
            release.wait(10)
        database.close()

    def second():
        inside.wait(10)
        results["b"] = payments.credit(friend.id, "race-b", stars=50, tokens=100)
        database.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    inside.wait(10)
    import time

    time.sleep(0.3)  # B is now blocked on A's row lock
    assert "b" not in results
    release.set()
    for t in threads:
        t.join(20)
    assert (results["a"].cashback, results["b"].cashback) == (10, 0)
    assert ledger.balance(referrer.id) == (10, 0)
    assert_ledger_clean()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_attach_racing_the_first_topup_is_refused(database):
    import threading

    from bananapics.db import atomic

    referrer, friend = new_user(), new_user()
    inside, release = threading.Event(), threading.Event()
    outcome = {}

    def topup():
        with atomic():
            payments.credit(friend.id, "race-c", stars=50, tokens=100)
            inside.set()
            release.wait(10)
        database.close()

    def attach():
        inside.wait(10)
        try:
            referrals.attach(friend.id, referrer.referral_code)
            outcome["attach"] = "bound"
        except ReferralRejected as exc:
            outcome["attach"] = exc.title
        database.close()

    threads = [threading.Thread(target=topup), threading.Thread(target=attach)]
    for t in threads:
        t.start()
    inside.wait(10)
    import time

    time.sleep(0.3)  # the attach is now blocked on the top-up's row lock
    assert "attach" not in outcome
    release.set()
    for t in threads:
        t.join(20)
    assert outcome["attach"] == "too_late"
    assert ledger.balance(referrer.id) == (0, 0)
    assert_ledger_clean()
