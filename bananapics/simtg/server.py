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

Nothing here imports from the rest of BananaPics: it is a transport usable by any Telethon bot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import io
import itertools
import math
import random
import re
import struct
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from telethon.extensions import BinaryReader
from telethon.tl import functions, types
from telethon.tl.alltlobjects import LAYER

try:  # Pillow is optional: it only gives photos their real width/height.
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - Pillow is a project dependency
    _PILImage = None

if TYPE_CHECKING:  # pragma: no cover
    from .client import SimSender

DC_ID = 2  # Telethon's DEFAULT_DC_ID: files "live" where the session is, so no exported senders.
SIM_LAYER = LAYER
_UTC = datetime.timezone.utc


# --------------------------------------------------------------------------------------------
# Errors, clocks, limits
# --------------------------------------------------------------------------------------------


class TgError(Exception):
    """An RPC error exactly as Telegram sends it (``rpc_error#2144ca19 error_code error_message``).

    The sender turns it into Telethon's class with ``rpc_message_to_error`` (``FLOOD_WAIT_7`` →
    ``FloodWaitError(seconds=7)``, ``MESSAGE_NOT_MODIFIED`` → ``MessageNotModifiedError`` …).
    """

    def __init__(self, code: int, message: str):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class NotSimulatedError(NotImplementedError):
    """A request the simulator does not answer. Raised loudly (not as an RPC error) so a test
    notices it instead of the bot silently handling a made-up Telegram error."""


class SettleTimeout(AssertionError):
    """``settle()`` gave up: some task started by the action never finished."""


class BotHandlerError(AssertionError):
    """A bot event handler raised; Telethon only logs these, the simulator re-raises them from
    ``settle()`` (the original exception is ``__cause__`` and ``.errors`` has all of them)."""

    def __init__(self, errors: list[BaseException]):
        first = errors[0]
        super().__init__(f"{len(errors)} bot handler error(s); first: {type(first).__name__}: {first}")
        self.errors = errors


class RealClock:
    """Wall-clock time (``time.time``)."""

    def __call__(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to; inject it so flood limits and timeouts need no sleep."""

    def __init__(self, start: float = 1_767_225_600.0):  # 2026-01-01T00:00:00Z
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def set(self, when: float) -> None:
        self.now = float(when)

    async def sleep(self, seconds: float) -> None:
        """A drop-in for ``asyncio.sleep`` that advances this clock instead of waiting: inject it
        into the bot's own rate limiter so bot and simulated Telegram agree on time."""
        if seconds > 0:
            self.now += seconds
        await asyncio.sleep(0)


@dataclasses.dataclass
class Limits:
    """Telegram's limits as enforced by the simulator (all adjustable per test).

    Content limits are Telegram's documented ones. The rate limits are a *model* of the
    unpublished, dynamic real ones (Bot FAQ: ~30 messages/s overall, ~1 message/s per chat with
    short bursts tolerated): a sliding one-second window over all messages the bot creates, and a
    per-chat token bucket (``per_chat_rate`` tokens/s, ``per_chat_burst`` capacity) charged one
    token per send *request* (an album is one request). Edits, callback answers, chat actions and
    deletions are not rate-limited.
    """

    text_max: int = 4096  # Unicode code points, after entity parsing
    caption_max: int = 1024
    callback_data_max: int = 64  # bytes
    callback_answer_max: int = 200
    inline_buttons_per_row: int = 8
    inline_buttons_total: int = 100
    reply_buttons_per_row: int = 12
    reply_buttons_total: int = 300
    album_max: int = 10
    commands_max: int = 100
    global_messages_per_second: int = 30
    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    rate_limits: bool = True
    callback_query_ttl: float = 15.0  # seconds to answer a callback query, then QUERY_ID_INVALID
    precheckout_ttl: float = 10.0  # seconds to answer a pre-checkout query, then it is cancelled
    delete_window: float = 48 * 3600.0  # bots may delete private-chat messages for 48 h


# --------------------------------------------------------------------------------------------
# Wire helpers
# --------------------------------------------------------------------------------------------

_VECTOR = 0x1CB5C415
_BOOL_TRUE = 0x997275B5
_BOOL_FALSE = 0xBC799737


def serialize_result(obj: Any) -> bytes:
    """Serialise a result the way Telegram would put it in ``rpc_result``."""
    if obj is True:
        return struct.pack("<I", _BOOL_TRUE)
    if obj is False:
        return struct.pack("<I", _BOOL_FALSE)
    if isinstance(obj, list):
        return struct.pack("<Ii", _VECTOR, len(obj)) + b"".join(serialize_result(x) for x in obj)
    return bytes(obj)


def wire_copy(obj: Any) -> Any:
    """A TL object after a trip over the wire (a fresh, decoded copy)."""
    with BinaryReader(bytes(obj)) as reader:
        return reader.tgread_object()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: Optional[str]
    username: Optional[str]
    lang_code: Optional[str]
    access_hash: int  # as seen by this bot
    blocked: bool = False  # the user blocked the bot
    started: bool = False  # the user has a private chat with the bot (wrote to it)

    def tl(self) -> types.User:
        return types.User(
            id=self.id, access_hash=self.access_hash, first_name=self.first_name,
            last_name=self.last_name, username=self.username, lang_code=self.lang_code,
        )

    @property
    def peer(self) -> types.PeerUser:
        return types.PeerUser(self.id)


@dataclasses.dataclass
class StoredMessage:
    """One message in a private chat, as the server keeps it (``msg`` is the current version)."""

    msg: Any  # types.Message | types.MessageService
    outgoing: bool  # sent by the bot
    created: float
    deleted: bool = False
    versions: list = dataclasses.field(default_factory=list)  # earlier versions, oldest first

    @property
    def id(self) -> int:
        return self.msg.id


@dataclasses.dataclass
class ChatRecord:
    user_id: int
    chat_instance: int
    messages: dict = dataclasses.field(default_factory=dict)  # id -> StoredMessage (insertion = id order)
    tokens: float = 0.0
    tokens_at: float = 0.0


@dataclasses.dataclass
class StoredFile:
    kind: str  # "photo" | "document"
    id: int
    access_hash: int
    file_reference: bytes
    data: bytes
    tl: Any  # types.Photo | types.Document
    name: Optional[str] = None
    mime_type: Optional[str] = None


@dataclasses.dataclass
class Fault:
    """One injected failure (see :meth:`FakeTelegram.inject`)."""

    request_type: type
    error: Any  # an RPC error message, or an exception instance raised as is
    code: int
    times: int
    skip: int


@dataclasses.dataclass
class InvoiceRecord:
    msg_id: Optional[int]  # None for an exported invoice link
    user_id: Optional[int]
    title: str
    description: str
    currency: str
    amount: int
    payload: bytes
    start_param: Optional[str]
    slug: Optional[str] = None
    charge_ids: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class PrecheckoutRecord:
    query_id: int
    user_id: int
    payload: bytes
    currency: str
    amount: int
    created: float
    answered: bool = False
    ok: Optional[bool] = None
    error: Optional[str] = None
    answered_at: Optional[float] = None
    expired: bool = False  # the user's client gave up waiting (the payment was cancelled)


@dataclasses.dataclass
class PaymentRecord:
    charge_id: str
    user_id: int
    currency: str
    amount: int
    payload: bytes
    date: float
    invoice: InvoiceRecord
    msg_id: int  # the MessageActionPaymentSentMe service message
    refunded: bool = False
    refunded_by: Optional[str] = None  # "bot" | "external"
    refunded_at: Optional[float] = None
    seq: int = 0  # event order (several events share one ManualClock instant)
    refund_seq: int = 0


@dataclasses.dataclass
class RefundRecord:
    charge_id: str
    user_id: int
    amount: int
    by: str  # "bot" (payments.refundStarsCharge) | "external"
    date: float


@dataclasses.dataclass
class CallbackRecord:
    query_id: int
    user_id: int
    msg_id: int
    data: bytes
    created: float
    answered: bool = False
    message: Optional[str] = None
    alert: bool = False
    url: Optional[str] = None
    cache_time: int = 0


@dataclasses.dataclass
class RequestRecord:
    at: float
    request: Any  # the decoded TL request (wrappers removed)
    error: Optional[str] = None  # "400 MESSAGE_TOO_LONG" if it failed


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

_BOT_METHOD_INVALID = (
    functions.messages.GetHistoryRequest,
    functions.messages.GetDialogsRequest,
    functions.messages.SearchRequest,
    functions.messages.ReadHistoryRequest,
    functions.messages.StartBotRequest,
    functions.messages.GetBotCallbackAnswerRequest,
    functions.contacts.GetContactsRequest,
)

_LANG_RE = re.compile(r"^(|[a-z]{2})$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_URL_RE = re.compile(r"^(https?|tg)://\S+$", re.IGNORECASE)


class FakeTelegram:
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
    ):
        self.clock = clock or RealClock()
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

    def file_bytes(self, media: Any) -> Optional[bytes]:
        """The bytes behind a ``MessageMedia*``/``Photo``/``Document`` (or ``None``)."""
        obj = media
        if isinstance(obj, types.MessageMediaPhoto):
            obj = obj.photo
        elif isinstance(obj, types.MessageMediaDocument):
            obj = obj.document
        stored = self.files.get(getattr(obj, "id", None))
        return stored.data if stored else None

    def commands_for(self, scope: Any = None, lang_code: str = "") -> Optional[list[tuple[str, str]]]:
        """Commands set for a scope (a ``BotCommandScope*`` object, or its class) and language."""
        return self.commands.get((self._scope_key(scope or types.BotCommandScopeDefault()), lang_code))

    def requests_of(self, *kinds: type) -> list[Any]:
        """Successful requests of the given TL types, oldest first."""
        return [r.request for r in self.requests if r.error is None and isinstance(r.request, kinds)]

    def ignore_task(self, task: "asyncio.Task") -> None:
        """Tell ``settle()`` not to wait for a long-lived task the bot started during an action."""
        self._ignored_tasks.add(task)

    # ---------------------------------------------------------------- connections

    def _attach(self, sender: "SimSender") -> None:
        self._senders.add(sender)

    def _detach(self, sender: "SimSender") -> None:
        self._senders.discard(sender)

    def _authorize(self, key_id: bytes) -> None:
        self._authorized_keys.add(key_id)

    def _push(self, updates: list, users: Iterable[UserRecord] = ()) -> None:
        """Send an ``Updates`` container to every connected bot session that wants updates."""
        container = types.Updates(
            updates=updates, users=[u.tl() for u in {u.id: u for u in users}.values()],
            chats=[], date=self._date(), seq=0,
        )
        payload = bytes(container)
        for sender in list(self._senders):
            if sender.is_connected() and sender.receive_updates:
                sender._deliver_updates(payload)

    # ---------------------------------------------------------------- update sequence

    def _log_pts(self, update: Any, count: int = 1) -> Any:
        self.pts += count
        update.pts = self.pts
        update.pts_count = count
        self._pts_log.append((self.pts, count, update))
        return update

    def _log_qts(self, update: Any) -> Any:
        self.qts += 1
        update.qts = self.qts
        self._qts_log.append((self.qts, update))
        return update

    def _next_msg_id(self) -> int:
        self._msg_id += 1
        return self._msg_id

    def _store(self, user: UserRecord, msg: Any, *, outgoing: bool) -> Any:
        """Store a new message and return its ``UpdateNewMessage`` (with the next pts)."""
        chat = self.chat(user.id)
        stored = StoredMessage(msg=msg, outgoing=outgoing, created=self.now())
        chat.messages[msg.id] = stored
        self._msg_index[msg.id] = (user.id, stored)
        self._users_in_log[user.id] = user
        return self._log_pts(types.UpdateNewMessage(message=msg, pts=0, pts_count=1))

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
               skip: int = 0) -> Fault:
        """Make requests of ``request_type`` fail: ``skip`` of them pass first, then ``times`` fail.

        ``error`` is an RPC error message as Telegram sends it (``"FLOOD_WAIT_3"`` → code 420,
        ``"INTERNAL"``/``"RPC_CALL_FAIL"`` → 500, anything else 400 unless ``code`` says otherwise),
        raised to the client as Telethon's error class; or an exception *instance* raised from the
        client's request as is (``ConnectionError`` for a dropped connection, a ``BaseException``
        subclass to model the bot process dying mid-send). Injected flood waits are not added to
        ``flood_waits`` (that list is for limits the bot actually hit).
        """
        if code is None and isinstance(error, str):
            code = 420 if error.startswith("FLOOD_WAIT_") else 500 if error in ("INTERNAL", "RPC_CALL_FAIL") else 400
        fault = Fault(request_type, error, code or 0, times, skip)
        self.faults.append(fault)
        return fault

    def _injected(self, request: Any) -> None:
        for fault in self.faults:
            if fault.times <= 0 or not isinstance(request, fault.request_type):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                return
            fault.times -= 1
            if isinstance(fault.error, BaseException):
                raise fault.error
            raise TgError(fault.code, fault.error)

    def expire_file_references(self) -> int:
        """File references expire on Telegram (they are short-lived tokens): give every stored file a
        new one. Sending or downloading with an old reference then fails with
        ``FILE_REFERENCE_EXPIRED``; messages the server returns carry the new one. Returns the count."""
        for stored in self.files.values():
            self._expired_refs.add(stored.file_reference)
            stored.file_reference = self._rnd.getrandbits(64).to_bytes(8, "little") + b"\x02"
            stored.tl.file_reference = stored.file_reference
        return len(self.files)

    def _check_reference(self, given: bytes, stored: StoredFile) -> None:
        if given != stored.file_reference:
            raise TgError(400, "FILE_REFERENCE_EXPIRED" if given in self._expired_refs else "FILE_REFERENCE_INVALID")

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
                "add a handler in bananapics/simtg/server.py"
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

    # ---------------------------------------------------------------- validation

    def _check_text(self, text: str, entities: Optional[list], *, caption: bool) -> Optional[list]:
        limit = self.limits.caption_max if caption else self.limits.text_max
        if len(text) > limit:
            raise TgError(400, "MEDIA_CAPTION_TOO_LONG" if caption else "MESSAGE_TOO_LONG")
        size = utf16_len(text)
        out = []
        for ent in entities or []:
            if ent.offset < 0 or ent.length <= 0 or ent.offset + ent.length > size:
                raise TgError(400, "ENTITY_BOUNDS_INVALID")
            if isinstance(ent, types.InputMessageEntityMentionName):
                target = self._input_user(ent.user_id, error="ENTITY_MENTION_USER_INVALID")
                ent = types.MessageEntityMentionName(ent.offset, ent.length, target.id)
            out.append(ent)
        return out or None

    def _check_markup(self, markup: Any, *, invoice: bool = False) -> Any:
        lim = self.limits
        if markup is None:
            return None
        if isinstance(markup, types.ReplyInlineMarkup):
            total = 0
            for r, row in enumerate(markup.rows):
                if len(row.buttons) > lim.inline_buttons_per_row:
                    raise TgError(400, "REPLY_MARKUP_TOO_LONG")
                total += len(row.buttons)
                for c, button in enumerate(row.buttons):
                    self._check_inline_button(button, first=(r == 0 and c == 0), invoice=invoice)
            if total > lim.inline_buttons_total:
                raise TgError(400, "REPLY_MARKUP_TOO_LONG")
            if total == 0:
                raise TgError(400, "REPLY_MARKUP_INVALID")
            if invoice and not isinstance(markup.rows[0].buttons[0].type, types.InlineButtonTypeBuy):
                raise TgError(400, "REPLY_MARKUP_BUY_EMPTY")
            return markup
        if invoice:
            raise TgError(400, "REPLY_MARKUP_BUY_EMPTY")
        if isinstance(markup, types.ReplyKeyboardMarkup):
            total = 0
            for row in markup.rows:
                if len(row.buttons) > lim.reply_buttons_per_row:
                    raise TgError(400, "REPLY_MARKUP_TOO_LONG")
                total += len(row.buttons)
                for button in row.buttons:
                    if not getattr(button, "text", "").strip():
                        raise TgError(400, "BUTTON_TEXT_INVALID")
            if total > lim.reply_buttons_total:
                raise TgError(400, "REPLY_MARKUP_TOO_LONG")
            return markup
        return markup  # ReplyKeyboardHide / ReplyKeyboardForceReply

    def _check_inline_button(self, button: Any, *, first: bool, invoice: bool) -> None:
        if not isinstance(button, types.KeyboardInlineButton):
            raise TgError(400, "BUTTON_TYPE_INVALID")  # a reply-keyboard button in an inline keyboard
        if not button.text or not button.text.strip():
            raise TgError(400, "BUTTON_TEXT_INVALID")
        kind = button.type
        if isinstance(kind, types.InlineButtonTypeCallback):
            if not kind.data or len(kind.data) > self.limits.callback_data_max:
                raise TgError(400, "BUTTON_DATA_INVALID")
        elif isinstance(kind, types.InlineButtonTypeUrl):
            if not _URL_RE.match(kind.url or ""):
                raise TgError(400, "BUTTON_URL_INVALID")
        elif isinstance(kind, types.InlineButtonTypeBuy):
            if not (invoice and first):
                raise TgError(400, "BUTTON_TYPE_INVALID")

    def _take_flood(self, user: UserRecord, messages: int) -> None:
        """Charge the rate limits for one send request creating ``messages`` messages."""
        lim = self.limits
        if not lim.rate_limits:
            return
        now = self.now()
        chat = self.chat(user.id)
        tokens = min(float(lim.per_chat_burst), chat.tokens + (now - chat.tokens_at) * lim.per_chat_rate)
        if tokens < 1.0:
            wait = max(1, math.ceil((1.0 - tokens) / lim.per_chat_rate))
            self.flood_waits.append((now, "chat", user.id, wait))
            raise TgError(420, f"FLOOD_WAIT_{wait}")
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) + messages > lim.global_messages_per_second:
            wait = max(1, math.ceil(window[0] + 1.0 - now)) if window else 1
            self.flood_waits.append((now, "global", user.id, wait))
            raise TgError(420, f"FLOOD_WAIT_{wait}")
        chat.tokens, chat.tokens_at = tokens - 1.0, now
        window.extend([now] * messages)

    # ---------------------------------------------------------------- files

    def _upload_key(self, sender: "SimSender", file_id: int) -> tuple[bytes, int]:
        return (sender.auth_key.key_id, file_id)

    def _assemble(self, sender: "SimSender", input_file: Any) -> tuple[bytes, str]:
        if not isinstance(input_file, (types.InputFile, types.InputFileBig)):
            raise NotSimulatedError(f"simtg does not simulate {type(input_file).__name__} uploads")
        key = self._upload_key(sender, input_file.id)
        parts = self._uploads.get(key)
        if not parts:
            raise TgError(400, "FILE_PARTS_INVALID")
        if input_file.parts <= 0:
            raise TgError(400, "FILE_PARTS_INVALID")
        for i in range(input_file.parts):
            if i not in parts:
                raise TgError(400, f"FILE_PART_{i}_MISSING")
        data = b"".join(parts[i] for i in range(input_file.parts))
        if isinstance(input_file, types.InputFile) and input_file.md5_checksum:
            if hashlib.md5(data).hexdigest() != input_file.md5_checksum.lower():
                raise TgError(400, "MD5_CHECKSUM_INVALID")
        return data, input_file.name

    def _new_file_ids(self) -> tuple[int, int, bytes]:
        return self._rand63(), self._rand63(), self._rnd.getrandbits(64).to_bytes(8, "little") + b"\x01"

    def make_photo(self, data: bytes) -> StoredFile:
        """Store ``data`` as a photo (unmodified: no server-side recompression is simulated)."""
        width, height = _image_size(data)
        if width <= 0 or height <= 0:
            raise TgError(400, "IMAGE_PROCESS_FAILED")
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise TgError(400, "PHOTO_INVALID_DIMENSIONS")
        pid, ahash, ref = self._new_file_ids()
        longest = max(width, height)
        letter = "m" if longest <= 320 else "x" if longest <= 800 else "y" if longest <= 1280 else "w"
        photo = types.Photo(
            id=pid, access_hash=ahash, file_reference=ref, date=self._date(),
            sizes=[types.PhotoSize(type=letter, w=width, h=height, size=len(data))], dc_id=DC_ID,
        )
        stored = StoredFile("photo", pid, ahash, ref, data, photo)
        self.files[pid] = stored
        return stored

    def make_document(self, data: bytes, mime_type: str, attributes: list) -> StoredFile:
        did, ahash, ref = self._new_file_ids()
        name = next((a.file_name for a in attributes if isinstance(a, types.DocumentAttributeFilename)), None)
        doc = types.Document(
            id=did, access_hash=ahash, file_reference=ref, date=self._date(),
            mime_type=mime_type or "application/octet-stream", size=len(data), dc_id=DC_ID,
            attributes=list(attributes),
        )
        stored = StoredFile("document", did, ahash, ref, data, doc, name=name, mime_type=doc.mime_type)
        self.files[did] = stored
        return stored

    def _stored_input(self, ref: Any, kind: str) -> StoredFile:
        stored = self.files.get(getattr(ref, "id", None))
        if stored is None or stored.kind != kind or ref.access_hash != stored.access_hash:
            raise TgError(400, "MEDIA_INVALID")
        self._check_reference(ref.file_reference, stored)
        return stored

    def _media(self, sender: "SimSender", media: Any) -> Any:
        """``InputMedia*`` → ``MessageMedia*`` (uploading/looking up the file)."""
        if isinstance(media, types.InputMediaUploadedPhoto):
            data, _ = self._assemble(sender, media.file)
            return types.MessageMediaPhoto(photo=self.make_photo(data).tl, spoiler=media.spoiler)
        if isinstance(media, types.InputMediaUploadedDocument):
            data, name = self._assemble(sender, media.file)
            attributes = list(media.attributes or [])
            if name and not any(isinstance(a, types.DocumentAttributeFilename) for a in attributes):
                attributes.append(types.DocumentAttributeFilename(name))
            stored = self.make_document(data, media.mime_type, attributes)
            return types.MessageMediaDocument(document=stored.tl, spoiler=media.spoiler)
        if isinstance(media, types.InputMediaPhoto):
            if not isinstance(media.id, types.InputPhoto):
                raise TgError(400, "MEDIA_EMPTY")
            return types.MessageMediaPhoto(photo=self._stored_input(media.id, "photo").tl, spoiler=media.spoiler)
        if isinstance(media, types.InputMediaDocument):
            if not isinstance(media.id, types.InputDocument):
                raise TgError(400, "MEDIA_EMPTY")
            return types.MessageMediaDocument(document=self._stored_input(media.id, "document").tl,
                                              spoiler=media.spoiler)
        if isinstance(media, types.InputMediaEmpty):
            raise TgError(400, "MEDIA_EMPTY")
        raise NotSimulatedError(f"simtg does not simulate {type(media).__name__} (no network, no other media)")

    # ---------------------------------------------------------------- outgoing messages

    def _out_message(self, user: UserRecord, **fields: Any) -> Any:
        reply_to = fields.pop("reply_to", None)
        header = None
        if isinstance(reply_to, types.InputReplyToMessage):
            target = self._msg_index.get(reply_to.reply_to_msg_id)
            if target and target[0] == user.id and not target[1].deleted:
                header = types.MessageReplyHeader(reply_to_msg_id=reply_to.reply_to_msg_id)
        return types.Message(
            id=self._next_msg_id(), peer_id=user.peer, from_id=types.PeerUser(self.bot.id),
            date=self._date(), out=True, reply_to=header, **fields,
        )

    def _sent(self, user: UserRecord, pairs: list[tuple[int, Any]]) -> types.Updates:
        ids = [types.UpdateMessageID(id=msg.id, random_id=rid) for rid, msg in pairs]
        news = [self._store(user, msg, outgoing=True) for _, msg in pairs]
        return types.Updates(updates=ids + news, users=[user.tl()], chats=[], date=self._date(), seq=0)

    # ---------------------------------------------------------------- auth, config, state

    def _rq_ImportBotAuthorizationRequest(self, sender, r):
        if r.bot_auth_token != self.bot_token:
            raise TgError(400, "ACCESS_TOKEN_INVALID")
        self._authorize(sender.auth_key.key_id)
        return types.auth.Authorization(user=self._bot_self())

    def _rq_LogOutRequest(self, sender, r):
        self._authorized_keys.discard(sender.auth_key.key_id)
        return types.auth.LoggedOut()

    def _rq_GetConfigRequest(self, sender, r):
        now = self._date()
        return types.Config(
            date=now, expires=now + datetime.timedelta(hours=1), test_mode=False, this_dc=DC_ID,
            dc_options=[types.DcOption(id=DC_ID, ip_address="127.0.0.1", port=443)],
            dc_txt_domain_name="simtg.invalid", chat_size_max=200, megagroup_size_max=200000,
            forwarded_count_max=100, online_update_period_ms=210000, offline_blur_timeout_ms=5000,
            offline_idle_timeout_ms=30000, online_cloud_timeout_ms=300000, notify_cloud_delay_ms=30000,
            notify_default_delay_ms=1500, push_chat_period_ms=60000, push_chat_limit=2,
            edit_time_limit=172800, revoke_time_limit=172800, revoke_pm_time_limit=2147483647,
            rating_e_decay=2419200, stickers_recent_limit=200, channels_read_media_period=604800,
            call_receive_timeout_ms=20000, call_ring_timeout_ms=90000, call_connect_timeout_ms=30000,
            call_packet_timeout_ms=10000, me_url_prefix="https://t.me/",
            caption_length_max=self.limits.caption_max, message_length_max=self.limits.text_max,
            webfile_dc_id=DC_ID,
        )

    def _bot_self(self) -> types.User:
        b = self.bot
        return types.User(
            id=b.id, is_self=True, bot=True, access_hash=b.access_hash, first_name=b.first_name,
            username=b.username, bot_info_version=1,
        )

    def _rq_GetStateRequest(self, sender, r):
        return types.updates.State(pts=self.pts, qts=self.qts, date=self._date(), seq=0, unread_count=0)

    def _rq_GetDifferenceRequest(self, sender, r):
        new_messages, other, users = [], [], {}
        for pts, _count, upd in self._pts_log:
            if pts > r.pts:
                if isinstance(upd, types.UpdateNewMessage):
                    new_messages.append(upd.message)
                else:
                    other.append(upd)
                uid = getattr(getattr(getattr(upd, "message", None), "peer_id", None), "user_id", None)
                if uid in self._users_in_log:
                    users[uid] = self._users_in_log[uid]
        for qts, upd in self._qts_log:
            if qts > (r.qts or 0):
                other.append(upd)
                if upd.user_id in self.users:
                    users[upd.user_id] = self.users[upd.user_id]
        if not new_messages and not other:
            return types.updates.DifferenceEmpty(date=self._date(), seq=0)
        return types.updates.Difference(
            new_messages=new_messages, new_encrypted_messages=[], other_updates=other, chats=[],
            users=[u.tl() for u in users.values()],
            state=types.updates.State(pts=self.pts, qts=self.qts, date=self._date(), seq=0, unread_count=0),
        )

    # ---------------------------------------------------------------- users

    def _user_view(self, ref: Any) -> Any:
        if isinstance(ref, (types.InputUserSelf, types.InputPeerSelf)):
            return self._bot_self()
        if isinstance(ref, (types.InputUser, types.InputPeerUser)):
            if ref.user_id == self.bot.id and ref.access_hash == self.bot.access_hash:
                return self._bot_self()
            user = self.users.get(ref.user_id)
            # Bots may pass access_hash=0 for users who wrote to them (Telethon relies on it).
            if user and (ref.access_hash == user.access_hash or (ref.access_hash == 0 and user.started)):
                return user.tl()
            return types.UserEmpty(id=ref.user_id)
        return types.UserEmpty(id=0)

    def _rq_users_GetUsersRequest(self, sender, r):
        return [self._user_view(ref) for ref in r.id]

    def _rq_users_GetFullUserRequest(self, sender, r):
        view = self._user_view(r.id)
        if isinstance(view, types.UserEmpty):
            raise TgError(400, "USER_ID_INVALID")
        rec = self.users.get(view.id)
        full = types.UserFull(
            id=view.id, settings=types.PeerSettings(), notify_settings=types.PeerNotifySettings(),
            common_chats_count=0, blocked=bool(rec and rec.blocked),
        )
        return types.users.UserFull(full_user=full, chats=[], users=[view])

    def _rq_ResolveUsernameRequest(self, sender, r):
        wanted = r.username.lower().lstrip("@")
        for user in itertools.chain([self.bot], self.users.values()):
            if user.username and user.username.lower() == wanted:
                view = self._bot_self() if user is self.bot else user.tl()
                return types.contacts.ResolvedPeer(peer=types.PeerUser(user.id), chats=[], users=[view])
        raise TgError(400, "USERNAME_NOT_OCCUPIED")

    # ---------------------------------------------------------------- messages

    def _rq_SendMessageRequest(self, sender, r):
        user = self._chat_user(r.peer)
        if not r.message.strip():
            raise TgError(400, "MESSAGE_EMPTY")
        entities = self._check_text(r.message, r.entities, caption=False)
        markup = self._check_markup(r.reply_markup)
        self._take_flood(user, 1)
        msg = self._out_message(
            user, message=r.message, entities=entities, reply_markup=markup, reply_to=r.reply_to,
            silent=r.silent, noforwards=r.noforwards,
        )
        return self._sent(user, [(r.random_id, msg)])

    def _rq_SendMediaRequest(self, sender, r):
        user = self._chat_user(r.peer)
        if isinstance(r.media, types.InputMediaInvoice):
            return self._send_invoice(user, r)
        entities = self._check_text(r.message or "", r.entities, caption=True)
        markup = self._check_markup(r.reply_markup)
        media = self._media(sender, r.media)
        self._take_flood(user, 1)
        msg = self._out_message(
            user, message=r.message or "", entities=entities, media=media, reply_markup=markup,
            reply_to=r.reply_to, silent=r.silent, noforwards=r.noforwards,
        )
        return self._sent(user, [(r.random_id, msg)])

    def _rq_SendMultiMediaRequest(self, sender, r):
        user = self._chat_user(r.peer)
        items = r.multi_media
        if not items:
            raise TgError(400, "MEDIA_EMPTY")
        if len(items) > self.limits.album_max:
            raise TgError(400, "MULTI_MEDIA_TOO_LONG")
        prepared, kinds = [], set()
        for item in items:
            if not isinstance(item.media, (types.InputMediaPhoto, types.InputMediaDocument)):
                raise TgError(400, "MEDIA_INVALID")  # upload first (messages.uploadMedia)
            kinds.add(type(item.media))
            entities = self._check_text(item.message or "", item.entities, caption=True)
            prepared.append((item, entities, self._media(sender, item.media)))
        if len(kinds) > 1:
            raise TgError(400, "MEDIA_INVALID")  # photos and documents cannot share an album
        self._take_flood(user, len(items))
        grouped_id = self._rand63()
        pairs = []
        for item, entities, media in prepared:
            pairs.append((item.random_id, self._out_message(
                user, message=item.message or "", entities=entities, media=media, grouped_id=grouped_id,
                reply_to=r.reply_to, silent=r.silent,
            )))
        return self._sent(user, pairs)

    def _rq_ForwardMessagesRequest(self, sender, r):
        source = self._input_user(r.from_peer)
        user = self._chat_user(r.to_peer)
        if not r.id or len(r.id) != len(r.random_id):
            raise TgError(400, "MESSAGE_IDS_EMPTY")
        originals = []
        for mid in r.id:
            found = self._msg_index.get(mid)
            if not found or found[0] != source.id or found[1].deleted or isinstance(found[1].msg, types.MessageService):
                raise TgError(400, "MESSAGE_ID_INVALID")
            originals.append(found[1])
        if any(isinstance(o.msg.media, types.MessageMediaInvoice) for o in originals):
            raise TgError(400, "MEDIA_INVALID")
        self._take_flood(user, len(originals))
        groups: dict[int, int] = {}
        pairs = []
        for rid, original in zip(r.random_id, originals):
            old = original.msg
            author = types.PeerUser(self.bot.id) if original.outgoing else old.from_id
            media = old.media
            keep_caption = not (r.drop_media_captions and media is not None)
            pairs.append((rid, self._out_message(
                user, message=(old.message or "") if keep_caption else "",
                entities=old.entities if keep_caption else None, media=media, silent=r.silent,
                grouped_id=groups.setdefault(old.grouped_id, self._rand63()) if old.grouped_id else None,
                fwd_from=None if r.drop_author else types.MessageFwdHeader(date=old.date, from_id=author),
            )))
        return self._sent(user, pairs)

    def _rq_UploadMediaRequest(self, sender, r):
        self._input_user(r.peer)
        if isinstance(r.media, (types.InputMediaUploadedPhoto, types.InputMediaUploadedDocument,
                                types.InputMediaPhoto, types.InputMediaDocument)):
            return self._media(sender, r.media)
        raise NotSimulatedError(f"simtg does not simulate uploadMedia({type(r.media).__name__})")

    def _rq_EditMessageRequest(self, sender, r):
        user = self._input_user(r.peer)
        if user.blocked:
            raise TgError(400, "USER_IS_BLOCKED")
        found = self._msg_index.get(r.id)
        if not found or found[0] != user.id or found[1].deleted:
            raise TgError(400, "MESSAGE_ID_INVALID")
        stored = found[1]
        old = stored.msg
        if isinstance(old, types.MessageService):
            raise TgError(400, "MESSAGE_ID_INVALID")
        if not stored.outgoing:
            raise TgError(400, "MESSAGE_AUTHOR_REQUIRED")
        is_invoice = isinstance(old.media, types.MessageMediaInvoice)
        if is_invoice and r.media is not None:
            raise TgError(400, "MEDIA_PREV_INVALID")
        media = old.media if r.media is None else self._media(sender, r.media)
        has_media = media is not None and not isinstance(media, (types.MessageMediaEmpty, types.MessageMediaWebPage))
        if r.message is None:
            text, entities = old.message or "", old.entities
        else:
            text = r.message
            if not has_media and not text.strip():
                raise TgError(400, "MESSAGE_EMPTY")
            entities = self._check_text(text, r.entities, caption=has_media)
        markup = self._check_markup(r.reply_markup, invoice=is_invoice)
        if (r.media is None and text == (old.message or "") and _same(entities, old.entities)
                and _same(markup, old.reply_markup)):
            raise TgError(400, "MESSAGE_NOT_MODIFIED")
        new = wire_copy(old)
        new.message, new.entities, new.media, new.reply_markup = text, entities, media, markup
        new.edit_date = self._date()
        stored.versions.append(old)
        stored.msg = new
        update = self._log_pts(types.UpdateEditMessage(message=new, pts=0, pts_count=1))
        return types.Updates(updates=[update], users=[user.tl()], chats=[], date=self._date(), seq=0)

    def _rq_messages_DeleteMessagesRequest(self, sender, r):
        now = self.now()
        victims = []
        for mid in r.id:
            found = self._msg_index.get(mid)
            if not found or found[1].deleted:
                continue
            if now - found[1].created > self.limits.delete_window:
                raise TgError(400, "MESSAGE_DELETE_FORBIDDEN")
            victims.append(found[1])
        if not victims:
            return types.messages.AffectedMessages(pts=self.pts, pts_count=0)
        for stored in victims:
            stored.deleted = True
        self._log_pts(types.UpdateDeleteMessages(messages=[s.id for s in victims], pts=0, pts_count=0),
                      count=len(victims))
        return types.messages.AffectedMessages(pts=self.pts, pts_count=len(victims))

    def _rq_messages_GetMessagesRequest(self, sender, r):
        out, users = [], {}
        for ref in r.id:
            mid = getattr(ref, "id", None)
            found = self._msg_index.get(mid) if isinstance(ref, types.InputMessageID) else None
            if found and not found[1].deleted:
                out.append(found[1].msg)
                users[found[0]] = self.users[found[0]]
            else:
                out.append(types.MessageEmpty(id=mid or 0))
        return types.messages.Messages(messages=out, topics=[], chats=[], users=[u.tl() for u in users.values()])

    def _rq_SetTypingRequest(self, sender, r):
        user = self._chat_user(r.peer)
        self.chat_actions.append((self.now(), user.id, type(r.action).__name__))
        return True

    def _rq_SetBotCallbackAnswerRequest(self, sender, r):
        query = self.callback_queries.get(r.query_id)
        if query is None or query.answered or self.now() - query.created > self.limits.callback_query_ttl:
            raise TgError(400, "QUERY_ID_INVALID")
        if r.message and len(r.message) > self.limits.callback_answer_max:
            raise TgError(400, "MESSAGE_TOO_LONG")
        query.answered, query.message, query.alert = True, r.message, bool(r.alert)
        query.url, query.cache_time = r.url, r.cache_time
        return True

    # ---------------------------------------------------------------- uploads and downloads

    def _rq_SaveFilePartRequest(self, sender, r):
        if not 0 <= r.file_part < 4000:
            raise TgError(400, "FILE_PART_INVALID")
        if not r.bytes:
            raise TgError(400, "FILE_PART_EMPTY")
        if len(r.bytes) > 512 * 1024:
            raise TgError(400, "FILE_PART_TOO_BIG")
        self._uploads.setdefault(self._upload_key(sender, r.file_id), {})[r.file_part] = r.bytes
        return True

    def _rq_SaveBigFilePartRequest(self, sender, r):
        key = self._upload_key(sender, r.file_id)
        if not 0 <= r.file_part < r.file_total_parts <= 8000:
            raise TgError(400, "FILE_PART_INVALID")
        if self._big_uploads.setdefault(key, r.file_total_parts) != r.file_total_parts:
            raise TgError(400, "FILE_PARTS_INVALID")
        if not r.bytes:
            raise TgError(400, "FILE_PART_EMPTY")
        if len(r.bytes) > 512 * 1024:
            raise TgError(400, "FILE_PART_TOO_BIG")
        self._uploads.setdefault(key, {})[r.file_part] = r.bytes
        return True

    def _rq_GetFileRequest(self, sender, r):
        loc = r.location
        if isinstance(loc, types.InputPhotoFileLocation):
            stored = self.files.get(loc.id)
            if stored is None or stored.kind != "photo" or stored.access_hash != loc.access_hash:
                raise TgError(400, "FILE_ID_INVALID")
            if not any(getattr(s, "type", None) == loc.thumb_size for s in stored.tl.sizes):
                raise TgError(400, "LOCATION_INVALID")
        elif isinstance(loc, types.InputDocumentFileLocation):
            stored = self.files.get(loc.id)
            if stored is None or stored.kind != "document" or stored.access_hash != loc.access_hash:
                raise TgError(400, "FILE_ID_INVALID")
            if loc.thumb_size:
                raise TgError(400, "LOCATION_INVALID")  # no document thumbnails are simulated
        else:
            raise NotSimulatedError(f"simtg does not simulate downloads from {type(loc).__name__}")
        self._check_reference(loc.file_reference, stored)
        unit = 1024 if r.precise else 4096
        if r.limit <= 0 or r.limit > 1024 * 1024 or r.limit % unit or (not r.precise and (1024 * 1024) % r.limit):
            raise TgError(400, "LIMIT_INVALID")
        if r.offset < 0 or r.offset % unit:
            raise TgError(400, "OFFSET_INVALID")
        if not r.precise and r.offset // (1024 * 1024) != (r.offset + r.limit - 1) // (1024 * 1024):
            raise TgError(400, "LIMIT_INVALID")
        return types.upload.File(
            type=types.storage.FileUnknown(), mtime=int(self.now()),
            bytes=stored.data[r.offset:r.offset + r.limit],
        )

    # ---------------------------------------------------------------- bot settings

    def _scope_key(self, scope: Any) -> tuple:
        if isinstance(scope, type):
            return (scope.__name__,)
        peer = getattr(scope, "peer", None)
        user_id = getattr(scope, "user_id", None)
        key = [type(scope).__name__]
        if peer is not None:
            key.append(getattr(peer, "user_id", None) or getattr(peer, "chat_id", None)
                       or getattr(peer, "channel_id", None))
        if user_id is not None:
            key.append(getattr(user_id, "user_id", user_id))
        return tuple(key)

    def _rq_SetBotCommandsRequest(self, sender, r):
        if not _LANG_RE.match(r.lang_code or ""):
            raise TgError(400, "LANG_CODE_INVALID")
        if len(r.commands) > self.limits.commands_max:
            raise TgError(400, "BOT_COMMANDS_TOO_MUCH")
        for cmd in r.commands:
            if not _COMMAND_RE.match(cmd.command):
                raise TgError(400, "BOT_COMMAND_INVALID")
            if not 1 <= len(cmd.description) <= 256:
                raise TgError(400, "BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(r.scope), r.lang_code or "")
        if r.commands:
            self.commands[key] = [(c.command, c.description) for c in r.commands]
        else:
            self.commands.pop(key, None)
        return True

    def _rq_ResetBotCommandsRequest(self, sender, r):
        self.commands.pop((self._scope_key(r.scope), r.lang_code or ""), None)
        return True

    def _rq_GetBotCommandsRequest(self, sender, r):
        found = self.commands.get((self._scope_key(r.scope), r.lang_code or "")) or []
        return [types.BotCommand(command=c, description=d) for c, d in found]

    def _rq_SetBotInfoRequest(self, sender, r):
        if not _LANG_RE.match(r.lang_code or ""):
            raise TgError(400, "LANG_CODE_INVALID")
        info = self.bot_info.setdefault(r.lang_code or "", {})
        for field in ("name", "about", "description"):
            value = getattr(r, field)
            if value is not None:
                info[field] = value
        return True

    def _rq_GetBotInfoRequest(self, sender, r):
        info = self.bot_info.get(r.lang_code or "", {})
        return types.bots.BotInfo(
            name=info.get("name") or self.bot.first_name, about=info.get("about") or "",
            description=info.get("description") or "",
        )

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

    # ================================================================= user-side actions
    # These model what a Telegram *client* does; SimUser wraps them and then settles.

    def user_sends(
        self, user: UserRecord, items: list[dict], *, reply_to: Optional[int] = None,
    ) -> list[Any]:
        """The user sends one message (or an album when ``items`` has several) to the bot."""
        if user.blocked:  # Telegram's "Restart bot" unblocks before sending
            self.user_blocks(user, blocked=False)
        user.started = True
        grouped_id = self._rand63() if len(items) > 1 else None
        header = types.MessageReplyHeader(reply_to_msg_id=reply_to) if reply_to else None
        updates, msgs = [], []
        for item in items:
            text = item.get("text") or ""
            entities = item.get("entities")
            if entities is None:
                entities = _command_entities(text)
            msg = types.Message(
                id=self._next_msg_id(), peer_id=user.peer, from_id=user.peer, date=self._date(),
                message=text, media=item.get("media"), entities=entities or None, grouped_id=grouped_id,
                reply_to=header,
            )
            updates.append(self._store(user, msg, outgoing=False))
            msgs.append(msg)
        self._push(updates, [user])
        return msgs

    def user_presses(self, user: UserRecord, msg_id: int, data: bytes) -> CallbackRecord:
        query = CallbackRecord(
            query_id=self._rand63(), user_id=user.id, msg_id=msg_id, data=data, created=self.now(),
        )
        self.callback_queries[query.query_id] = query
        chat = self.chat(user.id)
        self._push([types.UpdateBotCallbackQuery(
            query_id=query.query_id, user_id=user.id, peer=user.peer, msg_id=msg_id,
            chat_instance=chat.chat_instance, data=data,
        )], [user])
        return query

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

    def user_blocks(self, user: UserRecord, *, blocked: bool = True) -> None:
        if user.blocked == blocked:
            return
        user.blocked = blocked
        update = self._log_qts(types.UpdateBotStopped(user_id=user.id, date=self._date(), stopped=blocked, qts=0))
        self._push([update], [user])

    # ================================================================= settling

    async def settle(self, *, since: Optional[set] = None, timeout: Optional[float] = None) -> None:
        """Wait until the bot has finished reacting.

        Quiescent means: every delivery scheduled towards a connected client has run, each
        client's update loop is parked on an empty queue, Telethon's per-update handler tasks
        (``client._event_handler_tasks``) are done, transient Telethon tasks (``AlbumHack``'s
        delayed album delivery, the ``answer()`` task ``CallbackQuery.Event.edit`` starts) are
        done, and — when ``since`` (a set of tasks alive before the action) is given — every task
        created after it has finished too, so fire-and-forget work the bot started is awaited.
        Tasks passed to :meth:`ignore_task` and the clients' update/keepalive loops are never
        waited for. Raises :class:`SettleTimeout` if this does not happen within ``timeout``
        seconds, and :class:`BotHandlerError` if a handler raised meanwhile.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.settle_timeout if timeout is None else timeout)
        current = asyncio.current_task()
        quiet = spins = 0
        while True:
            senders = [s for s in self._senders if s.is_connected()]
            pending = self._pending_tasks(senders, since, current)
            busy = bool(pending) or any(not s._idle() for s in senders)
            if not busy:
                quiet += 1
                if quiet >= 3:
                    break
                await asyncio.sleep(0)
                continue
            quiet = 0
            remaining = deadline - loop.time()
            if remaining <= 0:
                names = ", ".join(_task_name(t) for t in pending) or "update delivery"
                raise SettleTimeout(
                    f"the bot did not settle within the timeout; still running: {names} "
                    "(long-lived tasks started during an action can be excused with telegram.ignore_task)"
                )
            if pending:
                await asyncio.wait(pending, timeout=min(remaining, 0.05), return_when=asyncio.FIRST_COMPLETED)
            else:  # e.g. a possible gap Telethon waits 0.5 s on: poll without spinning the CPU
                spins += 1
                await asyncio.sleep(0 if spins < 50 else 0.005)
        if self._handler_errors:
            errors, self._handler_errors = self._handler_errors, []
            raise BotHandlerError(errors) from errors[0]

    def _pending_tasks(self, senders: list, since: Optional[set], current: Any) -> list:
        handler_tasks = set()
        long_lived = set()
        for s in senders:
            handler_tasks.update(s._client._event_handler_tasks)
            long_lived.update(t for t in (s._client._updates_handle, s._client._keepalive_handle) if t)
        out = []
        for task in asyncio.all_tasks():
            if task is current or task.done() or task in long_lived or task in self._ignored_tasks:
                continue
            if _parked_getter(task):
                continue
            if task in handler_tasks or _task_qualname(task) in _TRANSIENT_TELETHON:
                out.append(task)
            elif since is not None and task not in since:
                out.append(task)
        return out


_TRANSIENT_TELETHON = {"AlbumHack.deliver_event", "CallbackQuery.Event.answer", "TelegramBaseClient._disconnect_coro"}


def _task_qualname(task: "asyncio.Task") -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", "") or ""


def _task_name(task: "asyncio.Task") -> str:
    return f"{task.get_name()}<{_task_qualname(task) or task.get_coro()!r}>"


def _parked_getter(task: "asyncio.Task") -> bool:
    from .client import _UpdatesQueue  # late import: client imports server

    coro = task.get_coro()
    return getattr(coro, "cr_code", None) is _UpdatesQueue.get.__code__


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None or a == [] or b == []:
        return (a or None) is None and (b or None) is None
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(bytes(x) == bytes(y) for x, y in zip(a, b))
    return bytes(a) == bytes(b)


def _command_entities(text: str) -> list:
    """Telegram marks a leading ``/command`` (and ``/command@bot``) with a bot-command entity."""
    m = re.match(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)", text)
    if not m:
        return []
    return [types.MessageEntityBotCommand(offset=0, length=utf16_len(m.group(0)))]


def _image_size(data: bytes) -> tuple[int, int]:
    if _PILImage is None:  # pragma: no cover - Pillow is a dependency of the project
        return 512, 512
    try:
        with _PILImage.open(io.BytesIO(data)) as img:
            img.verify()
            return img.size
    except Exception:
        return 0, 0
