"""Adversarial money and account tests (QA pass): what users, admins and operators hit around
Telegram Stars top-ups, refunds, debt, reconcile, /paysupport, history and templates. Every money
test ends with ``assert_ledger_clean()``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

import httpx
import pytest
from typer.testing import CliRunner

from bananapics import i18n
from bananapics.botapi import BotApi
from bananapics.bot.delivery import deliver_once
from bananapics.bot.ratelimit import UserLimiter
from bananapics.cli import payments_cmd
from bananapics.cli.main import app
from bananapics.errors import InDebt, TelegramError
from bananapics.models import InvoiceIntent, Job, Package, Payment, Transfer
from bananapics.models import db as proxy
from bananapics.services import invoices, jobs, ledger, payments, referrals, users
from bananapics.services.audit import Actor
from bananapics.simtg import FakeTelegram, ManualClock, SimUser
from bananapics.simtg.botapi import transport
from bananapics.simtg.server import InvoiceRecord
from tests.helpers import assert_ledger_clean
from tests.helpers import scenario as _scenario

ADMIN = Actor("cli:boss", "admin")
runner = CliRunner()


def scenario(database, body, **env):
    async def unlimited(tg, bot):
        bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)
        await body(tg, bot)

    _scenario(database, unlimited, **env)


async def buy(user: SimUser, label: str = "⭐ 50 →"):
    await user.send("/balance")
    await user.press(user.buttons()[0])  # Top up, in any language
    await user.press(label)
    return user.messages[-1]


async def deliver(tg, bot) -> int:
    sent = await deliver_once(bot.client, bot.storage, bot.sender)
    await tg.settle()
    return sent


def balance_of(sim: SimUser) -> tuple[int, int, int]:
    u = users.get(sim.id)
    return u.available, u.held, u.debt


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
