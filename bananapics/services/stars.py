"""What payment services need from Telegram, without importing a Telegram library.

The bot passes an adapter over its Telethon client (``bananapics.bot.stars``); the CLI and the
workers, which hold no Telegram session, pass a Bot API client built from the bot token
(``bananapics.botapi``). Tests pass either one wired to the simulated Telegram.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StarsTx:
    """One entry of the bot's Stars history: an incoming payment, or the refund of one.

    ``id`` is the charge id for both (Telegram gives a refund its payment's id); ``amount`` is in
    whole Stars and always positive; ``user_tg_id``/``payload`` are None for entries that are not a
    user's invoice payment (withdrawals, ads…)."""

    id: str
    amount: int
    date: dt.datetime
    user_tg_id: int | None
    payload: str | None
    refund: bool


class StarsApi(Protocol):
    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        """``payments.refundStarsCharge``; raises ChargeAlreadyRefunded or TelegramError."""

    def transactions(self, *, max_pages: int = 50) -> tuple[list[StarsTx], bool]:
        """The bot's Stars transactions (``payments.getStarsTransactions``), and whether the whole
        history was read (False when ``max_pages`` stopped it)."""
