"""A small Telegram Bot API client for the processes that hold no Telegram session.

The bot process owns the MTProto session; the CLI (``payments refund``/``reconcile``) and the
workers' periodic reconcile reach Telegram over HTTPS with the same bot token instead:
``refundStarPayment`` and ``getStarTransactions`` (Bot API names of ``payments.refundStarsCharge``
and ``payments.getStarsTransactions``). Implements :class:`bananapics.services.stars.StarsApi`.

The token is part of every URL, so no error message here ever includes a URL or the token.
Tests pass ``transport=`` (``bananapics.simtg.botapi.transport(telegram)``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import httpx

from bananapics.config import Config
from bananapics.errors import ChargeAlreadyRefunded, ConfigError, TelegramError
from bananapics.services.stars import StarsTx

PAGE = 100  # getStarTransactions returns at most 100 per call


class HideToken(logging.Filter):
    """httpx logs every request's URL at INFO (``HTTP Request: POST …/bot<token>/method``): mask the
    token at the source, whatever logging the process set up (a worker or script without
    :func:`bananapics.logs.setup_logging`, a debugging ``basicConfig(level=INFO)``)."""

    PATTERN = re.compile(r"/bot[^/\s]+/")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = self.PATTERN.sub("/bot********/", message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, HideToken) for f in _logger.filters):
        _logger.addFilter(HideToken())


class BotApi:
    def __init__(self, token: str, base_url: str = "https://api.telegram.org", *,
                 transport: httpx.BaseTransport | None = None, timeout_s: float = 20.0) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}/"
        self._http = httpx.Client(transport=transport, timeout=timeout_s, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "BotApi":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, **params: Any) -> Any:
        """One Bot API method; its ``result``, or TelegramError with Telegram's reason."""
        try:
            response = self._http.post(self._url + method, json=params)
        except httpx.HTTPError as exc:
            raise TelegramError(f"Telegram Bot API unreachable ({type(exc).__name__})", "NETWORK") from None
        try:
            body = response.json()
        except ValueError:
            raise TelegramError(f"Telegram Bot API answered HTTP {response.status_code} without JSON",
                                f"HTTP_{response.status_code}") from None
        if body.get("ok"):
            return body.get("result")
        description = str(body.get("description") or f"HTTP {response.status_code}")
        error = description.split(":", 1)[-1].strip() if ":" in description else description
        if response.status_code == 401:
            raise TelegramError("Telegram rejected the bot token (401 Unauthorized)", "UNAUTHORIZED")
        if error == "CHARGE_ALREADY_REFUNDED":
            raise ChargeAlreadyRefunded("Telegram: the charge is already refunded", error)
        raise TelegramError(f"Telegram refused {method}: {description}", error)

    # ------------------------------------------------------------------ StarsApi

    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        self.call("refundStarPayment", user_id=user_tg_id, telegram_payment_charge_id=charge_id)

    def transactions(self, *, max_pages: int = 50) -> tuple[list[StarsTx], bool]:
        found: list[StarsTx] = []
        for page in range(max_pages):
            result = self.call("getStarTransactions", offset=page * PAGE, limit=PAGE)
            rows = result.get("transactions", []) if isinstance(result, dict) else []
            found.extend(_tx(row) for row in rows)
            if len(rows) < PAGE:
                return found, True
        return found, False


def _tx(row: dict) -> StarsTx:
    """A Bot API ``StarTransaction``: a user's payment has ``source`` (incoming), its refund has
    ``receiver`` (outgoing), both a ``TransactionPartnerUser`` with the invoice payload."""
    partner = row.get("source") or row.get("receiver") or {}
    is_user = partner.get("type") == "user"
    return StarsTx(
        id=str(row["id"]), amount=abs(int(row.get("amount", 0))),
        date=dt.datetime.fromtimestamp(int(row.get("date", 0)), dt.UTC).replace(tzinfo=None),
        user_tg_id=int(partner["user"]["id"]) if is_user and partner.get("user") else None,
        payload=partner.get("invoice_payload") if is_user else None,
        refund=bool(row.get("receiver")) and is_user,
    )


def from_config(config: Config, transport: httpx.BaseTransport | None = None) -> BotApi:
    """The client for the configured bot; a clear ConfigError when there is no token."""
    token = config.telegram.bot_token.get_secret_value() if config.telegram.bot_token else ""
    if not token:
        raise ConfigError("no bot token: set BANANAPICS_TELEGRAM__BOT_TOKEN (or bot_token_file); "
                          "refunds and reconcile call Telegram's Bot API")
    return BotApi(token, config.telegram.bot_api_url, transport=transport)
