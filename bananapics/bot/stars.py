"""The bot's Telethon client as a :class:`bananapics.services.stars.StarsApi`.

Services are synchronous and run in worker threads (``asyncio.to_thread``); each call here runs
the raw MTProto request on the client's event loop and waits for it, so a service such as
``payments.refund`` can call Telegram in the middle of its work. Never call these methods on the
event loop's own thread (it would wait for itself).
"""

from __future__ import annotations

import asyncio
import datetime as dt

from telethon import TelegramClient, errors, functions, types

from bananapics.errors import ChargeAlreadyRefunded, TelegramError
from bananapics.services.stars import StarsTx


class TelethonStars:
    def __init__(self, client: TelegramClient, loop: asyncio.AbstractEventLoop, timeout_s: float = 30.0) -> None:
        self.client, self.loop, self.timeout_s = client, loop, timeout_s

    def _run(self, request):
        future = asyncio.run_coroutine_threadsafe(self.client(request), self.loop)
        try:
            return future.result(self.timeout_s)
        except errors.RPCError as exc:
            if exc.message == "CHARGE_ALREADY_REFUNDED":
                raise ChargeAlreadyRefunded("Telegram: the charge is already refunded", exc.message) from None
            raise TelegramError(f"Telegram refused {type(request).__name__}: {exc.message}", exc.message) from None
        except (TimeoutError, ConnectionError) as exc:
            future.cancel()
            raise TelegramError(f"Telegram did not answer ({type(exc).__name__})", "NETWORK") from None

    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        self._run(functions.payments.RefundStarsChargeRequest(user_id=user_tg_id, charge_id=charge_id))

    def transactions(self, *, max_pages: int = 50) -> tuple[list[StarsTx], bool]:
        found: list[StarsTx] = []
        offset = ""
        for _ in range(max_pages):
            status = self._run(functions.payments.GetStarsTransactionsRequest(
                peer=types.InputPeerSelf(), offset=offset, limit=100))
            found.extend(_tx(t) for t in status.history or [])
            if not status.next_offset:
                return found, True
            offset = status.next_offset
        return found, False


def _tx(t: types.StarsTransaction) -> StarsTx:
    peer = t.peer.peer if isinstance(t.peer, types.StarsTransactionPeer) else None
    user = peer.user_id if isinstance(peer, types.PeerUser) else None
    payload = t.bot_payload.decode("utf-8", "replace") if t.bot_payload is not None else None
    date = t.date if isinstance(t.date, dt.datetime) else dt.datetime.fromtimestamp(t.date, dt.UTC)
    return StarsTx(id=t.id, amount=abs(int(t.amount.amount)), date=date.astimezone(dt.UTC).replace(tzinfo=None),
                   user_tg_id=user, payload=payload if user is not None else None, refund=bool(t.refund))
