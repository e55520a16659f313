"""``SimClient``: a real ``TelegramClient`` whose network is a :class:`FakeTelegram`.

Where the cut is (Telethon 1.45.0):

* ``TelegramClient.__init__`` builds an ``MTProtoSender`` (``telethon/network/mtprotosender.py``);
  ``SimClient`` replaces ``self._sender`` with :class:`SimSender`, which has the same surface
  Telethon uses (``connect``, ``disconnect``, ``is_connected``, ``send``, ``disconnected``,
  ``auth_key``, ``_transport_connected``, ``_keepalive_ping``). No socket is ever opened.
* Everything above the sender is Telethon's own code: ``connect()`` (init + ``get_me`` +
  ``_on_login`` → ``updates.getState``/``getDifference``), ``start(bot_token=…)``,
  ``UserMethods._call`` (entity resolution, flood-wait memory, retries, ``process_entities``),
  the update loop with its ``MessageBox`` (pts/qts, gaps, ``getDifference``), ``_dispatch_update``
  and the event builders. ``_call`` is only wrapped to keep Telethon's per-request flood-wait
  memory in step with an injected (manual) clock.
* ``SimSender.send`` serialises every request with ``bytes(request)`` (as ``RequestState`` does),
  the server decodes those bytes, and the answer is serialised and read back with
  ``request.read_result`` — so the bot only ever sees objects that went through Telethon's codec.
  Results are delivered one event-loop hop later (``loop.call_soon``), like a network reply, and
  results that are ``Updates`` are queued as "own updates" with Telethon's
  ``MTProtoSender._store_own_updates`` (processed for pts, not dispatched). Updates the server
  pushes go into ``client._updates_queue`` exactly where ``MTProtoSender._handle_update`` puts them.
* ``_borrow_exported_sender`` returns the same sender: all files live on the session's DC.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import time
from typing import Any, Optional

from telethon import TelegramClient, utils
from telethon.crypto import AuthKey
from telethon.errors import rpc_message_to_error
from telethon.extensions import BinaryReader
from telethon.network.mtprotosender import MTProtoSender
from telethon.tl import types

from .errors import NotSimulatedError, TgError
from .queue import UpdatesQueue
from .server import FakeTelegram
from .wire import serialize_result

_client_ids = itertools.count(1)


class SimSender:
    """Stands in for ``MTProtoSender``: requests go to the :class:`FakeTelegram` in memory."""

    def __init__(self, client: "SimClient", telegram: FakeTelegram):
        self._client = client
        self._telegram = telegram
        self._updates_queue = client._updates_queue  # used by MTProtoSender._store_own_updates
        key = client.session.auth_key
        if not key or not key.key:
            # A fresh key per new session; a persisted session brings its own (and with it the
            # server-side login), exactly like a real session file.
            key = AuthKey(hashlib.sha256(os.urandom(32)).digest() * 8)
        self.auth_key = key
        self.receive_updates = True
        self._user_connected = False
        self._disconnected_future: Optional[asyncio.Future] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._pending = 0  # deliveries scheduled with call_soon that have not run yet

    # -- the MTProtoSender surface Telethon uses --------------------------------------------

    async def connect(self, connection: Any) -> bool:
        if self._user_connected:
            return False
        self._loop = asyncio.get_running_loop()
        self._user_connected = True
        self._disconnected_future = self._loop.create_future()
        self._telegram._attach(self)
        return True

    def is_connected(self) -> bool:
        return self._user_connected

    def _transport_connected(self) -> bool:
        return self._user_connected

    async def disconnect(self) -> None:
        if not self._user_connected:
            return
        self._user_connected = False
        self._telegram._detach(self)
        if self._disconnected_future and not self._disconnected_future.done():
            self._disconnected_future.set_result(None)

    @property
    def disconnected(self) -> asyncio.Future:
        if self._disconnected_future is None:
            fut = asyncio.get_running_loop().create_future()
            fut.set_result(None)
            return fut
        return asyncio.shield(self._disconnected_future)

    def _keepalive_ping(self, rnd_id: int) -> None:
        pass

    def send(self, request: Any, ordered: bool = False) -> Any:
        if not self._user_connected:
            raise ConnectionError("Cannot send requests while disconnected")
        if utils.is_list_like(request):
            return [self._send_one(r) for r in request]
        return self._send_one(request)

    # -- simulation ----------------------------------------------------------------------------

    def _send_one(self, request: Any) -> asyncio.Future:
        data = bytes(request)  # what RequestState does; bad fields fail here, as in production
        fut = self._loop.create_future()
        network = self._telegram.network
        if network is not None and network.active:  # a real network: the request travels, then the answer
            up, down = network.delays(request, len(data))
            self._pending += 1
            self._loop.call_later(up, self._arrive, fut, request, data, down)
            return fut
        try:
            outcome = ("ok", serialize_result(self._telegram._handle(self, data)))
        except TgError as e:
            outcome = ("rpc", e)
        except Exception as e:  # NotSimulatedError, or a simulator bug: surface it to the caller
            outcome = ("exc", e)
        self._pending += 1
        self._loop.call_soon(self._resolve, fut, request, outcome)
        return fut

    def _arrive(self, fut: asyncio.Future, request: Any, data: bytes, down: float) -> None:
        """A delayed request reaches Telegram (see :mod:`bananapics.simtg.network`); its answer
        travels back ``down`` seconds. A ``BaseException`` injected to model the bot dying mid-send
        is raised from the request, as without a network."""
        if not self._user_connected:
            self._pending -= 1
            if not fut.done():
                fut.set_exception(ConnectionError("disconnected while the request was on its way"))
            return
        try:
            outcome = ("ok", serialize_result(self._telegram._handle(self, data)))
        except TgError as e:
            outcome = ("rpc", e)
        except BaseException as e:  # noqa: BLE001 - NotSimulatedError, a simulator bug or an injected crash
            outcome = ("exc", e)
        self._loop.call_later(down, self._resolve, fut, request, outcome)

    def _resolve(self, fut: asyncio.Future, request: Any, outcome: tuple) -> None:
        self._pending -= 1
        kind, value = outcome
        if kind == "ok":
            try:
                with BinaryReader(value) as reader:
                    result = request.read_result(reader)
            except Exception as e:
                if not fut.cancelled():
                    fut.set_exception(e)
                return
            MTProtoSender._store_own_updates(self, result)
            if not fut.cancelled():
                fut.set_result(result)
        else:
            exc = value
            if kind == "rpc":
                exc = rpc_message_to_error(types.RpcError(error_code=value.code, error_message=value.message), request)
            if not fut.cancelled():
                fut.set_exception(exc)

    def _deliver_updates(self, payload: bytes) -> None:
        self._pending += 1
        self._loop.call_soon(self._put_updates, payload)

    def _put_updates(self, payload: bytes) -> None:
        self._pending -= 1
        if not self._user_connected:
            return
        with BinaryReader(payload) as reader:
            self._updates_queue.put_nowait(reader.tgread_object())

    def _idle(self) -> bool:
        client = self._client
        if self._pending:
            return False
        loop_task = client._updates_handle
        if loop_task is None or loop_task.done():
            return True
        box = client._message_box
        if box.possible_gaps or box.getting_diff_for:
            return False
        queue = client._updates_queue
        return queue.empty() and queue.waiting > 0


class _HandlerErrorCapture(logging.Handler):
    """Telethon logs handler exceptions ('Unhandled exception on …') instead of raising them;
    collect them so ``settle()`` can re-raise."""

    def __init__(self, client: "SimClient", forward: bool):
        super().__init__(logging.ERROR)
        self._client = client
        self._forward = forward

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or isinstance(exc, asyncio.CancelledError):
            return
        self._client.sim_handler_errors.append(exc)
        if self._forward:
            self._client.telegram._handler_errors.append(exc)


class SimClient(TelegramClient):
    """A ``TelegramClient`` connected to a :class:`FakeTelegram` instead of Telegram.

    Drop-in for production code that receives a client: ``SimClient(telegram=tg)`` (session
    defaults to an in-memory one, ``api_id``/``api_hash`` to placeholders). By default the session
    is already logged in as the bot (``authorized=True``); with ``authorized=False``
    ``start(bot_token=telegram.bot_token)`` performs the real ``auth.importBotAuthorization``.

    ``flood_sleep_threshold`` defaults to 0 here, so every FLOOD_WAIT surfaces as
    ``FloodWaitError``; pass a larger value to exercise Telethon's automatic sleeping (it sleeps in
    real time, so use it with the real clock). Exceptions raised inside event handlers are
    collected and re-raised by ``settle()`` as :class:`BotHandlerError` unless
    ``raise_handler_errors=False`` (they are still listed in ``sim_handler_errors``).
    """

    def __init__(
        self,
        session: Any = None,
        api_id: int = 1,
        api_hash: str = "simtg",
        *,
        telegram: FakeTelegram,
        authorized: bool = True,
        raise_handler_errors: bool = True,
        **kwargs: Any,
    ):
        kwargs.setdefault("flood_sleep_threshold", 0)
        if kwargs.get("base_logger") is None:
            kwargs["base_logger"] = logging.getLogger(f"telethon.simtg.client{next(_client_ids)}")
        super().__init__(session, api_id, api_hash, **kwargs)
        self.telegram = telegram
        self.sim_handler_errors: list[BaseException] = []
        self._updates_queue = UpdatesQueue()
        self._sender = SimSender(self, telegram)
        if authorized:
            telegram._authorize(self._sender.auth_key.key_id)
        self._sim_flood_fake_due: dict[int, float] = {}
        self._sim_flood_real_due: dict[int, float] = {}
        self._log["telethon.client.updates"].addHandler(_HandlerErrorCapture(self, raise_handler_errors))

    # -- network replacements ---------------------------------------------------------------

    async def _borrow_exported_sender(self, dc_id: int) -> SimSender:
        return self._sender

    async def _return_exported_sender(self, sender: Any) -> None:
        return None

    async def _get_cdn_client(self, cdn_redirect: Any) -> Any:
        raise NotSimulatedError("simtg does not simulate CDN downloads")

    async def _call(self, sender: Any, request: Any, ordered: bool = False, flood_sleep_threshold: Any = None):
        # Telethon remembers flood waits per request type in wall-clock time
        # (``_flood_waited_requests``); translate them to the server's clock so that advancing a
        # ManualClock also ends the client-side wait, exactly as time passing would.
        self._sim_sync_flood_memory()
        try:
            return await super()._call(sender, request, ordered=ordered, flood_sleep_threshold=flood_sleep_threshold)
        finally:
            self._sim_note_flood_memory()

    def _sim_sync_flood_memory(self) -> None:
        real_now, fake_now = time.time(), self.telegram.now()
        for cid, fake_due in list(self._sim_flood_fake_due.items()):
            if cid not in self._flood_waited_requests:
                del self._sim_flood_fake_due[cid]
                self._sim_flood_real_due.pop(cid, None)
                continue
            due = real_now + (fake_due - fake_now)
            self._flood_waited_requests[cid] = self._sim_flood_real_due[cid] = due

    def _sim_note_flood_memory(self) -> None:
        real_now, fake_now = time.time(), self.telegram.now()
        for cid, due in self._flood_waited_requests.items():
            if self._sim_flood_real_due.get(cid) != due:
                self._sim_flood_fake_due[cid] = fake_now + (due - real_now)
                self._sim_flood_real_due[cid] = due

    # -- test helpers ---------------------------------------------------------------------

    async def settle(self, *, since: Optional[set] = None, timeout: Optional[float] = None) -> None:
        """Wait until the bot is idle (see :meth:`FakeTelegram.settle`)."""
        await self.telegram.settle(since=since, timeout=timeout)
