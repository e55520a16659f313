"""Balance, top-up with Telegram Stars, payments and /paysupport (SCREENS.md "Balance and top-up").

* ``bal:*`` buttons: balance → packages → an XTR invoice (``SendMediaRequest`` with
  ``InputMediaInvoice``, one price) → Telegram's pay sheet; the payments list and one payment.
* ``UpdateBotPrecheckoutQuery`` is answered at once from the database (Telegram cancels after 10 s).
* ``MessageActionPaymentSentMe`` credits the charge once (a replay sends nothing) and thanks the
  payer; the referrer gets a one-line cashback notice. ``MessageActionPaymentRefunded`` reverses
  the charge once.
* Outbox rows the payment services write (a refund from any process, its cashback taken back from
  the referrer, a charge credited by reconcile) are sent by the delivery loop through :func:`send_notice`, once each.
* ``/balance`` and ``/paysupport``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from telethon import Button, errors, events, functions, types

from bananapics import i18n
from bananapics.bot import delivery, viewer
from bananapics.bot.callbacks import StaleButton
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, error_text, menu_row, noted, pager
from bananapics.errors import BananaError, FeatureOff, NotFound
from bananapics.models import Payment
from bananapics.services import invoices, payments, settings, toggles, users

log = logging.getLogger(__name__)

PAGE_SIZE = 6
PAYSUPPORT_RECENT = 5
PRECHECKOUT_KEYS = {
    "unknown": "precheckout-invalid", "foreign": "precheckout-invalid", "package_gone": "precheckout-invalid",
    "expired": "precheckout-expired", "paid": "precheckout-paid", "mismatch": "precheckout-mismatch",
    "banned": "precheckout-banned",
}


# ---------------------------------------------------------------- screens (run in a thread)

def balance(user_id: int) -> Screen:
    user = viewer.user(user_id)
    lang = user.language
    key = "balance-title-held" if user.held else "balance-title"
    lines = [i18n.t(lang, key, balance=user.available, held=user.held)]
    if user.debt:
        lines.append(i18n.t(lang, "balance-debt", debt=user.debt))
    return Screen("\n".join(lines), [
        [button(lang, "btn-topup", "bal", "topup"), button(lang, "btn-payments", "bal", "pays", 0)],
        menu_row(lang),
    ])


def packages(user_id: int, note: str | None = None) -> Screen:
    """The packages to buy; while an admin has top-ups switched off, a line saying they are paused."""
    lang = viewer.lang(user_id)
    rows = []
    if not toggles.is_on("topups"):
        return Screen(noted(note, i18n.t(lang, "topup-off")), [[button(lang, "btn-back", "bal", "open")] + menu_row(lang)])
    for package in invoices.packages():
        total = package.tokens + package.bonus_tokens
        if package.bonus_pct:
            rows.append([button(lang, "btn-package-bonus", "bal", "pkg", package.id, stars=package.stars,
                              tokens=total, bonus=package.bonus_pct)])
        else:
            rows.append([button(lang, "btn-package", "bal", "pkg", package.id, stars=package.stars, tokens=total)])
    text = "\n".join([i18n.t(lang, "topup-title"), i18n.t(lang, "topup-terms")] if rows else [i18n.t(lang, "topup-none")])
    if note:
        text = f"{note}\n\n{text}"
    return Screen(text, rows + [[button(lang, "btn-back", "bal", "open")] + menu_row(lang)])


def _status(lang: str, payment: Payment) -> str:
    return i18n.t(lang, f"payment-status-{payment.status}")


def payments_list(user_id: int, page: int) -> Screen:
    lang = viewer.lang(user_id)
    total = payments.count_for_user(user_id)
    pages = max(1, -(-total // PAGE_SIZE))
    if page >= pages:
        raise StaleButton(f"payments page {page} of {pages}")
    rows = [[button(lang, "btn-payment", "bal", "pay", p.id, date=p.created_at.date(), stars=p.stars,
                  status=_status(lang, p))]
            for p in payments.for_user(user_id, limit=PAGE_SIZE, offset=page * PAGE_SIZE)]
    rows += pager(lang, "bal", "pays", page, pages)  # the title says "page X/Y"
    title = i18n.t(lang, "payments-title-page", page=page + 1, pages=pages) if pages > 1 else i18n.t(lang, "payments-title")
    body = [title, "", i18n.t(lang, "payments-empty") if not total else i18n.t(lang, "payments-refund-howto")]
    return Screen("\n".join(body), rows + [[button(lang, "btn-back", "bal", "open")] + menu_row(lang)])


def payment_detail(user_id: int, payment_id: int) -> Screen:
    lang = viewer.lang(user_id)
    try:
        p = payments.get_for_user(user_id, payment_id)
    except NotFound:
        raise StaleButton(f"payment {payment_id} is not the presser's") from None
    lines = [i18n.t(lang, "payment-title", date=p.created_at.date()), "",
             i18n.t(lang, "payment-detail-stars", stars=p.stars, tokens=p.tokens + p.bonus_tokens)]
    if p.bonus_tokens:
        lines.append(i18n.t(lang, "payment-detail-bonus", bonus=p.bonus_tokens))
    lines.append(i18n.t(lang, "payment-detail-status", status=_status(lang, p)))
    if p.refund_debt:
        lines.append(i18n.t(lang, "payment-detail-debt", debt=p.refund_debt))
    lines += [i18n.t(lang, "payment-detail-charge", charge=p.charge_id), "", i18n.t(lang, "payments-refund-howto")]
    return Screen("\n".join(lines), [[button(lang, "btn-back", "bal", "pays", 0)] + menu_row(lang)])


def paysupport(user_id: int, contact: str) -> Screen:
    lang = viewer.lang(user_id)
    lines = [i18n.t(lang, "paysupport-text", contact=contact)]
    recent = payments.for_user(user_id, limit=PAYSUPPORT_RECENT)
    if recent:
        lines += ["", i18n.t(lang, "paysupport-recent")]
        lines += [i18n.t(lang, "payments-item", date=p.created_at.date(), stars=p.stars,
                         tokens=p.tokens + p.bonus_tokens, status=_status(lang, p)) for p in recent]
        lines += ["", i18n.t(lang, "paysupport-charge-hint")]
    return Screen("\n".join(lines), [[button(lang, "btn-payments", "bal", "pays", 0)], menu_row(lang)])


def thanks(user_id: int, credit: payments.Credit) -> Screen:
    user = users.get_by_id(user_id)
    lang = user.language
    lines = [i18n.t(lang, "topup-thanks", tokens=credit.tokens + credit.bonus, balance=user.available)]
    if credit.bonus:
        lines.append(i18n.t(lang, "topup-thanks-bonus", bonus=credit.bonus))
    if credit.repaid:
        lines.append(i18n.t(lang, "topup-debt-repaid", repaid=credit.repaid))
    if user.debt:
        lines.append(i18n.t(lang, "balance-debt", debt=user.debt))
    return Screen("\n".join(lines), [[button(lang, "btn-generate", "gen", "new")], menu_row(lang)])


def refunded_text(lang: str, data: dict, balance_now: int) -> str:
    lines = [i18n.t(lang, "payment-refunded", stars=data["stars"], tokens=data["tokens"], balance=balance_now)]
    if data.get("debt"):
        lines.append(i18n.t(lang, "payment-refunded-debt", debt=data["debt"]))
    return "\n".join(lines)


def cashback_reversed_text(lang: str, data: dict, balance_now: int) -> str:
    """To the referrer: a friend's top-up was refunded, so its cashback was taken back (the part they
    had spent is now their debt)."""
    lines = [i18n.t(lang, "ref-cashback-reversed", tokens=data["tokens"], balance=balance_now)]
    if data.get("debt"):
        lines.append(i18n.t(lang, "payment-refunded-debt", debt=data["debt"]))
    return "\n".join(lines)


# ---------------------------------------------------------------- Telegram side

def invoice_media(intent, lang: str) -> types.InputMediaInvoice:
    """An XTR invoice with exactly one price; title ≤ 32 and description ≤ 255 characters."""
    total = intent.tokens + intent.bonus_tokens
    return types.InputMediaInvoice(
        title=i18n.t(lang, "invoice-title", tokens=total)[:32],
        description=i18n.t(lang, "invoice-description", tokens=total)[:255],
        invoice=types.Invoice(currency=invoices.CURRENCY,
                              prices=[types.LabeledPrice(label=i18n.t(lang, "invoice-label", tokens=total)[:32],
                                                         amount=intent.stars)]),
        payload=intent.payload.encode("ascii"),
        provider_data=types.DataJSON(data="{}"),
    )


class _Seen:
    """Charge ids already answered in this process (bounded), for the rare paths without a row."""

    def __init__(self, size: int = 4096) -> None:
        self.size, self.items = size, OrderedDict()

    def add(self, key: str) -> bool:
        if key in self.items:
            return False
        self.items[key] = None
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return True


async def send_invoice(press: Press) -> Answer:
    """``bal:pkg``: an XTR invoice for the package, sent as its own message; the panel says so."""
    user_id, package_id, chat_id, client = press.user_id, press.args[0], press.chat_id, press.bot.client
    lang = await asyncio.to_thread(viewer.lang, user_id)
    try:
        intent = await asyncio.to_thread(invoices.create_intent, user_id, package_id)
    except FeatureOff:  # switched off since the packages were shown: the screen says top-ups are paused
        return await asyncio.to_thread(packages, user_id), None
    except BananaError as exc:
        return await asyncio.to_thread(packages, user_id, error_text(lang, exc)), None
    try:  # paced like every message to the chat; a FloodWait pauses sending (logged once)
        pay = client.build_reply_markup(Button.buy(i18n.t(lang, "btn-pay", stars=intent.stars)))
        async with press.bot.sender.send(chat_id):
            await client(functions.messages.SendMediaRequest(peer=chat_id, media=invoice_media(intent, lang),
                                                             message="", reply_markup=pay))
    except (errors.FloodWaitError, errors.SlowModeWaitError) as exc:  # the intent just expires unused
        press.bot.flooded(chat_id, exc, "invoice not sent")
        return await asyncio.to_thread(packages, user_id, i18n.t(lang, "error-generic")), None
    except errors.RPCError as exc:  # a Telegram hiccup: the intent just expires unused
        log.warning("invoice for %s not sent: %s", user_id, exc)
        return await asyncio.to_thread(packages, user_id, i18n.t(lang, "error-generic")), None
    minutes = int(await asyncio.to_thread(settings.get, "payments.invoice_ttl_minutes"))
    text = i18n.t(lang, "invoice-sent", stars=intent.stars, tokens=intent.tokens + intent.bonus_tokens,
                  minutes=minutes)
    return Screen(text, [[button(lang, "btn-packages", "bal", "topup")] + menu_row(lang)]), None


ACTIONS = {
    ("bal", "open"): lambda press: (balance(press.user_id), None),
    ("bal", "topup"): lambda press: (packages(press.user_id), None),
    ("bal", "pays"): lambda press: (payments_list(press.user_id, press.args[0]), None),
    ("bal", "pay"): lambda press: (payment_detail(press.user_id, press.args[0]), None),
    ("bal", "pkg"): send_invoice,
}


def register(bot) -> None:
    client, config = bot.client, bot.config
    contact = config.telegram.support_contact
    unmatched = _Seen()

    bot.add_actions(ACTIONS)

    @client.on(events.NewMessage(pattern=r"^/(balance|paysupport)(?:@\w+)?\s*$"))
    async def on_command(event: Any) -> None:
        if event.pattern_match.group(1) == "balance":
            await bot.reply(event, lambda user: balance(user.id))
        else:
            await bot.reply(event, lambda user: paysupport(user.id, contact), essential=True)

    @client.on(events.Raw(types.UpdateBotPrecheckoutQuery))
    async def on_precheckout(update: types.UpdateBotPrecheckoutQuery) -> None:
        try:
            verdict = await asyncio.to_thread(invoices.precheckout, update.user_id, update.payload, update.currency,
                                              update.total_amount, default_language=config.users.default_language)
        except Exception:  # noqa: BLE001 - cannot verify: refuse rather than take money blindly
            log.exception("pre-checkout %s of %s", update.query_id, update.user_id)
            verdict = invoices.Verdict("unknown", config.users.default_language)
        if verdict.ok:
            request = functions.messages.SetBotPrecheckoutResultsRequest(query_id=update.query_id, success=True)
        else:
            log.info("pre-checkout refused for %s: %s", update.user_id, verdict.reason)
            request = functions.messages.SetBotPrecheckoutResultsRequest(
                query_id=update.query_id, error=i18n.t(verdict.language, PRECHECKOUT_KEYS[verdict.reason]))
        try:
            await client(request)
        except errors.RPCError as exc:  # too late (10 s) or answered already: Telegram cancelled it
            log.warning("pre-checkout %s not answered: %s", update.query_id, exc)

    def payment_action(update: Any) -> bool:
        message = getattr(update, "message", None)
        return isinstance(message, types.MessageService) and isinstance(
            message.action, (types.MessageActionPaymentSentMe, types.MessageActionPaymentRefunded))

    @client.on(events.Raw(types.UpdateNewMessage, func=payment_action))
    async def on_payment_message(update: types.UpdateNewMessage) -> None:
        message = update.message
        if isinstance(message.action, types.MessageActionPaymentSentMe):
            await paid(message.peer_id.user_id, message.action)
        else:
            await refund_seen(message.action)

    async def paid(tg_id: int, action: types.MessageActionPaymentSentMe) -> None:
        charge = action.charge
        try:
            credit = await asyncio.to_thread(
                payments.credit_charge, tg_id, action.payload, charge.id, currency=action.currency,
                amount=action.total_amount, provider_charge_id=charge.provider_charge_id or "")
        except BananaError as exc:  # no matching invoice, or a charge we cannot record: support sorts it out
            log.error("payment %s of %s not credited: %s", charge.id, tg_id, exc)
            if unmatched.add(charge.id):
                try:
                    lang = (await asyncio.to_thread(users.get, tg_id)).language
                except NotFound:
                    lang = config.users.default_language
                await tell(tg_id, bot.say(tg_id, i18n.t(lang, "payment-unmatched",
                                                        stars=action.total_amount, charge=charge.id)))
            return
        if credit.replayed:
            return
        user = await asyncio.to_thread(users.get_by_id, credit.user_id)
        # The tokens are credited whatever happens to the thank-you (the payer blocked the bot, a
        # flood wait…); the referrer's notice must not depend on it either.
        await tell(tg_id, bot.show(user, tg_id, await asyncio.to_thread(thanks, credit.user_id, credit)))
        if credit.cashback and credit.referrer_id is not None:
            await notify_referrer(credit)

    async def tell(tg_id: int, sending) -> None:
        try:
            await sending
        except errors.UserIsBlockedError:
            log.info("payment message to %s not sent: the user blocked the bot", tg_id)
            await asyncio.to_thread(users.set_blocked_bot, tg_id, True)
        except errors.RPCError as exc:
            log.warning("payment message to %s not sent: %s", tg_id, exc)

    async def notify_referrer(credit: payments.Credit) -> None:
        referrer = await asyncio.to_thread(users.get_by_id, credit.referrer_id)
        if referrer.blocked_bot:
            return
        try:
            await bot.say(referrer.tg_id, i18n.t(referrer.language, "ref-cashback", tokens=credit.cashback))
        except errors.RPCError as exc:  # blocked the bot, never started it…: the tokens are there anyway
            log.info("cashback notice to %s not sent: %s", referrer.tg_id, exc)

    async def refund_seen(action: types.MessageActionPaymentRefunded) -> None:
        """The payer is told through the outbox, which the reversal filled in the same transaction."""
        try:
            await asyncio.to_thread(payments.refunded_by_telegram, action.charge.id)
        except NotFound:
            log.error("Telegram refunded charge %s, which was never credited here", action.charge.id)

    delivery.PARTS[payments.NOTICE_REFUNDED] = notice_parts
    delivery.PARTS[payments.NOTICE_CREDITED] = notice_parts
    delivery.PARTS[payments.NOTICE_CASHBACK_REVERSED] = notice_parts


def notice_parts(row, user) -> list[delivery.Part]:
    """An outbox row of the payment services: a refund notice or a late thank-you (reconcile).
    Runs in the delivery loop's thread."""
    data = row.data
    lang = user.language
    if row.kind in (payments.NOTICE_REFUNDED, payments.NOTICE_CASHBACK_REVERSED):
        balance_now = users.get_by_id(user.id).available
        text = (refunded_text(lang, data, balance_now) if row.kind == payments.NOTICE_REFUNDED
                else cashback_reversed_text(lang, data, balance_now))
        buttons = [[button(lang, "btn-balance", "bal", "open")], menu_row(lang)]
    else:
        credit = payments.Credit(0, data["charge_id"], user.id, data["tokens"], data.get("bonus", 0), 0, None, False,
                                 data.get("repaid", 0))
        screen = thanks(user.id, credit)
        text, buttons = screen.text, screen.buttons
    return [delivery.Part(text, buttons=buttons)]
