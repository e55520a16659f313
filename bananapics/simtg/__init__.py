"""simtg: a simulated Telegram for Telethon bots (Telethon pinned to 1.45.0: uses its internals).

* :class:`FakeTelegram` (``server.py``) — the in-memory Telegram answering real TL requests and
  enforcing Telegram's limits; its request handlers live by Telegram area in ``accounts.py``,
  ``updates.py``, ``messages.py``, ``callbacks.py``, ``files.py``, ``payments.py`` and ``limits.py``
  (plus ``settle.py``; the records it keeps are in ``records.py``, its errors in ``errors.py``).
* :class:`SimClient` (``client.py``) — a real ``TelegramClient`` whose network is the fake.
* :class:`SimUser` (``user.py``) — a user who sends, presses, pays and reads, then waits for the
  bot to settle.

Typical use::

    tg = FakeTelegram(clock=ManualClock())
    bot = SimClient(telegram=tg)
    register_handlers(bot)                 # the production code
    await bot.start(bot_token=tg.bot_token)
    ann = SimUser(tg, "Ann")
    await ann.start("ref_abc")
    await ann.press("Generate")
    assert "Send a description" in ann.panel.text

This package is a transport: it imports nothing from the rest of BananaPics.
"""

from .client import SimClient, SimSender
from .errors import BotHandlerError, NotSimulatedError, SettleTimeout, TgError
from .limits import Limits, ManualClock, RealClock
from .network import Network
from .server import FakeTelegram
from .user import CallbackAnswer, PayResult, SeenButton, SeenMessage, SimUser

__all__ = [
    "BotHandlerError", "CallbackAnswer", "FakeTelegram", "Limits", "ManualClock", "Network", "NotSimulatedError",
    "PayResult", "RealClock", "SeenButton", "SeenMessage", "SettleTimeout", "SimClient", "SimSender", "SimUser", "TgError",
]
