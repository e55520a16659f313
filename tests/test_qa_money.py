"""Adversarial money and account tests (QA pass): what users, admins and operators hit around
Telegram Stars top-ups, refunds, debt, reconcile, /paysupport, history and templates. Every money
test ends with ``assert_ledger_clean()``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import traceback

import httpx
import pytest
from typer.testing import CliRunner

from bananapics import i18n
from bananapics.botapi import BotApi
from bananapics.cli import payments_cmd
from bananapics.cli.main import app
from bananapics.errors import InDebt, TelegramError
from bananapics.models import InvoiceIntent, Job, Package, Payment, Transfer
from bananapics.models import db as proxy
from bananapics.services import invoices, jobs, ledger, payments, reconcile, referrals, users
from bananapics.services.audit import Actor
from bananapics.simtg import FakeTelegram, ManualClock, SimUser
from bananapics.simtg.botapi import transport
from bananapics.simtg.server import InvoiceRecord
from tests.helpers import assert_ledger_clean
from tests.test_payments_bot import balance_of, deliver, scenario

ADMIN = Actor("cli:boss", "admin")
runner = CliRunner()


async def buy(user: SimUser, label: str = "⭐ 50 →"):
    """/balance → Top up → a package, in any language (test_payments_bot's ``buy`` reads English labels)."""
    await user.send("/balance")
    await user.press(user.buttons()[0])  # Top up, in any language
    await user.press(label)
    return user.messages[-1]


# ---------------------------------------------------------------- top-up edge cases through the bot

def test_banned_after_approval_payment_is_credited_and_account_stays_banned(database):
    """Telegram took the Stars (pre-checkout passed before the ban): the charge is credited, never
    lost, and the account stays banned; the replay changes nothing."""
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await buy(ann)
        sent = tg.invoices[-1]
        query = tg.user_precheckout(ann.record, sent)
        await tg.settle()
        assert query.ok
        users.ban(ann.id, reason="abuse", actor=ADMIN)
        payment, msg = tg.user_payment_succeeds(ann.record, sent)
        tg.deliver_service(ann.record, msg, times=3)
        await tg.settle()
        assert balance_of(ann) == (150, 0, 0)
        assert Payment.get(Payment.charge_id == payment.charge_id).status == "paid"
        assert users.get(ann.id).banned
        answer = await ann.press_data(b"bal:open", message=ann.panel)
        assert answer.alert and "blocked" in answer.message.lower()

    scenario(database, body)
    assert_ledger_clean()


def test_repriced_package_keeps_the_invoice_price_deactivated_one_refuses(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await buy(ann)
        sent = tg.invoices[-1]
        Package.update(stars=70, tokens=300).where(Package.stars == 50).execute()  # repriced after the invoice
        result = await ann.pay(ann.messages[-1] if ann.messages[-1].media_kind == "invoice" else None)
        assert result.ok
        p = Payment.get(Payment.charge_id == result.charge_id)
        assert (p.stars, p.tokens) == (50, 100)  # what the invoice promised, frozen
        assert balance_of(ann) == (150, 0, 0)
        # a second invoice of the now deactivated package is refused at pre-checkout
        await buy(ann, "⭐ 70 →")
        Package.update(active=False).where(Package.stars == 70).execute()
        query = tg.user_precheckout(ann.record, tg.invoices[-1])
        await tg.settle()
        assert not query.ok and query.error == "This invoice is no longer valid. Choose a package again."
        assert sent is not tg.invoices[-1] and Payment.select().count() == 1

    scenario(database, body)
    assert_ledger_clean()


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_expired_and_paid_invoices_refused_in_each_language(database, lang):
    expired, paid = i18n.t(lang, "precheckout-expired"), i18n.t(lang, "precheckout-paid")

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code=lang)
        await ann.start()
        await buy(ann)
        sent = tg.invoices[-1]
        invoices.expire_intents(now=dt.datetime(2100, 1, 1))
        assert InvoiceIntent.get().status == "expired"
        query = tg.user_precheckout(ann.record, sent)
        await tg.settle()
        assert not query.ok and query.error == expired
        InvoiceIntent.update(status="open").execute()
        await ann.pay(ann.messages[-1])
        again = tg.user_precheckout(ann.record, sent)
        await tg.settle()
        assert not again.ok and again.error == paid
        await ann.send("/paysupport")
        text = ann.panel.text
        assert "@BananaPicsSupport" in text and "⭐ 50" in text
        assert i18n.t(lang, "payment-status-paid") in text and i18n.t(lang, "paysupport-recent") in text

    scenario(database, body)
    assert_ledger_clean()


def test_precheckout_of_another_users_payload_and_a_wrong_amount(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        bob = SimUser(tg, "Bob", lang_code="uz")
        await ann.start()
        await bob.start()
        await buy(ann)
        anns = tg.invoices[-1]
        query = tg.user_precheckout(bob.record, anns)
        await tg.settle()
        assert not query.ok and query.error
        # the payment update itself says another amount than the intent: not credited, payer told once
        forged = InvoiceRecord(**{**anns.__dict__, "amount": 49, "charge_ids": []})
        payment, msg = tg.user_payment_succeeds(ann.record, forged)
        tg.deliver_service(ann.record, msg, times=4)
        await tg.settle()
        assert Payment.select().count() == 0 and balance_of(ann) == (50, 0, 0)
        assert sum(payment.charge_id in m.text for m in ann.messages) == 1
        # Bob's payment of Ann's payload is not credited to anyone
        payment, msg = tg.user_payment_succeeds(bob.record, anns)
        tg.deliver_service(bob.record, msg)
        await tg.settle()
        assert Payment.select().count() == 0 and balance_of(ann) == (50, 0, 0) and balance_of(bob) == (50, 0, 0)

    scenario(database, body)
    assert_ledger_clean()


def test_payer_who_blocked_the_bot_is_still_credited_without_a_handler_crash(database):
    """The thank-you cannot be sent (UserIsBlocked): the charge is credited, the referrer still
    hears about the cashback, the handler does not crash, the replay sends nothing."""
    async def body(tg, bot):
        rita = SimUser(tg, "Rita", lang_code="en")
        await rita.start()
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start(f"ref_{users.get(rita.id).referral_code}")
        await deliver(tg, bot)
        await buy(ann)
        sent = tg.invoices[-1]
        query = tg.user_precheckout(ann.record, sent)
        await tg.settle()
        assert query.ok
        payment, msg = tg.user_payment_succeeds(ann.record, sent)
        await ann.block_bot()
        tg.deliver_service(ann.record, msg, times=2)
        await tg.settle()
        assert balance_of(ann) == (150, 0, 0) and balance_of(rita) == (60, 0, 0)
        assert Payment.get(Payment.charge_id == payment.charge_id).status == "paid"
        assert rita.last.text == "🎁 Your friend topped up: +10 tokens to your balance."
        assert users.get(ann.id).blocked_bot
        # an unmatched charge from a user who blocked the bot: no crash either
        forged = InvoiceRecord(**{**sent.__dict__, "payload": b"bp1_nothing", "charge_ids": []})
        payment, msg = tg.user_payment_succeeds(ann.record, forged)
        tg.deliver_service(ann.record, msg)
        await tg.settle()
        assert Payment.select().count() == 1

    scenario(database, body)
    assert_ledger_clean()


# ---------------------------------------------------------------- refunds, debt, reconcile

def _botapi(tg) -> BotApi:
    return BotApi(tg.bot_token, transport=transport(tg))


def test_refund_twice_then_the_refund_update_arrives_reverses_once(database):
    """An operator refunds through the Bot API (as the CLI does), retries, and then Telegram's
    refund service message for that charge reaches the bot, several times: one reversal, one
    notice, one admin-log row."""
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="ru")
        await ann.start()
        paid = await ann.pay(await buy(ann))
        api = _botapi(tg)
        done = await asyncio.to_thread(payments.refund, paid.charge_id, actor=ADMIN, reason="asked", telegram=api)
        assert (done.tokens, done.debt, done.telegram_already) == (100, 0, False)
        with pytest.raises(Exception, match="already refunded"):
            await asyncio.to_thread(payments.refund, paid.charge_id, actor=ADMIN, reason="again", telegram=api)
        refund_msgs = [m for m in ann.history if m.is_service and "Refunded" in type(m.action).__name__]
        assert refund_msgs, "Telegram posts a refund service message"
        tg.deliver_service(ann.record, refund_msgs[-1].raw, times=3)
        await tg.settle()
        assert await deliver(tg, bot) == 1 and await deliver(tg, bot) == 0
        assert ann.last.text.startswith("↩️")
        assert balance_of(ann) == (50, 0, 0) and len(tg.refunds) == 1
        assert Transfer.select().where(Transfer.kind == "stars_refund").count() == 1
        api.close()

    scenario(database, body)
    assert_ledger_clean()


def test_refund_after_the_referrer_spent_the_cashback_leaves_them_the_rest_as_debt(database):
    async def body(tg, bot):
        rita = SimUser(tg, "Rita", lang_code="en")
        await rita.start()
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start(f"ref_{users.get(rita.id).referral_code}")
        paid = await ann.pay(await buy(ann, "⭐ 100 →"))  # 200 + 10 bonus; cashback 20
        assert balance_of(rita) == (70, 0, 0)
        rid = users.get(rita.id).id
        ledger.hold(rid, 65, "rita-job")
        ledger.settle("rita-job")
        done = await asyncio.to_thread(payments.refund, paid.charge_id, actor=ADMIN, reason="fraud",
                                       telegram=_botapi(tg))
        assert (done.tokens, done.clawed, done.debt, done.referrer_debt) == (210, 5, 0, 15)
        assert balance_of(rita) == (0, 0, 15) and balance_of(ann) == (50, 0, 0)
        reversal = Transfer.get((Transfer.kind == "cashback_reversal") & (Transfer.ref == paid.charge_id))
        assert reversal.amount == 20
        # an external refund update for the same charge afterwards changes nothing
        assert payments.refunded_by_telegram(paid.charge_id) is None
        assert balance_of(rita) == (0, 0, 15)

    scenario(database, body)
    assert_ledger_clean()


def test_forced_refund_debt_then_top_ups_repay_and_generation_is_allowed_again(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        uid = users.get(ann.id).id
        paid = await ann.pay(await buy(ann, "⭐ 100 →"))  # 50 + 210
        ledger.hold(uid, 250, "spent")
        ledger.settle("spent")
        done = await asyncio.to_thread(payments.refund, paid.charge_id, actor=ADMIN, reason="chargeback",
                                       telegram=_botapi(tg), force=True)
        assert done.debt == 200 and balance_of(ann) == (0, 0, 200)
        with pytest.raises(InDebt):
            jobs.submit(uid, "gpt-image", "a cat")
        await ann.pay(await buy(ann))  # 100 tokens: repays half the debt
        assert balance_of(ann) == (0, 0, 100)
        assert "repaid your debt" in ann.panel.text and "Debt: 100 tokens" in ann.panel.text
        with pytest.raises(InDebt):
            jobs.submit(uid, "gpt-image", "a cat")
        await ann.pay(await buy(ann, "⭐ 100 →"))  # 210: repays the rest, 110 left
        assert balance_of(ann) == (110, 0, 0)
        job = jobs.submit(uid, "seedream-4", "a cat", {}, chat_id=None)
        assert job.cost > 0 and balance_of(ann)[1] == job.cost
        await ann.send("/balance")
        assert "Debt" not in ann.panel.text

    scenario(database, body)
    assert_ledger_clean()


def test_reconcile_reports_unknown_charges_and_unknown_payers_and_changes_nothing(database):
    tg = FakeTelegram(clock=ManualClock())
    ann_rec = tg.add_user("Ann")
    ann = users.register(ann_rec.id, first_name="Ann").user
    ghost = tg.add_user("Ghost")  # paid, but never started the bot (or was erased)
    intent = invoices.create_intent(ann.id, Package.get(Package.stars == 50).id)

    def telegram_pays(record, payload: bytes, amount: int) -> str:
        invoice = InvoiceRecord(msg_id=None, user_id=record.id, title="t", description="d", currency="XTR",
                                amount=amount, payload=payload, start_param=None)
        tg.invoices.append(invoice)
        return tg.user_payment_succeeds(record, invoice)[0].charge_id

    stray = telegram_pays(ann_rec, b"order-42", 50)
    foreign = telegram_pays(ghost, intent.payload.encode(), 50)
    short = telegram_pays(ann_rec, intent.payload.encode(), 49)
    good = telegram_pays(ann_rec, intent.payload.encode(), 50)
    tg.user_refund_external(stray)
    with _botapi(tg) as api:
        report = reconcile.reconcile(api)
        again = reconcile.reconcile(api)
    problems = {m.charge_id: m.problem for m in report.mismatches}
    # the stray charge Telegram already gave back needs nobody's look: it is not reported (it was
    # reported on every run forever, so `payments reconcile` could never exit 0 again)
    assert report.credited == [good] and set(problems) == {foreign, short} and report.reversed == []
    assert "another user" in problems[foreign] and "49" in problems[short]
    assert again.credited == [] and {m.charge_id for m in again.mismatches} == {foreign, short}
    # support refunds the two strays on Telegram: the next run is clean
    api = _botapi(tg)
    api.refund_charge(ghost.id, foreign)
    api.refund_charge(ann_rec.id, short)
    assert reconcile.reconcile(api).mismatches == []
    api.close()
    assert ledger.balance(ann.id) == (100, 0) and Payment.select().count() == 1
    assert_ledger_clean()


def test_reconcile_skips_a_missed_charge_telegram_already_refunded(database):
    """The bot missed both the payment and its refund: nothing is owed, so nothing is credited,
    the payer gets no thank-you and no refund notice, and their debt is not touched."""
    tg = FakeTelegram(clock=ManualClock())
    rec = tg.add_user("Ann")
    ann = users.register(rec.id, first_name="Ann").user
    intent = invoices.create_intent(ann.id, Package.get(Package.stars == 50).id)
    invoice = InvoiceRecord(msg_id=None, user_id=rec.id, title="t", description="d", currency="XTR",
                            amount=50, payload=intent.payload.encode(), start_param=None)
    tg.invoices.append(invoice)
    charge = tg.user_payment_succeeds(rec, invoice)[0].charge_id
    tg.user_refund_external(charge)
    with _botapi(tg) as api:
        report = reconcile.reconcile(api)
    assert report.credited == [] and report.reversed == [] and report.mismatches == []
    assert Payment.select().count() == 0 and Transfer.select().where(Transfer.ref == charge).count() == 0
    from bananapics.models import Outbox
    assert Outbox.select().where(Outbox.kind.in_([payments.NOTICE_CREDITED, payments.NOTICE_REFUNDED])).count() == 0
    assert_ledger_clean()


# ---------------------------------------------------------------- secrets

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_x"


@pytest.mark.parametrize("failure", ["connect", "timeout", "html", "json-error", "unauthorized"])
def test_bot_api_errors_never_carry_the_token(failure, caplog):
    def handler(request: httpx.Request) -> httpx.Response:
        assert TOKEN in str(request.url)  # the token is in every URL: nothing below may repeat it
        if failure == "connect":
            raise httpx.ConnectError(f"cannot reach {request.url}", request=request)
        if failure == "timeout":
            raise httpx.ReadTimeout(f"timed out talking to {request.url}", request=request)
        if failure == "html":
            return httpx.Response(502, text=f"<html>bad gateway for {request.url}</html>")
        if failure == "unauthorized":
            return httpx.Response(401, json={"ok": False, "error_code": 401, "description": "Unauthorized"})
        return httpx.Response(400, json={"ok": False, "error_code": 400,
                                         "description": "Bad Request: CHARGE_ID_INVALID"})

    caplog.set_level(logging.DEBUG)
    with BotApi(TOKEN, transport=httpx.MockTransport(handler)) as api:
        with pytest.raises(TelegramError) as caught:
            api.refund_charge(1, "charge")
        with pytest.raises(TelegramError):
            api.transactions()
    exc = caught.value
    shown = "".join(traceback.format_exception(exc))  # what a log.exception() would print
    text = " ".join([str(exc), exc.msg, repr(exc), shown, caplog.text])
    assert TOKEN not in text and TOKEN.split(":")[1] not in text


def test_cli_refund_failure_prints_no_token(database, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tg = FakeTelegram(clock=ManualClock())
    rec = tg.add_user("Ann")
    ann = users.register(rec.id, first_name="Ann").user
    intent = invoices.create_intent(ann.id, Package.get(Package.stars == 50).id)
    invoice = InvoiceRecord(msg_id=None, user_id=rec.id, title="t", description="d", currency="XTR",
                            amount=50, payload=intent.payload.encode(), start_param=None)
    tg.invoices.append(invoice)
    charge = tg.user_payment_succeeds(rec, invoice)[0].charge_id
    payments.credit_charge(rec.id, invoice.payload, charge, currency="XTR", amount=50)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"[Errno 111] connection refused: {request.url}", request=request)

    from bananapics import botapi
    monkeypatch.setattr(payments_cmd, "stars_api", lambda: botapi.BotApi(TOKEN, transport=httpx.MockTransport(down)))
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_TELEGRAM__BOT_TOKEN": TOKEN}
    for args in (["payments", "refund", charge, "--reason", "asked"], ["payments", "reconcile"],
                 ["payments", "refund", charge, "--reason", "asked", "--json"]):
        result = runner.invoke(app, args, env=env)
        proxy.initialize(database)
        assert result.exit_code == 5, result.output  # the exit-code table: Telegram unavailable
        assert "unreachable" in result.stderr
        assert TOKEN not in result.output + result.stderr and not isinstance(result.exception, httpx.HTTPError)
    assert Payment.get(Payment.charge_id == charge).status == "paid" and ledger.balance(ann.id) == (100, 0)
    assert_ledger_clean()


# ---------------------------------------------------------------- history and templates

def _done_job(bot, user_id: int, prompt: str, model: str = "seedream-4") -> Job:
    from tests.test_history import _finished
    return _finished(bot, user_id, prompt, model=model)


def test_history_buttons_of_a_deleted_job_are_outdated_and_change_nothing(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="uz")
        await ann.start()
        uid = users.get(ann.id).id
        keep = _done_job(bot, uid, "a kept picture")
        gone = _done_job(bot, uid, "a purged picture")
        await ann.send("/history")
        panel = ann.panel
        Job.delete().where(Job.id == gone.id).execute()  # purged by an operator while the list was open
        for action in ("open", "send", "regen", "reuse"):
            data = f"hist:{action}:{gone.id}" + (":0" if action == "open" else "")
            answer = await ann.press_data(data.encode(), message=panel)
            assert answer.message == i18n.t("uz", "toast-outdated"), action
            panel = ann.panel
        from bananapics.models import Outbox
        assert Outbox.select().where(Outbox.kind == "job_result").count() == 0
        await ann.send("/history")
        assert "a kept picture" in ann.panel.text and "a purged picture" not in ann.panel.text
        assert ledger.balance(uid) == (50 - keep.cost - gone.cost, 0)

    scenario(database, body)


def test_regenerate_and_reuse_when_the_jobs_model_is_disabled(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        uid = users.get(ann.id).id
        job = _done_job(bot, uid, "a lighthouse at night")
        from bananapics.models import AiModel
        AiModel.update(enabled=False).where(AiModel.id == "seedream-4").execute()
        await ann.send("/history")
        await ann.press(ann.buttons()[0])
        before = ledger.balance(uid)
        await ann.press("Regenerate")
        assert "SeeDream 4" in ann.panel.text and ledger.balance(uid) == before
        await ann.press("Use this prompt")
        from bananapics.models import Draft
        draft = Draft.get(Draft.user == uid)
        assert draft.prompt == "a lighthouse at night" and draft.model != "seedream-4"
        assert job.id

    scenario(database, body)
    assert_ledger_clean()


def test_template_pick_when_its_model_is_disabled_or_no_model_is_left(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="ru")
        await ann.start()
        uid = users.get(ann.id).id
        from bananapics.models import AiModel, Draft, Template
        template = Template.get(Template.model == "nano-banana")
        AiModel.update(enabled=False).where(AiModel.id == "nano-banana").execute()
        await ann.press_data(f"tpl:use:{template.id}".encode(), message=ann.panel)
        draft = Draft.get(Draft.user == uid)
        assert draft.template_id == template.id and draft.model not in ("nano-banana", None)
        assert AiModel.get_by_id(draft.model).enabled and draft.prompt == template.prompt_ru
        # every model off: a clear message, the draft is not half-filled, nothing is charged
        AiModel.update(enabled=False).execute()
        Draft.delete().execute()
        await ann.press_data(f"tpl:open:{template.id}".encode(), message=ann.panel)
        await ann.press_data(f"tpl:use:{template.id}".encode(), message=ann.panel)
        assert template.title("ru") in ann.panel.text
        assert ledger.balance(uid) == (50, 0)

    scenario(database, body)
    assert_ledger_clean()


# ---------------------------------------------------------------- long charge ids

def test_long_charge_ids_sharing_a_prefix_each_get_their_refund_notice(database):
    """Real Stars charge ids are ~110 characters; the outbox key used to be cut at 96, so two
    charges whose ids share their first ~80 characters shared one notice (the second was lost)."""
    from bananapics.models import Outbox
    from tests.helpers import new_user
    ann = new_user()
    prefix = "stx" + "zmNSmhzhfmd9CMdU7qvRCXhWIcZCrLBsptM7nPY1cLd1PL_xJ71V0m6fJfp0B4qNvI4civuX44nh89MrltZGA"
    charges = [prefix + "-P5tugfYe8gUvhk8rHkd6o", prefix + "-Q7xkq0PzB3mWc1nLr9Ta2"]
    assert all(len(c) == 110 for c in charges)
    for charge in charges:
        payments.credit(ann.id, charge, stars=50, tokens=100)
    for charge in charges:
        assert payments.refunded_by_telegram(charge) is not None
        assert payments.refunded_by_telegram(charge) is None  # replay
    notices = list(Outbox.select().where(Outbox.kind == payments.NOTICE_REFUNDED))
    assert sorted(json.loads(n.payload)["charge_id"] for n in notices) == sorted(charges)
    assert ledger.balance(ann.id) == (0, 0)
    assert_ledger_clean()


def test_a_charge_that_cannot_be_recorded_tells_the_payer_instead_of_crashing(database):
    """A charge id longer than the payments table takes (or any other refusal) must not crash the
    handler silently: the payer is told once how to reach support, nothing is credited."""
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await buy(ann)
        payment, msg = tg.user_payment_succeeds(ann.record, tg.invoices[-1])
        msg.action.charge.id = "stx" + "a" * 300  # beyond the 240 characters a charge id may have
        tg.deliver_service(ann.record, msg, times=2)
        await tg.settle()
        told = [m for m in ann.messages if "matches none of your invoices" in m.text]
        assert len(told) == 1 and Payment.select().count() == 0 and balance_of(ann) == (50, 0, 0)

    scenario(database, body)
    assert_ledger_clean()


def test_a_long_charge_id_is_credited_once(database):
    """Telegram does not promise a charge id length (~110 today): 200 characters still credit once."""
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await buy(ann)
        payment, msg = tg.user_payment_succeeds(ann.record, tg.invoices[-1])
        msg.action.charge.id = "stx" + "b" * 197
        tg.deliver_service(ann.record, msg, times=3)
        await tg.settle()
        assert Payment.get().charge_id == "stx" + "b" * 197 and balance_of(ann) == (150, 0, 0)

    scenario(database, body)
    assert_ledger_clean()


# ---------------------------------------------------------------- ledger verify

def test_verify_catches_a_refund_that_takes_back_the_wrong_amount_or_claws_too_much(database):
    from bananapics.db import atomic
    from bananapics.services.ledger import Account, sys as system
    from bananapics.services.verify import CHECK_NAMES, verify
    from tests.helpers import new_user
    rita = new_user(40)
    ann = new_user()
    referrals.attach(ann.id, rita.referral_code)
    payments.credit(ann.id, "ch-under", stars=50, tokens=100, bonus=10)
    assert_ledger_clean()
    with atomic():  # a buggy refund: marks it refunded but takes back 90 + nothing
        Payment.update(status="refunded").where(Payment.charge_id == "ch-under").execute()
        ledger.transfer("stars_refund", "ch-under", 90, Account(ann.id, "available"), system("stars_in"))
    # ... and leaves Rita's cashback of 10 standing
    assert [b.check for b in verify()] == ["refund_reverses_charge", "clawback_plus_debt_is_cashback"]
    assert "gave 100+10 tokens but its refund took back 90+0" in verify()[0].detail
    with atomic():
        ledger.transfer("fix", "ch-under", 10, Account(ann.id, "available"), system("stars_in"))
        ledger.transfer("bonus_reversal", "ch-under", 10, Account(ann.id, "available"), system("bonus"))
    assert [b.check for b in verify()][0] == "refund_reverses_charge"  # 90 is still not 100
    # a claw-back bigger than the cashback, or from someone who never got one
    payments.credit(ann.id, "ch-claw", stars=50, tokens=100)  # cashback 10 to Rita
    ledger.transfer("cashback_reversal", "ch-claw", 30, Account(rita.id, "available"), system("referral"))
    checks = [b.check for b in verify()]
    assert "clawback_within_cashback" in checks
    assert {"refund_reverses_charge", "clawback_within_cashback"} <= set(CHECK_NAMES)
