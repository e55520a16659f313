"""``SimUser``: a Telegram user talking to the bot, for readable tests.

Every action (``send``, ``press``, ``pay`` …) does what a Telegram client would make the server
do — store the user's message and push ``UpdateNewMessage``, push ``UpdateBotCallbackQuery`` … —
and then **settles**: it waits until the bot has finished reacting (see
:meth:`FakeTelegram.settle`: deliveries done, update loop idle, Telethon's handler tasks and every
task created during the action finished). So a test can assert right after ``await``.

The readers (``messages``, ``last``, ``panel``, ``buttons``) show the chat as the server keeps it:
edits applied, deleted messages gone, message ids as the *bot* numbers them (a real user's client
has its own ids for the same messages; the simulator does not model the user's side).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import mimetypes
import re
from typing import Any, Callable, Iterable, Optional, Union

from telethon.tl import types

from .errors import TgError
from .files import _PILImage
from .records import InvoiceRecord, PaymentRecord, StoredMessage, UserRecord
from .server import FakeTelegram

_DEEP_LINK_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MessageRef = Union["SeenMessage", int, None]


@dataclasses.dataclass(frozen=True)
class SeenButton:
    text: str
    kind: str  # "callback" | "url" | "buy" | "switch_inline" | "game" | "keyboard" | "other"
    row: int
    col: int
    data: Optional[bytes] = None
    url: Optional[str] = None


def _button(raw: Any, row: int, col: int) -> SeenButton:
    kind = getattr(raw, "type", None)
    if isinstance(raw, types.KeyboardButton):
        return SeenButton(raw.text, "keyboard", row, col)
    if isinstance(kind, types.InlineButtonTypeCallback):
        return SeenButton(raw.text, "callback", row, col, data=kind.data)
    if isinstance(kind, types.InlineButtonTypeUrl):
        return SeenButton(raw.text, "url", row, col, url=kind.url)
    if isinstance(kind, types.InlineButtonTypeBuy):
        return SeenButton(raw.text, "buy", row, col)
    if isinstance(kind, types.InlineButtonTypeSwitchInline):
        return SeenButton(raw.text, "switch_inline", row, col)
    if isinstance(kind, types.InlineButtonTypeGame):
        return SeenButton(raw.text, "game", row, col)
    return SeenButton(getattr(raw, "text", ""), "other", row, col)


class SeenMessage:
    """A read-only view of one message in the chat (``raw`` is the TL message)."""

    def __init__(self, telegram: FakeTelegram, stored: StoredMessage):
        self._telegram = telegram
        self._stored = stored

    # identity and content
    @property
    def id(self) -> int:
        return self._stored.id

    @property
    def raw(self) -> Any:
        return self._stored.msg

    @property
    def from_bot(self) -> bool:
        return self._stored.outgoing

    @property
    def deleted(self) -> bool:
        return self._stored.deleted

    @property
    def is_service(self) -> bool:
        return isinstance(self.raw, types.MessageService)

    @property
    def action(self) -> Any:
        return getattr(self.raw, "action", None) if self.is_service else None

    @property
    def text(self) -> str:
        return "" if self.is_service else (self.raw.message or "")

    @property
    def entities(self) -> list:
        return list(getattr(self.raw, "entities", None) or [])

    @property
    def edited(self) -> bool:
        return bool(self._stored.versions)

    @property
    def versions(self) -> list:
        """Earlier versions of the message (TL objects), oldest first."""
        return list(self._stored.versions)

    @property
    def grouped_id(self) -> Optional[int]:
        return getattr(self.raw, "grouped_id", None)

    @property
    def reply_to_msg_id(self) -> Optional[int]:
        header = getattr(self.raw, "reply_to", None)
        return getattr(header, "reply_to_msg_id", None)

    # buttons
    @property
    def button_rows(self) -> list[list[SeenButton]]:
        markup = getattr(self.raw, "reply_markup", None)
        rows = getattr(markup, "rows", None) or []
        return [[_button(b, r, c) for c, b in enumerate(row.buttons)] for r, row in enumerate(rows)]

    @property
    def has_inline_keyboard(self) -> bool:
        return isinstance(getattr(self.raw, "reply_markup", None), types.ReplyInlineMarkup)

    @property
    def buttons(self) -> list[str]:
        """Button labels, row by row, flattened."""
        return [b.text for row in self.button_rows for b in row]

    def button(self, label: str) -> SeenButton:
        """The button whose label is ``label``; if none is, the only one *containing* it
        (case-insensitively), so ``"Generate"`` finds ``"🎨 Generate"``."""
        flat = [b for row in self.button_rows for b in row]
        exact = [b for b in flat if b.text == label]
        if exact:
            return exact[0]
        loose = [b for b in flat if label.casefold() in b.text.casefold()]
        if len(loose) == 1:
            return loose[0]
        what = "is ambiguous" if loose else "not found"
        raise LookupError(f"button {label!r} {what} in message {self.id}; buttons: {[b.text for b in flat]}")

    # media
    @property
    def media_kind(self) -> Optional[str]:
        media = getattr(self.raw, "media", None)
        if isinstance(media, types.MessageMediaPhoto):
            return "photo"
        if isinstance(media, types.MessageMediaDocument):
            return "document"
        if isinstance(media, types.MessageMediaInvoice):
            return "invoice"
        return None if media is None else type(media).__name__

    @property
    def file(self) -> Optional[bytes]:
        """The photo's or document's bytes as stored by the server."""
        media = getattr(self.raw, "media", None)
        return self._telegram.file_bytes(media) if media is not None else None

    @property
    def file_name(self) -> Optional[str]:
        doc = getattr(getattr(self.raw, "media", None), "document", None)
        for attr in getattr(doc, "attributes", None) or []:
            if isinstance(attr, types.DocumentAttributeFilename):
                return attr.file_name
        return None

    @property
    def mime_type(self) -> Optional[str]:
        doc = getattr(getattr(self.raw, "media", None), "document", None)
        return getattr(doc, "mime_type", None)

    @property
    def invoice(self) -> Optional[InvoiceRecord]:
        return next((i for i in self._telegram.invoices if i.msg_id == self.id), None)

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        body = type(self.action).__name__ if self.is_service else repr(self.text[:60])
        extra = f" media={self.media_kind}" if self.media_kind else ""
        extra += f" buttons={self.buttons}" if self.buttons else ""
        return f"<SeenMessage {self.id} from {who}: {body}{extra}>"


@dataclasses.dataclass
class CallbackAnswer:
    """What the user's client got back for a button press."""

    query_id: int
    answered: bool  # False: the bot never called messages.setBotCallbackAnswer (endless spinner)
    message: Optional[str] = None  # the toast / alert text
    alert: bool = False
    url: Optional[str] = None
    cache_time: int = 0


@dataclasses.dataclass
class PayResult:
    ok: bool
    error: Optional[str] = None  # the bot's pre-checkout error, or "no pre-checkout answer"
    charge_id: Optional[str] = None
    message_id: Optional[int] = None  # the MessageActionPaymentSentMe service message
    payment: Optional[PaymentRecord] = None
    query_id: Optional[int] = None


class SimUser:
    """A user of the bot. All actions are coroutines: the bot runs on the same event loop."""

    def __init__(
        self, telegram: FakeTelegram, first_name: str = "Test", *, user_id: Optional[int] = None,
        username: Optional[str] = None, last_name: Optional[str] = None, lang_code: Optional[str] = "en",
    ):
        self.telegram = telegram
        self.record: UserRecord = telegram.add_user(
            first_name, user_id=user_id, username=username, last_name=last_name, lang_code=lang_code,
        )
        self.id = self.record.id

    def __repr__(self) -> str:
        return f"<SimUser {self.id} {self.record.first_name!r}>"

    async def _act(self, fn: Callable[[], Any], *, timeout: Optional[float] = None) -> Any:
        before = set(asyncio.all_tasks())
        result = fn()
        await self.telegram.settle(since=before, timeout=timeout)
        return result

    def _seen(self, msg: Any) -> SeenMessage:
        return SeenMessage(self.telegram, self.telegram.message(msg.id))

    # ------------------------------------------------------------------ sending

    async def send(self, text: str, *, reply_to: MessageRef = None, entities: Optional[list] = None) -> SeenMessage:
        """Send a text message (``/commands`` get Telegram's bot-command entity)."""
        if not text or not text.strip():
            raise ValueError("Telegram clients do not send empty messages")
        if len(text) > self.telegram.limits.text_max:
            raise ValueError("longer than Telegram's message limit; a client would split it")
        item = {"text": text, "entities": entities}
        msgs = await self._act(lambda: self.telegram.user_sends(self.record, [item], reply_to=_msg_id(reply_to)))
        return self._seen(msgs[0])

    async def start(self, payload: Optional[str] = None) -> SeenMessage:
        """Open the bot, optionally through a deep link ``t.me/<bot>?start=<payload>``."""
        if payload is None:
            return await self.send("/start")
        if not _DEEP_LINK_RE.match(payload):
            raise ValueError("deep-link payloads are 1-64 characters of A-Z a-z 0-9 _ -")
        return await self.send(f"/start {payload}")

    async def send_photo(self, data: bytes, caption: str = "", *, reply_to: MessageRef = None) -> SeenMessage:
        item = {"text": caption, "media": self._photo_media(data), "entities": []}
        msgs = await self._act(lambda: self.telegram.user_sends(self.record, [item], reply_to=_msg_id(reply_to)))
        return self._seen(msgs[0])

    async def send_document(
        self, data: bytes, name: str = "file.bin", mime: Optional[str] = None, caption: str = "",
        *, reply_to: MessageRef = None,
    ) -> SeenMessage:
        item = {"text": caption, "media": self._document_media(data, name, mime), "entities": []}
        msgs = await self._act(lambda: self.telegram.user_sends(self.record, [item], reply_to=_msg_id(reply_to)))
        return self._seen(msgs[0])

    async def send_sticker(self, data: bytes, emoji: str = "🍌") -> SeenMessage:
        """A static sticker as Telegram delivers it: an ``image/webp`` document with
        ``DocumentAttributeSticker`` (plus image size and ``sticker.webp`` file name)."""
        attributes: list = [types.DocumentAttributeSticker(alt=emoji, stickerset=types.InputStickerSetEmpty()),
                            types.DocumentAttributeFilename("sticker.webp")]
        if _PILImage is not None:
            try:
                with _PILImage.open(io.BytesIO(data)) as img:
                    attributes.insert(0, types.DocumentAttributeImageSize(*img.size))
            except Exception:
                pass
        return await self._send_file(data, "image/webp", attributes)

    async def send_voice(self, data: bytes, duration: int = 3) -> SeenMessage:
        """A voice message: an ``audio/ogg`` document with ``DocumentAttributeAudio(voice=True)``."""
        return await self._send_file(data, "audio/ogg", [types.DocumentAttributeAudio(duration=duration, voice=True)])

    async def send_video(self, data: bytes, duration: float = 5, w: int = 320, h: int = 240, *,
                         round_message: bool = False, caption: str = "") -> SeenMessage:
        """A video (or a round video note): a ``video/mp4`` document with ``DocumentAttributeVideo``."""
        attributes: list = [types.DocumentAttributeVideo(duration=duration, w=w, h=h, round_message=round_message,
                                                         supports_streaming=True)]
        if not round_message:
            attributes.append(types.DocumentAttributeFilename("video.mp4"))
        return await self._send_file(data, "video/mp4", attributes, caption)

    async def _send_file(self, data: bytes, mime: str, attributes: list, caption: str = "") -> SeenMessage:
        media = types.MessageMediaDocument(document=self.telegram.make_document(data, mime, attributes).tl)
        item = {"text": caption, "media": media, "entities": []}
        msgs = await self._act(lambda: self.telegram.user_sends(self.record, [item]))
        return self._seen(msgs[0])

    async def send_album(self, items: Iterable[Any], caption: str = "") -> list[SeenMessage]:
        """Send 2-10 photos (``bytes``) or documents (``(bytes, name, mime)``) as one album,
        in one ``Updates`` container as Telegram does; the caption goes on the first item."""
        items = list(items)
        if not 2 <= len(items) <= self.telegram.limits.album_max:
            raise ValueError("an album has 2-10 items")
        if len({isinstance(i, (bytes, bytearray)) for i in items}) > 1:
            raise ValueError("photos and documents cannot be mixed in one album")
        prepared = []
        for n, item in enumerate(items):
            media = (self._photo_media(bytes(item)) if isinstance(item, (bytes, bytearray))
                     else self._document_media(*item))
            prepared.append({"text": caption if n == 0 else "", "media": media, "entities": []})
        msgs = await self._act(lambda: self.telegram.user_sends(self.record, prepared))
        return [self._seen(m) for m in msgs]

    def _photo_media(self, data: bytes) -> types.MessageMediaPhoto:
        try:
            return types.MessageMediaPhoto(photo=self.telegram.make_photo(data).tl)
        except TgError as e:
            raise ValueError(f"Telegram would refuse this photo: {e.message}") from None

    def _document_media(self, data: bytes, name: str, mime: Optional[str] = None) -> types.MessageMediaDocument:
        mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
        attributes: list = [types.DocumentAttributeFilename(name)]
        if mime.startswith("image/") and _PILImage is not None:
            try:
                with _PILImage.open(io.BytesIO(data)) as img:
                    attributes.insert(0, types.DocumentAttributeImageSize(*img.size))
            except Exception:
                pass
        return types.MessageMediaDocument(document=self.telegram.make_document(data, mime, attributes).tl)

    # ------------------------------------------------------------------ buttons

    async def press(self, label: str, *, message: MessageRef = None) -> Union[CallbackAnswer, PayResult]:
        """Press the inline button labelled ``label`` on ``message`` (default: the panel).

        A callback button sends ``UpdateBotCallbackQuery`` and returns the bot's answer; a buy
        button on an invoice runs :meth:`pay` and returns its :class:`PayResult`.
        """
        msg = self._message(message) if message is not None else self.panel
        if msg is None:
            raise LookupError(f"no message with inline buttons in the chat with {self!r}")
        button = msg.button(label)
        if button.kind == "callback":
            return await self.press_data(button.data, message=msg)
        if button.kind == "buy":
            return await self.pay(msg)
        raise ValueError(f"{button.text!r} is a {button.kind} button; nothing is sent to the bot"
                         + (f" (url: {button.url})" if button.url else ""))

    async def press_data(self, data: Union[bytes, str], *, message: MessageRef = None) -> CallbackAnswer:
        """Send a callback query with arbitrary ``data`` for ``message`` (default: the panel).

        Real Telegram refuses data that is not on one of the message's buttons (DATA_INVALID), so
        this models a stale or forged query — useful to prove handlers re-check everything.
        """
        if isinstance(data, str):
            data = data.encode()
        if message is None:
            panel = self.panel
            if panel is None:
                raise LookupError("no panel to press on; pass message=")
            msg_id = panel.id
        else:
            msg_id = _msg_id(message)
        query = await self._act(lambda: self.telegram.user_presses(self.record, msg_id, data))
        return CallbackAnswer(query.query_id, query.answered, query.message, query.alert, query.url, query.cache_time)

    # ------------------------------------------------------------------ payments

    async def pay(
        self, invoice: Union[MessageRef, str] = None, *, replays: int = 1, together: bool = False,
    ) -> PayResult:
        """Pay an invoice: the bot gets ``UpdateBotPrecheckoutQuery``; if it answers ``success``,
        Telegram charges the Stars and the bot gets the ``MessageActionPaymentSentMe`` service
        message. ``replays`` delivers that same service message (same charge id) that many times,
        each with its own pts, one after another — or all in one container, dispatched
        concurrently, with ``together=True``. ``invoice`` is an invoice message (or its id), an
        exported invoice link, or ``None`` for the latest invoice in the chat.
        """
        inv = self._invoice(invoice)
        if inv.msg_id is not None and inv.charge_ids:
            raise ValueError(f"invoice message {inv.msg_id} is already paid (its button shows a receipt)")
        query = await self._act(lambda: self.telegram.user_precheckout(self.record, inv))
        if not query.answered:
            query.expired = True
            return PayResult(ok=False, error="no pre-checkout answer", query_id=query.query_id)
        if not query.ok:
            return PayResult(ok=False, error=query.error, query_id=query.query_id)
        payment, msg = self.telegram.user_payment_succeeds(self.record, inv)
        if together:
            await self._act(lambda: self.telegram.deliver_service(self.record, msg, times=replays))
        else:
            for _ in range(replays):
                await self._act(lambda: self.telegram.deliver_service(self.record, msg, times=1))
        return PayResult(ok=True, charge_id=payment.charge_id, message_id=msg.id, payment=payment,
                         query_id=query.query_id)

    async def refund_externally(self, charge_id: str) -> None:
        """Telegram refunds a payment without the bot asking (``MessageActionPaymentRefunded``)."""
        await self._act(lambda: self.telegram.user_refund_external(charge_id))

    def _invoice(self, ref: Union[MessageRef, str]) -> InvoiceRecord:
        tg = self.telegram
        if isinstance(ref, str):
            slug = ref.rsplit("$", 1)[-1]
            found = next((i for i in tg.invoices if i.slug == slug), None)
            if found is None:
                raise LookupError(f"no exported invoice {ref!r}")
            return found
        if ref is None:
            mine = [i for i in tg.invoices if i.user_id == self.id and i.msg_id is not None
                    and not tg.message(i.msg_id).deleted]
            if not mine:
                raise LookupError(f"the bot sent no invoice to {self!r}")
            return mine[-1]
        msg_id = _msg_id(ref)
        found = next((i for i in tg.invoices if i.msg_id == msg_id), None)
        if found is None:
            raise LookupError(f"message {msg_id} is not an invoice")
        return found

    # ------------------------------------------------------------------ blocking

    async def block_bot(self) -> None:
        """Block the bot (the bot gets ``UpdateBotStopped(stopped=True)``; sends fail with
        USER_IS_BLOCKED). Sending a message later unblocks it, like the "Restart" button."""
        await self._act(lambda: self.telegram.user_blocks(self.record, blocked=True))

    async def unblock_bot(self) -> None:
        await self._act(lambda: self.telegram.user_blocks(self.record, blocked=False))

    # ------------------------------------------------------------------ reading

    def _message(self, ref: MessageRef) -> SeenMessage:
        stored = self.telegram.message(_msg_id(ref))
        if stored is None or self.telegram._msg_index[stored.id][0] != self.id:
            raise LookupError(f"message {_msg_id(ref)} is not in the chat with {self!r}")
        return SeenMessage(self.telegram, stored)

    @property
    def history(self) -> list[SeenMessage]:
        """Every message in the chat, both directions and service messages, oldest first."""
        return [SeenMessage(self.telegram, s) for s in self.telegram.chat_messages(self.id)]

    @property
    def messages(self) -> list[SeenMessage]:
        """What the bot shows: its (non-deleted, non-service) messages, newest last."""
        return [m for m in self.history if m.from_bot and not m.is_service]

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]

    @property
    def last(self) -> Optional[SeenMessage]:
        msgs = self.messages
        return msgs[-1] if msgs else None

    @property
    def panel(self) -> Optional[SeenMessage]:
        """The latest bot message that has an inline keyboard."""
        return next((m for m in reversed(self.messages) if m.has_inline_keyboard), None)

    def buttons(self, message: MessageRef = None) -> list[str]:
        """Button labels of ``message`` (default: the panel); ``[]`` if there is none."""
        msg = self._message(message) if message is not None else self.panel
        return msg.buttons if msg else []

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return [CallbackAnswer(q.query_id, q.answered, q.message, q.alert, q.url, q.cache_time)
                for q in self.telegram.callback_queries.values() if q.user_id == self.id]

    @property
    def payments(self) -> list[PaymentRecord]:
        return [p for p in self.telegram.payments.values() if p.user_id == self.id]

    @property
    def chat_actions(self) -> list[str]:
        return [a for _, uid, a in self.telegram.chat_actions if uid == self.id]


def _msg_id(ref: MessageRef) -> Optional[int]:
    if ref is None:
        return None
    if isinstance(ref, SeenMessage):
        return ref.id
    if isinstance(ref, int):
        return ref
    return getattr(ref, "id")
