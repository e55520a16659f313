"""Payments in Telegram Stars: invoices, pre-checkout queries, charges, refunds and the bot's
Stars balance and transactions."""

from __future__ import annotations

import datetime
from typing import Any, Optional

from telethon.tl import types

from .errors import TgError
from .records import InvoiceRecord, PaymentRecord, PrecheckoutRecord, RefundRecord, UserRecord

_UTC = datetime.timezone.utc


class PaymentsMixin:
    """Invoices, pre-checkout queries, charges, refunds and the bot's Stars."""

    # ---------------------------------------------------------------- payments (Telegram Stars)

    def _check_invoice(self, media: types.InputMediaInvoice) -> tuple[str, int]:
        invoice = media.invoice
        if invoice.currency != "XTR":
            # Fiat needs a payment provider token, which the simulator has none of.
            raise TgError(400, "PAYMENT_PROVIDER_INVALID")
        if media.provider:
            raise TgError(400, "PAYMENT_PROVIDER_INVALID")
        if len(invoice.prices) != 1 or invoice.prices[0].amount <= 0:
            raise TgError(400, "CURRENCY_TOTAL_AMOUNT_INVALID")
        if not 1 <= len(media.title) <= 32:
            raise TgError(400, "INVOICE_TITLE_INVALID")
        if not 1 <= len(media.description) <= 255:
            raise TgError(400, "INVOICE_DESCRIPTION_INVALID")
        if not 1 <= len(media.payload) <= 128:
            raise TgError(400, "INVOICE_PAYLOAD_INVALID")
        return invoice.currency, invoice.prices[0].amount

    def _send_invoice(self, user: UserRecord, r) -> types.Updates:
        media = r.media
        currency, amount = self._check_invoice(media)
        markup = self._check_markup(r.reply_markup, invoice=True)
        self._check_random_ids(user, [r.random_id])
        self._take_flood(user, 1)
        msg = self._out_message(
            user, message="", reply_markup=markup, reply_to=r.reply_to,
            media=types.MessageMediaInvoice(
                title=media.title, description=media.description, currency=currency, total_amount=amount,
                start_param=media.start_param or "",
            ),
        )
        self.invoices.append(InvoiceRecord(
            msg_id=msg.id, user_id=user.id, title=media.title, description=media.description,
            currency=currency, amount=amount, payload=media.payload, start_param=media.start_param,
        ))
        return self._sent(user, [(r.random_id, msg)])

    def _rq_ExportInvoiceRequest(self, sender, r):
        media = r.invoice_media
        if not isinstance(media, types.InputMediaInvoice):
            raise TgError(400, "MEDIA_INVALID")
        currency, amount = self._check_invoice(media)
        slug = f"sim{self._rnd.getrandbits(48):012x}"
        self.invoices.append(InvoiceRecord(
            msg_id=None, user_id=None, title=media.title, description=media.description, currency=currency,
            amount=amount, payload=media.payload, start_param=media.start_param, slug=slug,
        ))
        return types.payments.ExportedInvoice(url=f"https://t.me/${slug}")

    def _rq_SetBotPrecheckoutResultsRequest(self, sender, r):
        query = self.precheckouts.get(r.query_id)
        if (query is None or query.answered or query.expired
                or self.now() - query.created > self.limits.precheckout_ttl):
            raise TgError(400, "QUERY_ID_INVALID")
        if not r.success and not r.error:
            raise TgError(400, "ERROR_TEXT_EMPTY")
        query.answered, query.ok, query.error, query.answered_at = True, bool(r.success), r.error, self.now()
        return True

    def _rq_RefundStarsChargeRequest(self, sender, r):
        user = self._input_user(r.user_id, error="USER_ID_INVALID")
        payment = self.payments.get(r.charge_id)
        if payment is None or payment.user_id != user.id:
            raise TgError(400, "CHARGE_ID_INVALID")
        if payment.refunded:
            raise TgError(400, "CHARGE_ALREADY_REFUNDED")
        update = self._refund(payment, by="bot")
        return types.Updates(updates=[update], users=[user.tl()], chats=[], date=self._date(), seq=0)

    def _refund(self, payment: PaymentRecord, *, by: str) -> Any:
        user = self.users[payment.user_id]
        payment.refunded, payment.refunded_by, payment.refunded_at = True, by, self.now()
        payment.refund_seq = next(self._seq)
        self.refunds.append(RefundRecord(payment.charge_id, user.id, payment.amount, by, self.now()))
        action = types.MessageActionPaymentRefunded(
            peer=user.peer, currency=payment.currency, total_amount=payment.amount,
            charge=types.PaymentCharge(id=payment.charge_id, provider_charge_id=""), payload=payment.payload,
        )
        if by == "bot":
            msg = types.MessageService(
                id=self._next_msg_id(), peer_id=user.peer, from_id=types.PeerUser(self.bot.id),
                date=self._date(), out=True, action=action,
            )
        else:
            msg = types.MessageService(
                id=self._next_msg_id(), peer_id=user.peer, from_id=user.peer, date=self._date(), action=action,
            )
        return self._store(user, msg, outgoing=(by == "bot"))

    def stars_balance(self) -> int:
        return sum(p.amount for p in self.payments.values() if not p.refunded)

    def _transactions(self) -> list[types.StarsTransaction]:
        rows = []
        for p in self.payments.values():
            peer = types.StarsTransactionPeer(peer=types.PeerUser(p.user_id))
            rows.append(((p.date, p.seq), types.StarsTransaction(
                id=p.charge_id, amount=types.StarsAmount(amount=p.amount, nanos=0),
                date=datetime.datetime.fromtimestamp(int(p.date), tz=_UTC), peer=peer,
                title=p.invoice.title, description=p.invoice.description, bot_payload=p.payload,
                msg_id=p.msg_id,
            )))
            if p.refunded:
                rows.append(((p.refunded_at, p.refund_seq), types.StarsTransaction(
                    id=p.charge_id, refund=True, amount=types.StarsAmount(amount=-p.amount, nanos=0),
                    date=datetime.datetime.fromtimestamp(int(p.refunded_at), tz=_UTC), peer=peer,
                    bot_payload=p.payload,
                )))
        rows.sort(key=lambda row: row[0], reverse=True)
        return [t for _, t in rows]

    def _stars_status(self, history: list, next_offset: Optional[str]) -> types.payments.StarsStatus:
        users = {t.peer.peer.user_id for t in history}
        return types.payments.StarsStatus(
            balance=types.StarsAmount(amount=self.stars_balance(), nanos=0), chats=[],
            users=[self.users[u].tl() for u in users if u in self.users], history=history,
            next_offset=next_offset,
        )

    def _rq_GetStarsStatusRequest(self, sender, r):
        if not isinstance(r.peer, types.InputPeerSelf):
            raise TgError(400, "PEER_ID_INVALID")
        history = self._transactions()
        return self._stars_status(history[:20], "20" if len(history) > 20 else None)

    def _rq_GetStarsTransactionsRequest(self, sender, r):
        if not isinstance(r.peer, types.InputPeerSelf):
            raise TgError(400, "PEER_ID_INVALID")
        rows = self._transactions()
        if r.inbound:
            rows = [t for t in rows if t.amount.amount > 0]
        if r.outbound:
            rows = [t for t in rows if t.amount.amount < 0]
        if r.ascending:
            rows.reverse()
        try:
            start = int(r.offset or 0)
        except ValueError:
            raise TgError(400, "OFFSET_INVALID") from None
        limit = max(1, min(r.limit or 100, 100))
        page = rows[start:start + limit]
        nxt = str(start + limit) if start + limit < len(rows) else None
        return self._stars_status(page, nxt)

    # ---------------------------------------------------------------- user-side

    def user_precheckout(self, user: UserRecord, invoice: InvoiceRecord) -> PrecheckoutRecord:
        query = PrecheckoutRecord(
            query_id=self._rand63(), user_id=user.id, payload=invoice.payload, currency=invoice.currency,
            amount=invoice.amount, created=self.now(),
        )
        self.precheckouts[query.query_id] = query
        self._push([types.UpdateBotPrecheckoutQuery(
            query_id=query.query_id, user_id=user.id, payload=invoice.payload, currency=invoice.currency,
            total_amount=invoice.amount,
        )], [user])
        return query

    def user_payment_succeeds(self, user: UserRecord, invoice: InvoiceRecord) -> tuple[PaymentRecord, Any]:
        """Telegram charged the user: create the ``MessageActionPaymentSentMe`` service message."""
        charge_id = f"stxsim{self._rnd.getrandbits(96):024x}"
        msg = types.MessageService(
            id=self._next_msg_id(), peer_id=user.peer, from_id=user.peer, date=self._date(),
            reply_to=types.MessageReplyHeader(reply_to_msg_id=invoice.msg_id) if invoice.msg_id else None,
            action=types.MessageActionPaymentSentMe(
                currency=invoice.currency, total_amount=invoice.amount, payload=invoice.payload,
                charge=types.PaymentCharge(id=charge_id, provider_charge_id=""),
            ),
        )
        payment = PaymentRecord(
            charge_id=charge_id, user_id=user.id, currency=invoice.currency, amount=invoice.amount,
            payload=invoice.payload, date=self.now(), invoice=invoice, msg_id=msg.id, seq=next(self._seq),
        )
        self.payments[charge_id] = payment
        invoice.charge_ids.append(charge_id)
        return payment, msg

    def deliver_service(self, user: UserRecord, msg: Any, *, times: int = 1, together: bool = False) -> None:
        """Deliver a stored-or-new service message ``times`` times (each with a fresh pts).

        The first delivery stores it in the chat; replays model Telegram (or a restarted bot)
        handing the same update over again. ``together`` puts all copies in one ``Updates``
        container, so Telethon dispatches them concurrently.
        """
        updates = []
        for i in range(times):
            if i == 0 and msg.id not in self._msg_index:
                updates.append(self._store(user, msg, outgoing=False))
            else:
                updates.append(self._log_pts(types.UpdateNewMessage(message=msg, pts=0, pts_count=1)))
            if not together:
                self._push(updates, [user])
                updates = []
        if updates:
            self._push(updates, [user])

    def user_refund_external(self, charge_id: str) -> None:
        payment = self.payments.get(charge_id)
        if payment is None:
            raise KeyError(f"unknown charge id {charge_id!r}")
        if payment.refunded:
            raise ValueError(f"charge {charge_id!r} is already refunded")
        update = self._refund(payment, by="external")
        self._push([update], [self.users[payment.user_id]])
