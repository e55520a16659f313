"""Payment services on both engines: invoice intents and pre-checkout, crediting by charge id,
cashback rules, the refund policy and debt, reconcile against a scripted Stars history, the
periodic task, and the invariants ``ledger verify`` adds for debt."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from bananapics.db import atomic
from bananapics.errors import (AlreadyRefunded, InDebt, InsufficientTokens, NotFound, PaymentMismatch,
                               PermissionDenied, RefundBlocked, TelegramError, UserBanned)
from bananapics.models import AdminAction, InvoiceIntent, Outbox, Package, Payment, SystemAccount, Transfer, User, db
from bananapics.services import invoices, jobs, ledger, payments, referrals, settings
from bananapics.services.audit import Actor
from bananapics.services.reconcile import reconcile
from bananapics.services.stars import StarsTx
from bananapics.services.verify import verify
from tasks.generation import reconcile_stars
from tests.helpers import assert_ledger_clean, new_user

ADMIN = Actor("cli:boss", "admin")
SUPPORT = Actor("cli:helper", "support")
NOW = dt.datetime(2026, 3, 1, 12, 0)


class FakeStars:
    """A scripted Telegram: records refund calls, answers with a prepared history."""

    def __init__(self, history=(), *, refund_error: Exception | None = None, complete: bool = True):
        self.history, self.refund_error, self.complete = list(history), refund_error, complete
        self.refunds: list[tuple[int, str]] = []
        self.closed = False

    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        self.refunds.append((user_tg_id, charge_id))
        if self.refund_error is not None:
            raise self.refund_error

    def transactions(self, *, max_pages: int = 50):
        return list(self.history), self.complete

    def close(self) -> None:
        self.closed = True


def package(stars: int) -> Package:
    return Package.get(Package.stars == stars)


def bought(user, stars: int = 50, charge: str | None = None, **kw) -> payments.Credit:
    intent = invoices.create_intent(user.id, package(stars).id)
    return payments.credit_charge(user.tg_id, intent.payload.encode(), charge or f"ch-{intent.id}",
                                  currency="XTR", amount=intent.stars, **kw)


def tx(charge: str, user, stars: int, payload: str | None, *, refund: bool = False, minute: int = 0) -> StarsTx:
    return StarsTx(charge, stars, NOW + dt.timedelta(minutes=minute), user.tg_id, payload, refund)


# ---------------------------------------------------------------- intents and pre-checkout

def test_intent_freezes_the_package_and_precheckout_checks_everything(database):
    ann, bob = new_user(), new_user()
    intent = invoices.create_intent(ann.id, package(250).id, now=NOW)
    assert (intent.stars, intent.tokens, intent.bonus_tokens, intent.status) == (250, 500, 50, "open")
    assert intent.expires_at == NOW + dt.timedelta(minutes=60)
    assert intent.payload.startswith("bp1_") and len(intent.payload) >= 24
    other = invoices.create_intent(ann.id, package(250).id, now=NOW)
    assert other.payload != intent.payload

    def verdict(tg_id=ann.tg_id, payload=intent.payload.encode(), currency="XTR", amount=250, now=NOW):
        return invoices.precheckout(tg_id, payload, currency, amount, now=now)

    assert verdict().ok and verdict().intent_id == intent.id
    Package.update(stars=999).where(Package.id == package(250).id).execute()  # a later price change
    assert verdict().ok  # the invoice keeps its price
    assert verdict(tg_id=bob.tg_id).reason == "foreign"
    assert verdict(tg_id=123).reason == "unknown"
    assert verdict(amount=249).reason == "mismatch" and verdict(currency="USD").reason == "mismatch"
    assert verdict(payload=b"bp1_" + b"x" * 22).reason == "unknown"
    assert verdict(payload=b"\xff\xfe").reason == "unknown"
    assert verdict(now=NOW + dt.timedelta(minutes=60)).reason == "expired"
    with atomic():
        User.update(banned=True).where(User.id == ann.id).execute()
    assert verdict().reason == "banned"
    with pytest.raises(UserBanned):
        invoices.create_intent(ann.id, package(50).id)
    with atomic():
        User.update(banned=False).where(User.id == ann.id).execute()
    Package.update(active=False).where(Package.stars == 100).execute()
    withdrawn = invoices.create_intent(ann.id, package(50).id, now=NOW)
    Package.update(active=False).where(Package.id == withdrawn.package_id).execute()
    assert invoices.precheckout(ann.tg_id, withdrawn.payload, "XTR", 50, now=NOW).reason == "package_gone"
    with pytest.raises(NotFound):
        invoices.create_intent(ann.id, withdrawn.package_id)
    assert [p.stars for p in invoices.packages()] == [999, 500, 1000]  # active ones, in admin order


def test_language_of_the_verdict(database):
    ivan = new_user(language_code="ru")
    assert invoices.precheckout(ivan.tg_id, b"junk", "XTR", 1).language == "ru"
    assert invoices.precheckout(42, b"junk", "XTR", 1, default_language="en").language == "en"


def test_expiry_sweep_and_a_late_payment_still_credits(database):
    ann = new_user()
    intent = invoices.create_intent(ann.id, package(50).id, now=NOW)
    assert invoices.expire_intents(now=NOW + dt.timedelta(minutes=59)) == 0
    assert invoices.expire_intents(now=NOW + dt.timedelta(minutes=61)) == 1
    assert InvoiceIntent.get_by_id(intent.id).status == "expired"
    # approved just before expiry, landed after: the charge is Telegram's truth, so it credits
    credit = payments.credit_charge(ann.tg_id, intent.payload, "late", currency="XTR", amount=50)
    assert not credit.replayed and ledger.balance(ann.id) == (100, 0)
    assert InvoiceIntent.get_by_id(intent.id).status == "paid"
    assert_ledger_clean()


# ---------------------------------------------------------------- crediting

def test_credit_charge_matches_the_payers_invoice_or_changes_nothing(database):
    ann, bob = new_user(), new_user()
    intent = invoices.create_intent(ann.id, package(100).id)
    for tg_id, amount, currency, payload in ((bob.tg_id, 100, "XTR", intent.payload), (ann.tg_id, 99, "XTR", intent.payload),
                                             (ann.tg_id, 100, "USD", intent.payload), (ann.tg_id, 100, "XTR", "bp1_nope")):
        with pytest.raises(PaymentMismatch):
            payments.credit_charge(tg_id, payload, "c1", currency=currency, amount=amount)
    assert Payment.select().count() == 0
    first = payments.credit_charge(ann.tg_id, intent.payload, "c1", currency="XTR", amount=100)
    assert (first.tokens, first.bonus, first.replayed) == (200, 10, False)
    for _ in range(100):
        again = payments.credit_charge(ann.tg_id, intent.payload, "c1", currency="XTR", amount=100)
        assert again.replayed and again.payment_id == first.payment_id
    assert ledger.balance(ann.id) == (210, 0)
    assert Outbox.select().count() == 0  # the bot thanks the payer itself when it saw the update
    assert_ledger_clean()


def test_concurrent_deliveries_of_one_charge_credit_once(database):
    ann = new_user()
    intent = invoices.create_intent(ann.id, package(50).id)
    results, errors = [], []

    def deliver():
        try:
            results.append(payments.credit_charge(ann.tg_id, intent.payload, "race", currency="XTR", amount=50))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(r.replayed for r in results) == [False] + [True] * 7
    assert ledger.balance(ann.id) == (100, 0)
    assert_ledger_clean()


@pytest.mark.parametrize("mode", ["every", "first"])
def test_cashback_rounds_down_and_follows_the_mode(database, mode):
    referrals.set_rules(percent=7, mode=mode, actor=ADMIN)
    ann, bob = new_user(), new_user()
    referrals.attach(bob.id, ann.referral_code)
    assert bought(bob, 100).cashback == 14  # ⌊200 × 7 %⌋; the package bonus earns no cashback
    second = payments.credit(bob.id, "second", stars=1, tokens=29)
    assert second.cashback == (2 if mode == "every" else 0)  # ⌊29 × 7 %⌋ = ⌊2.03⌋
    tiny = payments.credit(bob.id, "tiny", stars=1, tokens=14)
    assert tiny.cashback == 0  # ⌊0.98⌋: nothing, and no zero transfer
    assert ledger.balance(ann.id) == (14 + second.cashback, 0)
    assert Transfer.select().where(Transfer.kind == "cashback").count() == (2 if mode == "every" else 1)
    assert_ledger_clean()


# ---------------------------------------------------------------- refunds

def test_refund_calls_telegram_then_reverses_once_with_clawback(database):
    ann, bob = new_user(), new_user()
    referrals.attach(bob.id, ann.referral_code)
    credit = bought(bob, 250)
    assert ledger.balance(ann.id) == (50, 0)
    ledger.hold(ann.id, 45, "ann-job")
    ledger.settle("ann-job")  # the referrer spent most of the cashback
    api = FakeStars()
    done = payments.refund(credit.charge_id, actor=SUPPORT, reason="duplicate", telegram=api)
    assert api.refunds == [(bob.tg_id, credit.charge_id)]
    assert (done.tokens, done.debt, done.clawed, done.referrer_debt) == (550, 0, 5, 45)
    assert ledger.balance(bob.id) == (0, 0) and ledger.balance(ann.id) == (0, 0)
    assert ledger.debt(ann.id) == 45  # what the referrer spent of the cashback is now their debt
    claw = Transfer.get((Transfer.kind == "cashback_reversal") & (Transfer.ref == credit.charge_id))
    assert claw.amount == 50
    with pytest.raises(AlreadyRefunded):
        payments.refund(credit.charge_id, actor=SUPPORT, reason="again", telegram=api)
    assert len(api.refunds) == 1
    assert payments.refunded_by_telegram(credit.charge_id) is None  # our own refund coming back as an update
    log = AdminAction.get(AdminAction.action == "payments.refund")
    assert log.target == f"charge:{credit.charge_id}" and '"forced": false' in log.after
    assert Outbox.get(Outbox.kind == payments.NOTICE_REFUNDED).dedupe_key == f"payment_refunded:{credit.charge_id}"
    assert_ledger_clean()


def test_refund_rules_roles_reason_and_telegram_errors(database):
    ann = new_user()
    credit = bought(ann)
    with pytest.raises(PermissionDenied):
        payments.refund(credit.charge_id, actor=Actor("tg:1", "user"), reason="x", telegram=FakeStars())
    with pytest.raises(PermissionDenied):
        payments.refund(credit.charge_id, actor=SUPPORT, reason="x", telegram=FakeStars(), force=True)
    with pytest.raises(Exception, match="needs a reason"):
        payments.refund(credit.charge_id, actor=SUPPORT, reason="  ", telegram=FakeStars())
    with pytest.raises(NotFound):
        payments.refund("nope", actor=SUPPORT, reason="x", telegram=FakeStars())
    api = FakeStars(refund_error=TelegramError("Telegram refused refundStarPayment: USER_ID_INVALID", "USER_ID_INVALID"))
    with pytest.raises(TelegramError):
        payments.refund(credit.charge_id, actor=SUPPORT, reason="x", telegram=api)
    assert Payment.get(Payment.charge_id == credit.charge_id).status == "paid" and ledger.balance(ann.id) == (100, 0)
    assert AdminAction.select().where((AdminAction.action == "payments.refund") & (AdminAction.outcome == "ok")).count() == 0
    assert AdminAction.select().where(AdminAction.outcome == "denied").count() == 2
    assert_ledger_clean()


def test_debt_policy_force_borrow_block_partial_and_full_repay(database):
    ann = new_user()
    credit = bought(ann, 100)  # 210 tokens
    ledger.hold(ann.id, 200, "spent")
    ledger.settle("spent")
    api = FakeStars()
    with pytest.raises(RefundBlocked) as blocked:
        payments.refund(credit.charge_id, actor=ADMIN, reason="chargeback", telegram=api)
    assert (blocked.value.available, blocked.value.needed) == (10, 210) and not api.refunds
    with pytest.raises(InsufficientTokens):  # the no-Telegram path never goes into debt
        payments.mark_refunded(credit.charge_id, actor=ADMIN, reason="x")
    done = payments.refund(credit.charge_id, actor=ADMIN, reason="chargeback", telegram=api, force=True)
    assert done.debt == 200 and ledger.balance(ann.id) == (0, 0) and ledger.debt(ann.id) == 200
    assert_ledger_clean()
    ledger.grant(ann.id, 30, "promo", reason="promo")
    with pytest.raises(InDebt):
        jobs.submit(ann.id, "gpt-image", "a cat")
    assert jobs.submit(ann.id, "gpt-image", "operator test", free=True).cost == 0  # operator runs are not sales
    partial = bought(ann, 50)  # 100 tokens + 30 available: repays 130 of 200
    assert partial.repaid == 130 and ledger.balance(ann.id) == (0, 0) and ledger.debt(ann.id) == 70
    with pytest.raises(InDebt):
        jobs.submit(ann.id, "gpt-image", "a cat")
    # refunding a top-up that went into repaying debt: those tokens are gone, so the debt grows back
    done = payments.refund(partial.charge_id, actor=ADMIN, reason="second chargeback", telegram=api, force=True)
    assert done.debt == 100 and ledger.debt(ann.id) == 170
    full = bought(ann, 250)  # 550 tokens repay all 170
    assert full.repaid == 170 and ledger.balance(ann.id) == (380, 0) and ledger.debt(ann.id) == 0
    assert jobs.submit(ann.id, "gpt-image", "a cat").cost == 5
    assert ledger.system_balances()["debt"] == 0
    assert_ledger_clean()


def test_external_refund_always_reverses_into_debt(database):
    ann = new_user()
    credit = bought(ann)
    ledger.hold(ann.id, 100, "spent")
    ledger.settle("spent")
    done = payments.refunded_by_telegram(credit.charge_id)
    assert (done.tokens, done.debt) == (100, 100) and ledger.debt(ann.id) == 100
    assert payments.refunded_by_telegram(credit.charge_id) is None
    assert Payment.get(Payment.charge_id == credit.charge_id).refunded_by == "telegram"
    with pytest.raises(NotFound):
        payments.refunded_by_telegram("never-seen")
    assert_ledger_clean()


def test_verify_catches_debt_breaches(database):
    ann = new_user()
    credit = bought(ann)
    ledger.hold(ann.id, 80, "spent")
    ledger.settle("spent")
    payments.refunded_by_telegram(credit.charge_id)
    assert verify() == []
    with atomic():
        User.update(debt=User.debt + 5).where(User.id == ann.id).execute()
    assert {b.check for b in verify()} == {"debt_matches_ledger", "debt_account_matches_users"}
    with atomic():
        User.update(debt=User.debt - 5).where(User.id == ann.id).execute()
        Payment.update(refund_debt=1).where(Payment.charge_id == credit.charge_id).execute()
    assert [b.check for b in verify()] == ["debt_matches_refunds"]
    with atomic():
        Payment.update(refund_debt=80).where(Payment.charge_id == credit.charge_id).execute()
        ledger.borrow(ann.id, 3, "stray")  # a debt that no refund explains
    assert {b.check for b in verify()} == {"debt_has_refund"}


# ---------------------------------------------------------------- reconcile

def test_reconcile_against_a_scripted_history(database):
    ann, bob = new_user(), new_user()
    seen = bought(ann)
    missed = invoices.create_intent(ann.id, package(250).id)
    refunded_here = bought(bob)
    payments.refunded_by_telegram(refunded_here.charge_id)  # pretend; Telegram will not list a refund
    local_only = bought(bob, charge="local-only")
    history = [
        tx(seen.charge_id, ann, 50, "x"),
        tx("missed", ann, 250, missed.payload, minute=1),
        tx("other-amount", ann, 7, missed.payload, minute=2),
        tx(refunded_here.charge_id, bob, 50, "x", minute=3),
        tx("old-refund", ann, 50, "bp1_old", refund=True, minute=4),
        StarsTx("withdrawal", 1000, NOW, None, None, False),
    ]
    api = FakeStars(history)
    report = reconcile(api)
    assert report.credited == ["missed"] and report.reversed == [] and report.seen == 4
    problems = {m.charge_id: m.problem for m in report.mismatches}
    assert set(problems) == {"other-amount", "old-refund", refunded_here.charge_id, local_only.charge_id}
    assert "refunded here but not on Telegram" in problems[refunded_here.charge_id]
    assert "not in Telegram's Stars history" in problems[local_only.charge_id]
    assert Payment.get(Payment.charge_id == "missed").source == "reconcile"
    assert Outbox.get(Outbox.kind == payments.NOTICE_CREDITED).chat_id == ann.tg_id
    again = reconcile(api)
    assert again.credited == [] and {m.charge_id for m in again.mismatches} == set(problems)
    partial = reconcile(FakeStars(history, complete=False))
    assert local_only.charge_id not in {m.charge_id for m in partial.mismatches}
    assert_ledger_clean()


def test_reconcile_leaves_refunds_reversed_here_alone(database, monkeypatch):
    """A refund Telegram lists and the bot already reversed is not replayed on every periodic run
    (it used to open a transaction per refund in the history, each time)."""
    ann = new_user()
    paid = bought(ann)
    payments.refunded_by_telegram(paid.charge_id)
    history = [tx(paid.charge_id, ann, 50, "x"), tx(paid.charge_id, ann, 50, None, refund=True, minute=1)]
    calls = []
    real = payments.refunded_by_telegram
    monkeypatch.setattr(payments, "refunded_by_telegram", lambda *a, **k: calls.append(a) or real(*a, **k))
    report = reconcile(FakeStars(history))
    assert calls == [] and report.reversed == [] and report.mismatches == [] and report.seen == 1
    assert Payment.get(Payment.charge_id == paid.charge_id).status == "refunded"
    assert_ledger_clean()


def test_reconcile_seen_amount_or_payer_differs(database):
    ann, bob = new_user(), new_user()
    credit = bought(ann)
    report = reconcile(FakeStars([tx(credit.charge_id, bob, 50, "x")]))
    assert [m.charge_id for m in report.mismatches] == [credit.charge_id]


def test_periodic_reconcile_task(database, caplog):
    ann = new_user()
    intent = invoices.create_intent(ann.id, package(50).id)
    assert reconcile_stars(lambda: None) is None  # no bot token configured
    api = FakeStars([tx("late", ann, 50, intent.payload)])
    report = reconcile_stars(lambda: api)
    assert report.credited == ["late"] and api.closed
    assert "credited 1 missed payment" in caplog.text
    assert ledger.balance(ann.id) == (100, 0)
    assert_ledger_clean()


def test_periodic_reconcile_with_telegram_unreachable_warns_and_moves_nothing(database, caplog):
    from bananapics.botapi import BotApi

    api = BotApi("123456:" + "A" * 35, base_url="http://127.0.0.1:9")  # a closed port: never the internet
    assert reconcile_stars(lambda: api) is None
    assert "reconcile skipped: Telegram Bot API unreachable" in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "AAAA" not in caplog.text  # the token never reaches the log
    assert_ledger_clean()


def test_migration_0006(database):
    assert SystemAccount.get_or_none(SystemAccount.name == "debt") is not None
    columns = {c.name for c in db.obj.get_columns("payments")}
    assert {"source", "refunded_by", "refund_debt"} <= columns
    assert "debt" in {c.name for c in db.obj.get_columns("users")}
    assert settings.get("payments.invoice_ttl_minutes") == 60


def test_workers_schedule_the_reconcile():
    from bananapics.botapi import BotApi
    from bananapics.config import load_config
    from bananapics.wiring import build_tasks, stars_api
    from tasks.generation import every

    base = {"BANANAPICS_QUEUE__BACKEND": "immediate"}
    config = load_config(None, environ=base)
    assert build_tasks(config).reconcile is not None and stars_api(config) is None  # no token: the task skips
    assert build_tasks(load_config(None, environ={**base, "BANANAPICS_TELEGRAM__RECONCILE_MINUTES": "0"})).reconcile is None
    with_token = load_config(None, environ={**base, "BANANAPICS_TELEGRAM__BOT_TOKEN": "1:abc"})
    api = stars_api(with_token)
    assert isinstance(api, BotApi)
    api.close()
    assert every(30)(dt.datetime(2026, 1, 1, 5, 30)) and not every(30)(dt.datetime(2026, 1, 1, 5, 31))
    assert every(120)(dt.datetime(2026, 1, 1, 4, 0)) and not every(120)(dt.datetime(2026, 1, 1, 3, 0))
