"""Regression tests for the money review (issue 13 "Money", issue 10 support limit), on both engines:
a refund takes back the whole cashback (the referrer's shortfall becomes their debt), every operator
refund is logged, checks happen inside the transaction that acts on them, retries never spin,
reconcile reports what it cannot do, support refunds stay within a limit."""

from __future__ import annotations

import json

import pytest

from bananapics.db import atomic
from bananapics.errors import InDebt, InvalidInput, PermissionDenied, RefundBlocked
from bananapics.models import AdminAction, Outbox, Payment, Transfer
from bananapics.services import jobs, ledger, payments, referrals, settings, users
from bananapics.services.audit import Actor
from bananapics.services.reconcile import reconcile
from bananapics.services.verify import verify
from tests.helpers import assert_ledger_clean, new_user
from tests.test_payments_service import FakeStars, bought, tx

ADMIN = Actor("cli:boss", "admin")
SUPPORT = Actor("cli:helper", "support")


def referred_purchase(stars: int = 250):
    """Ann invites Bob; Bob buys a package (250 ⭐: 500 tokens + 50 bonus; Ann gets 10 % = 50)."""
    ann, bob = new_user(), new_user()
    referrals.attach(bob.id, ann.referral_code)
    return ann, bob, bought(bob, stars)


def spend(user_id: int, amount: int, ref: str, *, settle: bool = True) -> None:
    ledger.hold(user_id, amount, ref)
    if settle:
        ledger.settle(ref)


# ---------------------------------------------------------------- 13.1 referrer keeps refunded cashback

def reconciled(charge: str) -> None:
    """Reconcile finds the charge refunded in Telegram's Stars history."""
    payment = Payment.get(Payment.charge_id == charge)
    payer = users.get_by_id(payment.user_id)
    report = reconcile(FakeStars([tx(charge, payer, payment.stars, "x"),
                                  tx(charge, payer, payment.stars, None, refund=True, minute=1)]))
    assert report.reversed == [charge] and not report.mismatches


REFUND_PATHS = {
    "support": lambda charge: payments.refund(charge, actor=SUPPORT, reason="asked", telegram=FakeStars()),
    "telegram": lambda charge: payments.refunded_by_telegram(charge),
    "reconcile": reconciled,
}


@pytest.mark.parametrize("path", sorted(REFUND_PATHS))
def test_refund_takes_the_whole_cashback_back_and_the_spent_part_becomes_the_referrers_debt(database, path):
    ann, bob, credit = referred_purchase()
    assert credit.cashback == 50 and ledger.balance(ann.id) == (50, 0)
    spend(ann.id, 40, "ann-spent")  # generated with 40 of the cashback
    spend(ann.id, 8, "ann-running", settle=False)  # and 8 more are held by a running job
    REFUND_PATHS[path](credit.charge_id)
    assert ledger.balance(bob.id) == (0, 0) and ledger.debt(bob.id) == 0  # Bob still had everything
    assert ledger.balance(ann.id) == (0, 8) and ledger.debt(ann.id) == 48  # 2 clawed back, 48 owed
    debt = Transfer.get((Transfer.kind == "cashback_debt") & (Transfer.ref == credit.charge_id))
    claw = Transfer.get((Transfer.kind == "cashback_reversal") & (Transfer.ref == credit.charge_id))
    assert (debt.amount, debt.credit_user_id, claw.amount, claw.debit_user_id) == (48, ann.id, 50, ann.id)
    assert referrals.stats(ann.id).earned == 0
    with pytest.raises(InDebt):  # blocks generation until repaid, exactly like a payer's debt
        jobs.submit(ann.id, "gpt-image", "a cat")
    told = Outbox.get((Outbox.user == ann.id) & (Outbox.kind == payments.NOTICE_CASHBACK_REVERSED))
    assert (told.data["tokens"], told.data["debt"]) == (50, 48)
    assert users.as_dict(users.get_by_id(ann.id))["debt"] == 48
    assert payments.refunded_by_telegram(credit.charge_id) is None  # a replay moves nothing more
    assert ledger.debt(ann.id) == 48
    assert_ledger_clean()
    ledger.refund("ann-running")  # the job fails: its 8 tokens come back, the debt stays until a top-up
    with atomic():
        repaid = payments.credit(ann.id, "ann-topup", stars=50, tokens=100)
    assert repaid.repaid == 48 and ledger.debt(ann.id) == 0 and ledger.balance(ann.id) == (60, 0)
    assert_ledger_clean()


def test_support_refund_reports_the_referrers_debt(database):
    ann, bob, credit = referred_purchase()
    spend(ann.id, 45, "ann-spent")
    done = payments.refund(credit.charge_id, actor=SUPPORT, reason="duplicate", telegram=FakeStars())
    assert (done.tokens, done.debt, done.clawed, done.referrer_debt) == (550, 0, 5, 45)
    assert_ledger_clean()


def test_verify_catches_cashback_a_refund_forgave(database):
    """The old refund clawed back only what the referrer had left; verify now says so."""
    ann, bob, credit = referred_purchase()
    spend(ann.id, 45, "ann-spent")
    with atomic():  # the refund as the old code wrote it: 5 of 50 clawed back, 45 forgiven
        Payment.update(status="refunded", refunded_by="telegram").where(Payment.charge_id == credit.charge_id).execute()
        ledger.transfer("stars_refund", credit.charge_id, 500, ledger.Account(bob.id, "available"), ledger.sys("stars_in"))
        ledger.transfer("bonus_reversal", credit.charge_id, 50, ledger.Account(bob.id, "available"), ledger.sys("bonus"))
        ledger.transfer("cashback_reversal", credit.charge_id, 5, ledger.Account(ann.id, "available"),
                        ledger.sys("referral"))
    assert [(b.check, b.detail) for b in verify()] == [
        ("clawback_plus_debt_is_cashback",
         f"charge {credit.charge_id}: its refund reverses 50 cashback, but 5 was clawed back and 0 left as the "
         "referrer's debt")]
    assert referrals.stats(ann.id).earned == 0  # a refunded charge's cashback is never "earned"


def test_verify_catches_a_referrer_debt_no_refund_explains(database):
    ann, bob, credit = referred_purchase()
    ledger.borrow(ann.id, 7, credit.charge_id, kind="cashback_debt")  # the charge is not refunded
    assert {b.check for b in verify()} == {"cashback_debt_has_refund"}


def test_users_show_json_has_the_debt(database, database_url, tmp_path, monkeypatch):
    from tests.test_cli import runner
    from bananapics.cli.main import app
    from bananapics.models import db as proxy

    ann, bob, credit = referred_purchase()
    spend(ann.id, 50, "ann-spent")
    payments.refunded_by_telegram(credit.charge_id)
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_OPERATOR__NAME": "tester"}
    shown = runner.invoke(app, ["users", "show", str(ann.tg_id), "--json"], env=env)
    table = runner.invoke(app, ["users", "show", str(ann.tg_id)], env=env)
    proxy.initialize(database)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["debt"] == 50
    assert table.exit_code == 0 and any(line.replace("│", " ").split()[:2] == ["debt", "50"] for line in table.stdout.splitlines())


def test_referrer_is_told_in_their_language_through_the_outbox(database):
    from tests.test_payments_bot import balance_of, buy, deliver, scenario
    from bananapics.simtg import SimUser

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start(f"ref_{users.get(ann.id).referral_code}")
        await deliver(tg, bot)  # Ann hears that Bob joined
        paid = await bob.pay(await buy(bob))  # 100 tokens; Ann gets 10
        spend(users.get(ann.id).id, 55, "ann-spent")  # Ann keeps 5 of her 60
        await bob.refund_externally(paid.charge_id)
        assert balance_of(ann) == (0, 0, 5)
        assert await deliver(tg, bot) == 2  # Bob's refund notice and Ann's
        assert ann.last.text == (
            "↩️ A top-up by a friend you invited was refunded, so its cashback of 10 tokens was taken back. "
            "Balance: 0\n⚠️ 5 tokens of them were already spent and are now a debt. Your next top-up repays it; "
            "generation is paused until then.")

    scenario(database, body)
    assert_ledger_clean()


# ---------------------------------------------------------------- 13.2 every operator refund is logged

class UpdateFirst(FakeStars):
    """Telegram refunds, and its refund update reaches the bot (which reverses the ledger) before
    the operator's refund gets back from the call."""

    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        super().refund_charge(user_tg_id, charge_id)
        assert payments.refunded_by_telegram(charge_id) is not None


def test_operator_refund_is_logged_when_telegrams_update_reversed_it_first(database):
    ann = new_user()
    credit = bought(ann)
    done = payments.refund(credit.charge_id, actor=SUPPORT, reason="asked by user", telegram=UpdateFirst())
    assert done.replayed and done.tokens == 100 and ledger.balance(ann.id) == (0, 0)
    payment = Payment.get(Payment.charge_id == credit.charge_id)
    assert (payment.refunded_by, payment.refund_reason) == ("cli:helper", "asked by user")
    log = AdminAction.get(AdminAction.action == "payments.refund")
    assert (log.actor, log.target, log.reason) == ("cli:helper", f"charge:{credit.charge_id}", "asked by user")
    assert json.loads(log.after)["ledger_reversed_by"] == "telegram"
    assert Outbox.select().where(Outbox.kind == payments.NOTICE_REFUNDED).count() == 1  # the payer is told once
    assert_ledger_clean()


# ---------------------------------------------------------------- 13.5 checks inside the transaction

class SpendsMeanwhile(FakeStars):
    """The payer starts a generation while Telegram is refunding."""

    def __init__(self, user_id: int, amount: int):
        super().__init__()
        self.user_id, self.amount = user_id, amount

    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        super().refund_charge(user_tg_id, charge_id)
        spend(self.user_id, self.amount, "spent-meanwhile")


def test_unforced_refund_of_spent_tokens_is_refused_before_telegram_is_asked(database):
    ann = new_user()
    credit = bought(ann)  # 100 tokens
    spend(ann.id, 30, "spent-before")
    api = FakeStars()
    with pytest.raises(RefundBlocked):
        payments.refund(credit.charge_id, actor=SUPPORT, reason="asked", telegram=api)
    assert api.refunds == [] and ledger.balance(ann.id) == (70, 0) and ledger.debt(ann.id) == 0
    assert Payment.get(Payment.charge_id == credit.charge_id).status == "paid"
    assert AdminAction.select().count() == 0
    assert_ledger_clean()


def test_tokens_spent_while_telegram_refunds_become_a_debt_the_log_explains(database):
    """Telegram has already returned the Stars: the ledger follows, and says the debt was not forced."""
    ann = new_user()
    credit = bought(ann)  # 100 tokens
    api = SpendsMeanwhile(ann.id, 30)
    done = payments.refund(credit.charge_id, actor=SUPPORT, reason="asked", telegram=api)
    assert api.refunds == [(ann.tg_id, credit.charge_id)]
    assert (done.tokens, done.debt) == (100, 30) and ledger.debt(ann.id) == 30 and ledger.balance(ann.id) == (0, 0)
    after = json.loads(AdminAction.get(AdminAction.action == "payments.refund").after)
    assert (after["forced"], after["debt_added"], after["spent_during_refund"]) == (False, 30, True)
    told = Outbox.get((Outbox.user == ann.id) & (Outbox.kind == payments.NOTICE_REFUNDED))
    assert told.data["debt"] == 30
    assert_ledger_clean()


# ---------------------------------------------------------------- issue 10: support refund limit

def test_support_refunds_up_to_the_limit_and_only_admins_above_it(database):
    ann = new_user()
    small, big = bought(ann, 50), bought(ann, 250)
    settings.set_value("admin.support_refund_limit", 100, actor=ADMIN, reason="policy")
    api = FakeStars()
    with pytest.raises(PermissionDenied, match="support may refund up to 100"):
        payments.refund(big.charge_id, actor=SUPPORT, reason="asked", telegram=api)
    assert api.refunds == [] and Payment.get(Payment.charge_id == big.charge_id).status == "paid"
    assert payments.refund(small.charge_id, actor=SUPPORT, reason="asked", telegram=api).stars == 50
    assert payments.refund(big.charge_id, actor=ADMIN, reason="asked", telegram=api).stars == 250
    assert len(api.refunds) == 2
    with pytest.raises(InvalidInput):
        settings.set_value("admin.support_refund_limit", -1, actor=ADMIN)
    assert_ledger_clean()


def test_mark_refunded_without_telegram_is_admin_only(database):
    ann = new_user()
    credit = bought(ann)
    with pytest.raises(PermissionDenied):
        payments.mark_refunded(credit.charge_id, actor=SUPPORT, reason="asked")
    assert Payment.get(Payment.charge_id == credit.charge_id).status == "paid" and ledger.balance(ann.id) == (100, 0)
    assert AdminAction.select().where(AdminAction.action == "payments.refund").count() == 0
    assert payments.mark_refunded(credit.charge_id, actor=ADMIN, reason="refunded by hand")
    assert_ledger_clean()


def test_a_photo_arriving_after_the_price_check_does_not_charge_more_than_the_button_showed(database, monkeypatch):
    from bananapics.models import Job
    from bananapics.services import drafts
    from bananapics.simtg import SimUser
    from tests.helpers import scenario, to_confirm

    quote = drafts.quote

    def photo_meanwhile(user_id):
        """The Generate press checks the price; then a photo lands (Nano Banana: +1 per reference)."""
        checked = quote(user_id)
        drafts.add_refs(user_id, ["refs/late-photo.jpg"])
        return checked

    async def body(tg, bot):
        bot.limiter.update(rate_per_min=60_000, burst=10_000)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "Nano Banana", "a cat")
        me = users.get(ann.id).id
        monkeypatch.setattr(drafts, "quote", photo_meanwhile)
        await ann.press("Generate — 15")
        assert Job.select().where(Job.user == me).count() == 0 and ledger.balance(me) == (50, 0)
        assert "The price has changed" in ann.panel.text and "✅ Generate — 16" in ann.buttons()
        monkeypatch.setattr(drafts, "quote", quote)

    scenario(database, body)
    assert_ledger_clean()


def test_confirm_checks_the_price_against_the_locked_draft(database):
    from bananapics.errors import PriceChanged
    from bananapics.models import Job
    from bananapics.services import drafts

    ann = new_user(100)
    drafts.choose_model(ann.id, "nano-banana")
    drafts.set_prompt(ann.id, "a cat")
    drafts.go(ann.id, "confirm")
    shown = drafts.quote(ann.id).total
    drafts.add_refs(ann.id, ["refs/a.jpg"])
    with pytest.raises(PriceChanged):
        drafts.confirm(ann.id, chat_id=None, expected_cost=shown)
    assert Job.select().where(Job.user == ann.id).count() == 0 and ledger.balance(ann.id) == (100, 0)
    assert drafts.confirm(ann.id, chat_id=None, expected_cost=shown + 1).cost == shown + 1
    assert_ledger_clean()


# ---------------------------------------------------------------- 13.4 a retry never spins

from tests.test_cli import cli  # noqa: E402,F401 - the CLI fixture


def test_retry_of_a_job_out_of_attempts_is_refused_or_grants_exactly_one(cli):
    from bananapics.models import Job
    from bananapics.services import settings as app_settings

    app_settings.set_value("jobs.max_attempts", 1, actor=ADMIN)
    ann = new_user(100)
    job = jobs.submit(ann.id, "seedream-4", "a lighthouse")
    assert jobs.claim(job.id, "w1") is not None  # its one attempt; the worker died with it
    code, _, err = cli("jobs", "retry", job.id)
    assert code == 1 and "has used all 1 of its attempts" in err and "--extra-attempt" in err
    row = Job.get_by_id(job.id)
    assert (row.status, row.attempts, row.max_attempts) == ("running", 1, 1)
    assert AdminAction.select().where(AdminAction.action == "jobs.extra_attempt").count() == 0
    code, out, err = cli("jobs", "retry", job.id, "--extra-attempt", "--reason", "provider is back")
    assert code == 0, err
    row = Job.get_by_id(job.id)
    assert (row.status, row.attempts, row.max_attempts) == ("queued", 1, 2)
    log = AdminAction.get(AdminAction.action == "jobs.extra_attempt")
    assert (log.target, log.reason) == (f"job:{job.id}", "provider is back")
    assert jobs.claim(job.id, "w2").attempts == 2  # the granted attempt is a real one
    with pytest.raises(PermissionDenied):
        jobs.requeue(job.id, extra_attempt=True, actor=SUPPORT)
    assert_ledger_clean()


# ---------------------------------------------------------------- 13.1: fresh cashback can be kept unspendable

def test_fresh_cashback_cannot_be_spent_until_the_lock_days_pass(database):
    import datetime as dt

    from bananapics.errors import CashbackLocked
    from bananapics.models import utcnow

    settings.set_value("referral.cashback_lock_days", 7, actor=ADMIN, reason="abuse")
    ann, bob, credit = referred_purchase()  # Ann: 50 cashback
    ledger.grant(ann.id, 10, "ann-own", reason="promo")  # and 10 tokens of her own
    assert jobs.submit(ann.id, "seedream-4", "a lighthouse").cost == 10  # her own tokens: fine
    with pytest.raises(CashbackLocked) as locked:
        jobs.submit(ann.id, "seedream-4", "a lighthouse")
    assert (locked.value.available, locked.value.needed, locked.value.locked) == (0, 10, 50)
    assert ledger.balance(ann.id) == (50, 10)  # nothing held by the refused one
    assert referrals.locked_cashback(ann.id, now=utcnow() + dt.timedelta(days=8)) == 0  # spendable after 7 days
    payments.refunded_by_telegram(credit.charge_id)  # the friend's refund finds the cashback still there
    assert ledger.balance(ann.id) == (0, 10) and ledger.debt(ann.id) == 0
    assert referrals.locked_cashback(ann.id) == 0  # a refunded charge's cashback locks nothing
    settings.set_value("referral.cashback_lock_days", 0, actor=ADMIN)
    assert referrals.locked_cashback(ann.id) == 0
    assert_ledger_clean()


def test_cli_refund_names_the_referrers_debt(database, database_url, tmp_path, monkeypatch):
    from bananapics.cli import payments_cmd
    from bananapics.cli.main import app
    from bananapics.models import db as proxy
    from tests.test_cli import runner

    ann, bob, credit = referred_purchase()
    spend(ann.id, 45, "ann-spent")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(payments_cmd, "stars_api", FakeStars)
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_OPERATOR__NAME": "tester"}
    done = runner.invoke(app, ["payments", "refund", credit.charge_id, "--reason", "dup", "--json"], env=env)
    proxy.initialize(database)
    assert done.exit_code == 0, done.stderr
    assert {k: json.loads(done.stdout)[k] for k in ("cashback_clawed", "referrer_debt")} == {
        "cashback_clawed": 5, "referrer_debt": 45}
