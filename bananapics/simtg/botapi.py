"""The simulated Telegram's Bot API face: an ``httpx`` transport answering ``/bot<token>/<method>``.

Processes that hold no MTProto session (an operator CLI, a worker) talk to Telegram through the
Bot API with the bot token; this lets them talk to the same :class:`FakeTelegram` the bot's
``SimClient`` uses, so a refund made over HTTP is seen by the bot as the real Telegram would show
it (a ``MessageActionPaymentRefunded`` service message pushed to the bot's sessions).

Methods: ``getMe``, ``refundStarPayment`` (``user_id``, ``telegram_payment_charge_id``) and
``getStarTransactions`` (``offset``, ``limit`` 1-100, chronological order; a payment is an incoming
``StarTransaction`` with ``source``, its refund an outgoing one with ``receiver``, both a
``TransactionPartnerUser`` carrying ``invoice_payload``, the refund keeping the payment's id).
Answers are Bot API JSON: ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": 400,
"description": "Bad Request: CHARGE_ALREADY_REFUNDED"}``; a wrong token is 401 ``Unauthorized``,
an unknown method 404 ``Not Found``. Error names follow the MTProto ones the simulator already
uses (``CHARGE_ID_INVALID``, ``USER_ID_INVALID`` are best guesses for the Bot API wording).

Mutations run on the event loop of a connected bot session when there is one (the transport may
be called from another thread), inline otherwise.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

import httpx

from .errors import TgError
from .records import PaymentRecord
from .server import FakeTelegram


def transport(telegram: FakeTelegram) -> httpx.MockTransport:
    """An httpx transport serving the Bot API of ``telegram``'s bot."""

    def handle(request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return _error(404, "Not Found")
        token, method = parts[0][3:], parts[1]
        if token != telegram.bot_token:
            return _error(401, "Unauthorized")
        params = _params(request)
        answer = _METHODS.get(method)
        if answer is None:
            return _error(404, "Not Found")
        try:
            result = _on_loop(telegram, lambda: answer(telegram, params))
        except TgError as exc:
            return _error(exc.code, f"Bad Request: {exc.message}" if exc.code == 400 else exc.message)
        except (KeyError, TypeError, ValueError) as exc:
            return _error(400, f"Bad Request: {exc}")
        return httpx.Response(200, json={"ok": True, "result": result})

    return httpx.MockTransport(handle)


def _error(code: int, description: str) -> httpx.Response:
    return httpx.Response(code, json={"ok": False, "error_code": code, "description": description})


def _params(request: httpx.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.url.params)
    body = request.content or b""
    if body:
        if request.headers.get("content-type", "").startswith("application/json"):
            params.update(json.loads(body))
        else:
            params.update(parse_qsl(body.decode()))
    return params


def _on_loop(telegram: FakeTelegram, fn):
    loops = {s._loop for s in list(telegram._senders) if s.is_connected() and s._loop is not None}
    loop = next(iter(loops), None)
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is None or loop is running or not loop.is_running():
        return fn()

    async def run():
        return fn()

    return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=30)


def _user_json(telegram: FakeTelegram, user_id: int) -> dict:
    user = telegram.users.get(user_id)
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": user.first_name if user else ""}
    if user and user.username:
        out["username"] = user.username
    if user and user.lang_code:
        out["language_code"] = user.lang_code
    return out


def _get_me(telegram: FakeTelegram, params: dict) -> dict:
    bot = telegram.bot
    return {"id": bot.id, "is_bot": True, "first_name": bot.first_name, "username": bot.username}


def _refund(telegram: FakeTelegram, params: dict) -> bool:
    user_id = int(params["user_id"])
    if user_id not in telegram.users:
        raise TgError(400, "USER_ID_INVALID")
    payment = telegram.payments.get(str(params.get("telegram_payment_charge_id") or ""))
    if payment is None or payment.user_id != user_id:
        raise TgError(400, "CHARGE_ID_INVALID")
    if payment.refunded:
        raise TgError(400, "CHARGE_ALREADY_REFUNDED")
    update = telegram._refund(payment, by="bot")
    telegram._push([update], [telegram.users[user_id]])  # the bot's sessions see the refund message
    return True


def _partner(telegram: FakeTelegram, p: PaymentRecord) -> dict:
    return {"type": "user", "transaction_type": "invoice_payment", "user": _user_json(telegram, p.user_id),
            "invoice_payload": p.payload.decode("utf-8", "replace")}


def _transactions(telegram: FakeTelegram, params: dict) -> dict:
    offset = int(params.get("offset") or 0)
    limit = int(params.get("limit") or 100)
    if offset < 0 or not 1 <= limit <= 100:
        raise TgError(400, "LIMIT_INVALID")
    rows = []
    for p in telegram.payments.values():
        rows.append(((p.date, p.seq), {"id": p.charge_id, "amount": p.amount, "date": int(p.date),
                                       "source": _partner(telegram, p)}))
        if p.refunded:
            rows.append(((p.refunded_at, p.refund_seq), {"id": p.charge_id, "amount": p.amount,
                                                         "date": int(p.refunded_at),
                                                         "receiver": _partner(telegram, p)}))
    rows.sort(key=lambda row: row[0])
    return {"transactions": [tx for _, tx in rows[offset:offset + limit]]}


_METHODS = {"getMe": _get_me, "refundStarPayment": _refund, "getStarTransactions": _transactions}
