"""Stars payments through the simulated Telegram: balance → packages → invoice → pre-checkout →
payment → thank-you; replays; pre-checkout refusals; refunds (admin through the bot's client,
external); debt; /paysupport and the payments screens. The ledger is verified after each test."""

from __future__ import annotations

import asyncio
import datetime as dt

from telethon import types

from bananapics.bot.delivery import deliver_once
from bananapics.bot.ratelimit import UserLimiter
from bananapics.bot.stars import TelethonStars
from bananapics.errors import AlreadyRefunded, InDebt, RefundBlocked
from bananapics.models import AdminAction, InvoiceIntent, Package, Payment, Transfer
from bananapics.services import jobs, ledger, payments, referrals, users
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean
from tests.helpers import scenario as _scenario

ADMIN = Actor("cli:boss", "admin")
SUPPORT = Actor("cli:helper", "support")


def scenario(database, body, **env):
    """The shared bot scenario; these tests tap a lot, so the per-user flood limit is out of the way."""
    async def unlimited(tg, bot):
        bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)
        await body(tg, bot)

    _scenario(database, unlimited, **env)


async def buy(user: SimUser, label: str = "⭐ 50 →"):
    """(Menu →) Balance → Top up → a package; returns the invoice message."""
    if not any("Balance" in label for label in user.buttons()):
        await user.press("Menu")
    await user.press("Balance")
    await user.press("Top up")
    await user.press(label)
    return user.messages[-1]


async def deliver(tg, bot) -> int:
    """One pass of the bot's delivery loop (refund notices and late thank-yous live in the outbox)."""
    sent = await deliver_once(bot.client, bot.storage, bot.sender)
    await tg.settle()
    return sent


def balance_of(sim: SimUser) -> tuple[int, int, int]:
    u = users.get(sim.id)
    return u.available, u.held, u.debt


def test_top_up_end_to_end(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Balance")
        assert ann.panel.text.startswith("💰 Balance: 50 tokens")
        assert ann.buttons() == ["⭐ Top up", "🧾 Payments", "🏠 Menu"]
        await ann.press("Top up")
        labels = ann.buttons()
        assert labels[:5] == ["⭐ 50 → 100 tokens", "⭐ 100 → 210 tokens (+5%)", "⭐ 250 → 550 tokens (+10%)",
                              "⭐ 500 → 1,150 tokens (+15%)", "⭐ 1,000 → 2,400 tokens (+20%)"]
        assert "/terms" in ann.panel.text
        panel_id = ann.panel.id
        await ann.press("⭐ 250 →")
        invoice = ann.messages[-1]
        assert invoice.media_kind == "invoice"
        sent = tg.invoices[-1]
        assert (sent.currency, sent.amount, sent.title) == ("XTR", 250, "550 BananaPics tokens")
        assert len(sent.title) <= 32 and len(sent.description) <= 255
        intent = InvoiceIntent.get(InvoiceIntent.payload == sent.payload.decode())
        assert (intent.stars, intent.tokens, intent.bonus_tokens, intent.status) == (250, 500, 50, "open")
        assert len(sent.payload) >= 20  # unguessable: 128 random bits
        assert "Pay it within 60 minutes" in tg.message(panel_id).msg.message

        assert invoice.buttons == ["Pay ⭐ 250"]  # Telegram's buy button, first on the invoice
        result = await ann.press("Pay ⭐ 250", message=invoice)
        assert result.ok
        query = tg.precheckouts[result.query_id]
        assert query.answered and query.ok
        assert ann.panel.text.splitlines()[:2] == ["✅ +550 tokens. Balance: 600", "🎁 Including a bonus of 50 tokens."]
        assert ann.buttons() == ["🎨 Generate", "🏠 Menu"]
        assert balance_of(ann) == (600, 0, 0)
        payment = Payment.get(Payment.charge_id == result.charge_id)
        assert (payment.stars, payment.tokens, payment.bonus_tokens, payment.status, payment.source) == \
            (250, 500, 50, "paid", "bot")
        assert InvoiceIntent.get_by_id(intent.id).status == "paid"
        # the same invoice cannot be paid again: pre-checkout refuses it
        again = tg.user_precheckout(ann.record, sent)
        await tg.settle()
        assert again.answered and not again.ok and again.error == "This invoice is already paid."

    scenario(database, body)
    assert_ledger_clean()


def test_replayed_payment_credits_once_and_says_thanks_once(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        invoice = await buy(ann)
        before = len(ann.messages)
        result = await ann.pay(invoice, replays=100)
        assert result.ok
        assert balance_of(ann) == (150, 0, 0)
        assert len(ann.messages) == before + 1  # one thank-you, not 100
        assert Payment.select().count() == 1
        assert Transfer.select().where(Transfer.kind == "topup").count() == 1
        # delivered concurrently (one container, dispatched at once) after a "restart": still nothing
        payment = tg.payments[result.charge_id]
        msg = tg.message(payment.msg_id).msg
        tg.deliver_service(ann.record, msg, times=20, together=True)
        await tg.settle()
        assert balance_of(ann) == (150, 0, 0) and len(ann.messages) == before + 1

    scenario(database, body)
    assert_ledger_clean()


def test_two_charges_for_one_intent_both_credit(database):
    """An old invoice paid twice (both pre-checkouts passed before either payment landed): the
    user paid twice, so both charges credit, each exactly once, and each can be refunded alone."""
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await buy(ann)
        sent = tg.invoices[-1]
        first = tg.user_precheckout(ann.record, sent)
        second = tg.user_precheckout(ann.record, sent)
        await tg.settle()
        assert first.ok and second.ok
        charges = []
        for _ in range(2):
            payment, msg = tg.user_payment_succeeds(ann.record, sent)
            tg.deliver_service(ann.record, msg, times=3)
            await tg.settle()
            charges.append(payment.charge_id)
        assert balance_of(ann) == (250, 0, 0)
        rows = list(Payment.select().order_by(Payment.id))
        assert [p.charge_id for p in rows] == charges and {p.intent_id for p in rows} == {rows[0].intent_id}
        assert InvoiceIntent.get_by_id(rows[0].intent_id).charge_id == charges[0]
        assert sum("✅ +100 tokens" in m.text for m in ann.messages) == 2

    scenario(database, body)
    assert_ledger_clean()


def test_precheckout_refusals_in_the_users_language(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        bob = SimUser(tg, "Bob", lang_code="ru")
        await ann.start()
        await bob.start()
        await buy(ann)
        anns = tg.invoices[-1]

        async def check(user, invoice, expected):
            query = tg.user_precheckout(user.record, invoice)
            await tg.settle()
            assert query.answered and not query.ok, expected
            assert query.error == expected
            return query

        # foreign: Bob pays Ann's invoice (forwarded payload)
        await check(bob, anns, "Этот счёт больше не действителен. Выберите пакет заново.")
        # tampered amount and currency
        tampered = type(anns)(**{**anns.__dict__, "amount": 1, "charge_ids": []})
        await check(ann, tampered, "This invoice does not match the package. Choose a package again.")
        # unknown payloads: not ours at all, or our prefix with a guessed tail
        for payload in (b"order:1", b"bp1_guessedguessedguessed", "bp1_é".encode()):
            forged = type(anns)(**{**anns.__dict__, "payload": payload, "charge_ids": []})
            await check(ann, forged, "This invoice is no longer valid. Choose a package again.")
        # package withdrawn after the invoice was sent
        Package.update(active=False).where(Package.stars == 50).execute()
        await check(ann, anns, "This invoice is no longer valid. Choose a package again.")
        Package.update(active=True).where(Package.stars == 50).execute()
        # expired: the clock moves past the TTL
        InvoiceIntent.update(expires_at=dt.datetime(2000, 1, 1)).execute()
        await check(ann, anns, "This invoice has expired. Open Top up and choose a package again.")
        InvoiceIntent.update(expires_at=dt.datetime(2100, 1, 1)).execute()
        # banned after the invoice was sent
        users.ban(ann.id, reason="abuse", actor=ADMIN)
        await check(ann, anns, "Your account is blocked, so payments are not accepted.")
        users.unban(ann.id, reason="ok", actor=ADMIN)
        ok = tg.user_precheckout(ann.record, anns)
        await tg.settle()
        assert ok.ok
        assert Payment.select().count() == 0 and balance_of(ann) == (50, 0, 0)

    scenario(database, body)
    assert_ledger_clean()


def test_unmatched_charge_is_not_credited_and_the_payer_is_told_once(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await buy(ann)
        forged = type(tg.invoices[-1])(**{**tg.invoices[-1].__dict__, "payload": b"bp1_nothing", "charge_ids": []})
        payment, msg = tg.user_payment_succeeds(ann.record, forged)
        tg.deliver_service(ann.record, msg, times=3)
        await tg.settle()
        told = [m for m in ann.messages if "matches none of your invoices" in m.text]
        assert len(told) == 1 and payment.charge_id in told[0].text
        assert Payment.select().count() == 0 and balance_of(ann) == (50, 0, 0)

    scenario(database, body)
    assert_ledger_clean()


def test_referrer_gets_cashback_and_a_notice(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start(f"ref_{users.get(ann.id).referral_code}")
        await bob.pay(await buy(bob, "⭐ 100 →"))  # 200 tokens + 10 bonus; cashback 10 % of 200
        assert balance_of(bob) == (260, 0, 0)
        assert balance_of(ann) == (70, 0, 0)
        assert ann.last.text == "🎁 Your friend topped up: +20 tokens to your balance."
        referrals.set_rules(mode="first", actor=ADMIN)
        await bob.pay(await buy(bob, "⭐ 50 →"))
        assert balance_of(ann) == (70, 0, 0)  # first top-up only now
        assert sum("Your friend topped up" in m.text for m in ann.messages) == 1

    scenario(database, body)
    assert_ledger_clean()


def test_admin_refund_through_the_bots_client_once(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        paid = await ann.pay(await buy(ann))
        stars = TelethonStars(bot.client, asyncio.get_running_loop())
        done = await asyncio.to_thread(payments.refund, paid.charge_id, actor=SUPPORT, reason="asked by user",
                                       telegram=stars)
        await tg.settle()
        assert (done.tokens, done.debt, done.telegram_already) == (100, 0, False)
        assert tg.payments[paid.charge_id].refunded and tg.stars_balance() == 0
        assert balance_of(ann) == (50, 0, 0)
        assert await deliver(tg, bot) == 1
        assert ann.last.text == "↩️ Payment refunded: ⭐ 50. 100 tokens were removed from your balance. Balance: 50"
        assert Payment.get(Payment.charge_id == paid.charge_id).refunded_by == "cli:helper"
        log = AdminAction.get(AdminAction.action == "payments.refund")
        assert log.actor == "cli:helper" and log.reason == "asked by user"
        try:
            await asyncio.to_thread(payments.refund, paid.charge_id, actor=SUPPORT, reason="again", telegram=stars)
        except AlreadyRefunded as exc:
            assert "already refunded" in exc.msg
        else:
            raise AssertionError("a second refund must be refused")
        assert len(tg.refunds) == 1 and AdminAction.select().where(AdminAction.action == "payments.refund").count() == 1

    scenario(database, body)
    assert_ledger_clean()


def test_charge_already_refunded_on_telegram_is_brought_in_line(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        paid = await ann.pay(await buy(ann))
        tg.payments[paid.charge_id].refunded = True  # refunded on Telegram; the update never reached us
        stars = TelethonStars(bot.client, asyncio.get_running_loop())
        done = await asyncio.to_thread(payments.refund, paid.charge_id, actor=SUPPORT, reason="dup", telegram=stars)
        assert done.telegram_already and balance_of(ann) == (50, 0, 0)

    scenario(database, body)
    assert_ledger_clean()


def test_external_refund_reverses_once_and_tells_the_user_once(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start(f"ref_{users.get(ann.id).referral_code}")
        assert await deliver(tg, bot) == 1  # Ann hears that Bob joined through her link
        paid = await bob.pay(await buy(bob))
        assert balance_of(ann) == (60, 0, 0)
        await bob.refund_externally(paid.charge_id)
        assert balance_of(bob) == (50, 0, 0) and balance_of(ann) == (50, 0, 0)  # cashback clawed back
        assert await deliver(tg, bot) == 2  # Bob hears of the refund, Ann of the cashback taken back
        assert bob.last.text.startswith("↩️ Payment refunded: ⭐ 50. 100 tokens were removed from your balance.")
        count = len(bob.messages)
        payment = tg.payments[paid.charge_id]
        refund_msg = [m for m in bob.history if m.is_service and isinstance(m.action, types.MessageActionPaymentRefunded)]
        tg.deliver_service(bob.record, refund_msg[-1].raw, times=5)
        await tg.settle()
        assert await deliver(tg, bot) == 0
        assert len(bob.messages) == count and balance_of(bob) == (50, 0, 0)
        assert Payment.get(Payment.charge_id == payment.charge_id).refunded_by == "telegram"

    scenario(database, body)
    assert_ledger_clean()


def test_spent_tokens_refund_needs_force_leaves_debt_that_blocks_generation(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        paid = await ann.pay(await buy(ann))  # 50 + 100
        ledger.hold(users.get(ann.id).id, 120, "job-spent")
        ledger.settle("job-spent")
        assert balance_of(ann) == (30, 0, 0)
        stars = TelethonStars(bot.client, asyncio.get_running_loop())
        try:
            await asyncio.to_thread(payments.refund, paid.charge_id, actor=SUPPORT, reason="r", telegram=stars)
        except RefundBlocked as exc:
            assert "has 30 tokens available but this refund takes back 100" in exc.msg
        else:
            raise AssertionError("refund of spent tokens must need force")
        assert not tg.refunds and balance_of(ann) == (30, 0, 0)
        done = await asyncio.to_thread(payments.refund, paid.charge_id, actor=ADMIN, reason="chargeback",
                                       telegram=stars, force=True)
        assert done.debt == 70 and balance_of(ann) == (0, 0, 70)
        await deliver(tg, bot)
        assert "70 tokens of them were already spent" in ann.last.text
        await ann.press("Balance")
        assert "⚠️ Debt: 70 tokens" in ann.panel.text
        await ann.send("/profile")
        assert "⚠️ Debt: 70 tokens" in ann.panel.text  # the profile says it too
        try:
            jobs.submit(users.get(ann.id).id, "gpt-image", "a cat")
        except InDebt as exc:
            assert exc.debt == 70
        else:
            raise AssertionError("a user in debt must not generate")
        ledger.adjust(users.get(ann.id).id, 20, reason="goodwill", actor=ADMIN)  # tokens, but still in debt
        await ann.press("Menu")
        await ann.press("Generate")
        await ann.press("GPT Image")
        await ann.send("a cat")
        await ann.press("Skip")
        await ann.press("Next")
        await ann.press("Generate")
        assert "A refunded payment left a debt on your balance" in ann.panel.text
        # the next top-up repays the debt first
        await ann.press("Cancel")
        await ann.pay(await buy(ann, "⭐ 100 →"))
        assert balance_of(ann) == (160, 0, 0)  # 20 + 210 − 70
        assert "↩️ 70 tokens of it repaid your debt." in ann.panel.text

    scenario(database, body)
    assert_ledger_clean()


def test_payments_screens_and_paysupport(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/paysupport")
        assert "@BananaPicsSupport" in ann.panel.text and "recent payments" not in ann.panel.text
        await ann.press("Payments")
        assert "No payments yet." in ann.panel.text
        await ann.press("Menu")
        charges = []
        for _ in range(8):
            charges.append((await ann.pay(await buy(ann))).charge_id)
        await ann.refund_externally(charges[0])
        await deliver(tg, bot)
        await ann.send("/paysupport")
        text = ann.panel.text
        assert "Your recent payments:" in text and text.count("⭐ 50 → 100 tokens · paid") == 5
        await ann.press("Payments")
        assert ann.panel.text.startswith("🧾 Your payments · page 1/2")
        assert len([b for b in ann.buttons() if "⭐ 50" in b]) == 6
        await ann.press("▶")
        assert "page 2/2" in ann.panel.text
        await ann.press("refunded")
        assert "Status: refunded" in ann.panel.text and charges[0] in ann.panel.text
        # someone else's payment id in forged button data is just an outdated button
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        answer = await bob.press_data(f"bal:pay:{Payment.get(Payment.charge_id == charges[1]).id}".encode(),
                                      message=bob.panel)
        assert answer.message == "This button is outdated."
        await ann.send("/balance")
        assert ann.panel.text.startswith("💰 Balance: 750 tokens")

    scenario(database, body)
    assert_ledger_clean()


def test_withdrawn_package_gets_no_invoice(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Balance")
        await ann.press("Top up")
        Package.update(active=False).where(Package.stars == 50).execute()
        await ann.press("⭐ 50 →")  # the list on screen is older than the change
        assert ann.panel.text.startswith("This package is no longer on sale")
        assert "⭐ 50 → 100 tokens" not in ann.buttons() and not tg.invoices
        Package.update(active=False).execute()
        await ann.press("Back")
        await ann.press("Top up")
        assert "No packages are available right now" in ann.panel.text
        assert InvoiceIntent.select().count() == 0

    scenario(database, body)
