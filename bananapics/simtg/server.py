"""``FakeTelegram``: an in-memory Telegram for one bot, answering real TL requests.

The server side of the simulator. It keeps what Telegram would keep for a bot account: the users
who talk to it, one private chat per user with the messages in it (message ids come from the bot's
single message box, so they increase in every chat and are unique across the bot's private chats,
exactly as MTProto numbers private-chat messages), uploaded files, invoices, pre-checkout
queries, Stars payments and refunds, the bot's commands and an update log with ``pts``/``qts`` so
Telethon's ``MessageBox`` sees a consistent update sequence (gaps are answered through
``updates.getDifference``).

Requests arrive from :class:`bananapics.simtg.client.SimSender` as the *bytes* Telethon would put
on the wire; they are decoded with Telethon's own ``BinaryReader`` and answered with real TL
objects, which the sender serialises and decodes again through ``request.read_result`` exactly as
``MTProtoSender`` does. Errors are raised as :class:`TgError` (code + ``ERROR_MESSAGE``) and turned
into Telethon's exception classes by ``telethon.errors.rpc_message_to_error``, so the bot sees the
same ``MessageNotModifiedError``/``FloodWaitError(seconds=…)``/``UserIsBlockedError`` objects as in
production.

This module holds the core (state, the request entry point, fault injection, peers); the request
handlers (``_rq_<Request>``) and user-side actions live by Telegram area in mixins: ``accounts``
(auth, config, users, bot commands/info), ``updates`` (pushes, pts/qts, getDifference), ``messages``,
``callbacks``, ``files`` (uploads, media, downloads), ``payments`` (invoices, pre-checkout, Stars),
``limits`` (content validation and flood limits) and ``settle``.

Nothing here imports from the rest of BananaPics: it is a transport usable by any Telethon bot.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import random
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Optional

from telethon.extensions import BinaryReader
from telethon.tl import functions, types
from telethon.tl.alltlobjects import LAYER

from .accounts import AccountsMixin
from .callbacks import CallbacksMixin
from .errors import BotHandlerError, NotSimulatedError, SettleTimeout, TgError
from .files import FilesMixin
from .limits import Limits, LimitsMixin, ManualClock, RealClock
from .messages import MessagesMixin
from .network import Network
from .payments import PaymentsMixin
from .records import (
    CallbackRecord, ChatRecord, Fault, InvoiceRecord, PaymentRecord, PrecheckoutRecord, RefundRecord, RequestRecord,
    StoredFile, StoredMessage, UserRecord,
)
from .settle import SettleMixin
from .updates import UpdatesMixin

if TYPE_CHECKING:  # pragma: no cover
    from .client import SimSender

# The names tests, benches and the demo import from here (the areas live in their own modules).
__all__ = [
    "BotHandlerError", "CallbackRecord", "FakeTelegram", "InvoiceRecord", "Limits", "ManualClock", "Network",
    "NotSimulatedError", "PaymentRecord", "PrecheckoutRecord", "RealClock", "SettleTimeout", "StoredMessage",
    "TgError", "UserRecord",
]

SIM_LAYER = LAYER
_UTC = datetime.timezone.utc

_BOT_METHOD_INVALID = (
    functions.messages.GetHistoryRequest,
    functions.messages.GetDialogsRequest,
    functions.messages.SearchRequest,
    functions.messages.ReadHistoryRequest,
    functions.messages.StartBotRequest,
    functions.messages.GetBotCallbackAnswerRequest,
    functions.contacts.GetContactsRequest,
)


class FakeTelegram(AccountsMixin, UpdatesMixin, MessagesMixin, CallbacksMixin, FilesMixin, PaymentsMixin,
                   LimitsMixin, SettleMixin):
    """The in-memory Telegram. One bot account; any number of users in private chats.

    ``clock`` is any zero-argument callable returning epoch seconds (``ManualClock`` for tests
    that exercise flood limits without sleeping). ``seed`` makes ids, hashes and charge ids
    reproducible.
    """

    def __init__(
        self,
        *,
        bot_id: int = 6_000_000_001,
        bot_username: str = "SimBananaBot",
        bot_name: str = "Sim Bot",
        clock: Optional[Callable[[], float]] = None,
        limits: Optional[Limits] = None,
        seed: Optional[int] = 0,
        settle_timeout: float = 10.0,
        network: Optional[Network] = None,
    ):
        self.clock = clock or RealClock()
        self.network = network  # round-trip time, upload bandwidth, slow chats (None: answers at once)
        self.limits = limits or Limits()
        self.settle_timeout = settle_timeout
        self._rnd = random.Random(seed)
        self.bot = UserRecord(
            id=bot_id, first_name=bot_name, last_name=None, username=bot_username,
            lang_code=None, access_hash=self._rand63(),
        )
        self.bot_token = f"{bot_id}:SIM-{self._rnd.getrandbits(64):016x}"
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self._msg_index: dict[int, tuple[int, StoredMessage]] = {}  # msg id -> (user id, stored)
        self.files: dict[int, StoredFile] = {}  # photo/document id -> file
        self._uploads: dict[tuple[bytes, int], dict[int, bytes]] = {}  # (auth key id, file id) -> parts
        self._big_uploads: dict[tuple[bytes, int], int] = {}  # -> declared total parts
        self.invoices: list[InvoiceRecord] = []
        self.precheckouts: dict[int, PrecheckoutRecord] = {}
        self.payments: dict[str, PaymentRecord] = {}
        self.refunds: list[RefundRecord] = []
        self.callback_queries: dict[int, CallbackRecord] = {}
        self.commands: dict[tuple, list[tuple[str, str]]] = {}
        self.bot_info: dict[str, dict[str, Optional[str]]] = {}
        self.chat_actions: list[tuple[float, int, str]] = []
        self.requests: list[RequestRecord] = []
        self.flood_waits: list[tuple[float, str, int, int]] = []  # (at, "global"/"chat", user, secs)
        self._authorized_keys: set[bytes] = set()
        self._senders: "weakref.WeakSet[SimSender]" = weakref.WeakSet()
        self._ignored_tasks: "weakref.WeakSet[asyncio.Task]" = weakref.WeakSet()
        self._ignored_names: set[str] = set()
        self._handler_errors: list[BaseException] = []  # filled by SimClient's log capture
        self._global_window: deque[float] = deque()
        self.faults: list[Fault] = []
        self._expired_refs: set[bytes] = set()
        self._next_user_id = 100_000_001
        self._seq = itertools.count(1)
        self._msg_id = 0
        self.pts = 1
        self.qts = 1
        self._pts_log: list[tuple[int, int, Any]] = []  # (pts, pts_count, update)
        self._qts_log: list[tuple[int, Any]] = []
        self._users_in_log: dict[int, UserRecord] = {}

    # ---------------------------------------------------------------- basics

    def _rand63(self) -> int:
        return self._rnd.getrandbits(63) or 1

    def now(self) -> float:
        return float(self.clock())

    def _date(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(int(self.now()), tz=_UTC)

    def add_user(
        self, first_name: str = "Test", *, user_id: Optional[int] = None, username: Optional[str] = None,
        last_name: Optional[str] = None, lang_code: Optional[str] = "en",
    ) -> UserRecord:
        """Register a Telegram user (they have not written to the bot yet)."""
        if user_id is None:
            while self._next_user_id in self.users or self._next_user_id == self.bot.id:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.users or user_id == self.bot.id:
            raise ValueError(f"user id {user_id} already exists")
        rec = UserRecord(
            id=user_id, first_name=first_name, last_name=last_name, username=username,
            lang_code=lang_code, access_hash=self._rand63(),
        )
        self.users[user_id] = rec
        return rec

    def chat(self, user_id: int) -> ChatRecord:
        chat = self.chats.get(user_id)
        if chat is None:
            chat = self.chats[user_id] = ChatRecord(
                user_id=user_id, chat_instance=self._rnd.getrandbits(63),
                tokens=float(self.limits.per_chat_burst), tokens_at=self.now(),
            )
        return chat

    def chat_messages(self, user_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        chat = self.chats.get(user_id)
        if chat is None:
            return []
        return [m for m in chat.messages.values() if include_deleted or not m.deleted]

    def message(self, msg_id: int) -> Optional[StoredMessage]:
        found = self._msg_index.get(msg_id)
        return found[1] if found else None

    def commands_for(self, scope: Any = None, lang_code: str = "") -> Optional[list[tuple[str, str]]]:
        """Commands set for a scope (a ``BotCommandScope*`` object, or its class) and language."""
        return self.commands.get((self._scope_key(scope or types.BotCommandScopeDefault()), lang_code))

    def requests_of(self, *kinds: type) -> list[Any]:
        """Successful requests of the given TL types, oldest first."""
        return [r.request for r in self.requests if r.error is None and isinstance(r.request, kinds)]

    def ignore_task(self, task: "asyncio.Task") -> None:
        """Tell ``settle()`` not to wait for a long-lived task the bot started during an action."""
        self._ignored_tasks.add(task)

    def ignore_tasks_named(self, *qualnames: str) -> None:
        """Tell ``settle()`` never to wait for tasks running these coroutines (``"_Pool._chat"``):
        the work of a background loop that keeps starting tasks (a delivery loop running while users
        act), which is not the reaction to any one action."""
        self._ignored_names.update(qualnames)

    # ---------------------------------------------------------------- request entry point

    def _handle(self, sender: "SimSender", data: bytes) -> Any:
        """Decode one request from its wire bytes and answer it (or raise ``TgError``)."""
        with BinaryReader(data) as reader:
            request = reader.tgread_object()
        while True:  # the wrappers Telethon uses
            if isinstance(request, functions.InvokeWithLayerRequest):
                if request.layer != SIM_LAYER:
                    raise TgError(400, "CONNECTION_LAYER_INVALID")
                request = request.query
            elif isinstance(request, functions.InitConnectionRequest):
                request = request.query
            elif isinstance(request, functions.InvokeWithoutUpdatesRequest):
                sender.receive_updates = False
                request = request.query
            else:
                break
        record = RequestRecord(at=self.now(), request=request)
        self.requests.append(record)
        try:
            self._injected(request)
            return self._answer(sender, request)
        except TgError as e:
            record.error = f"{e.code} {e.message}"
            raise
        except NotSimulatedError:
            record.error = "not simulated"
            raise

    def inject(self, request_type: type, error: Any, *, code: Optional[int] = None, times: int = 1,
               skip: int = 0, user_id: Optional[int] = None) -> Fault:
        """Make requests of ``request_type`` fail: ``skip`` of them pass first, then ``times`` fail.

        ``error`` is an RPC error message as Telegram sends it (``"FLOOD_WAIT_3"`` → code 420,
        ``"INTERNAL"``/``"RPC_CALL_FAIL"`` → 500, anything else 400 unless ``code`` says otherwise),
        raised to the client as Telethon's error class; or an exception *instance* raised from the
        client's request as is (``ConnectionError`` for a dropped connection, a ``BaseException``
        subclass to model the bot process dying mid-send). Injected flood waits are not added to
        ``flood_waits`` (that list is for limits the bot actually hit). ``user_id``: only requests
        whose ``peer`` is that user's chat count (skip) and fail.
        """
        if code is None and isinstance(error, str):
            code = 420 if error.startswith("FLOOD_WAIT_") else 500 if error in ("INTERNAL", "RPC_CALL_FAIL") else 400
        fault = Fault(request_type, error, code or 0, times, skip, user_id)
        self.faults.append(fault)
        return fault

    def _injected(self, request: Any) -> None:
        for fault in self.faults:
            if fault.times <= 0 or not isinstance(request, fault.request_type):
                continue
            if fault.user_id is not None and getattr(getattr(request, "peer", None), "user_id", None) != fault.user_id:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                return
            fault.times -= 1
            if isinstance(fault.error, BaseException):
                raise fault.error
            raise TgError(fault.code, fault.error)

    def _answer(self, sender: "SimSender", r: Any) -> Any:
        name = type(r).__name__
        if isinstance(r, _BOT_METHOD_INVALID):
            self._require_auth(sender)
            raise TgError(400, "BOT_METHOD_INVALID")
        handler = getattr(self, f"_rq_{type(r).__module__.rsplit('.', 1)[-1]}_{name}", None)
        if handler is None:
            handler = getattr(self, f"_rq_{name}", None)
        if handler is None:
            raise NotSimulatedError(
                f"simtg does not simulate {type(r).__module__.rsplit('.', 1)[-1]}.{name}; "
                "add a handler in the bananapics/simtg module of its area (messages.py, files.py, payments.py …)"
            )
        if name not in ("ImportBotAuthorizationRequest", "GetConfigRequest", "GetNearestDcRequest"):
            self._require_auth(sender)
        return handler(sender, r)

    def _require_auth(self, sender: "SimSender") -> None:
        if sender.auth_key.key_id not in self._authorized_keys:
            raise TgError(401, "AUTH_KEY_UNREGISTERED")

    # ---------------------------------------------------------------- peers

    def _input_user(self, peer: Any, *, error: str = "PEER_ID_INVALID") -> UserRecord:
        """A user from an ``InputPeerUser``/``InputUser`` whose access hash this bot knows."""
        if isinstance(peer, (types.InputPeerUser, types.InputUser)):
            user = self.users.get(peer.user_id)
            if user is None or peer.access_hash != user.access_hash:
                raise TgError(400, error)
            return user
        if isinstance(peer, (types.InputPeerSelf, types.InputUserSelf)):
            raise TgError(400, error)  # a bot cannot message itself
        if isinstance(peer, (types.InputPeerChat, types.InputPeerChannel)):
            raise NotSimulatedError("simtg simulates private chats only (no groups or channels)")
        raise TgError(400, error)

    def _chat_user(self, peer: Any) -> UserRecord:
        """The user of a private chat the bot may write to (they wrote first and did not block it)."""
        user = self._input_user(peer)
        if not user.started:
            raise TgError(400, "PEER_ID_INVALID")  # the bot cannot start a conversation
        if user.blocked:
            raise TgError(400, "USER_IS_BLOCKED")
        return user
