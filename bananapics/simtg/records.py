"""What the simulated Telegram keeps: users, chats, messages, files, invoices, payments, queries."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from telethon.tl import types


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
    random_ids: set = dataclasses.field(default_factory=set)  # of the bot's messages sent here (dedup)


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
    user_id: Optional[int] = None  # only requests towards this user's chat


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
