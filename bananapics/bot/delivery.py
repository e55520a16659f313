"""The delivery loop: sends what workers left in the outbox, under Telegram's limits.

Runs in the bot process. Due rows are claimed (pending → sending, with a lock) into a bounded pool
of chats in flight (``MAX_CHATS``): each chat's rows are sent in order by one task while different
chats proceed concurrently, and as soon as one chat is done its place is claimed again, so a slow
chat (a slow network path, a long upload) never holds back the others — there is no batch that
waits for its slowest chat. A chat in flight gets no new rows until it is done (``claim(skip_chats=)``).
Every message goes through the one :class:`~bananapics.bot.ratelimit.SendLimiter` the bot shares
with its other sends (global and per-chat pacing, each send counted until its answer is back), so the
pool's size never changes the rate; a user's panels and invoices go before results, results before a
broadcast's messages (``priority``).

A row is a list of :class:`Part` s (an album of photos, an album of full-quality files, a closing
text). After each part Telegram accepted, ``parts_sent`` is stored on the row, so a FloodWait or a
crash in the middle resumes with the next part: no photo arrives twice. Each message is sent with a
``random_id`` fixed by the row (``outbox.random_id``, stored at its first claim, :func:`message_ids`):
a part Telegram accepted just before a crash, a timeout or a lost answer (``parts_sent`` not stored
yet) goes again with the same ids after the restart, and Telegram's ``RANDOM_ID_DUPLICATE`` counts
as sent — the user sees each message once.

* FloodWait: a short one (≤ 3 s, the per-chat pace) pauses that chat; a longer one pauses every
  chat (Telethon itself then refuses every request of that type until it is over). The row goes
  back to pending without using up an attempt, and the chat's other rows wait with it (those not
  claimed yet too: ``outbox.release_chat``), so none overtakes it.
* A user who blocked the bot is marked (``users.blocked_bot``) and their rows are given up without a
  request until they write to the bot again (``UpdateBotStopped`` or any message clears it).
* Other errors (network, Telegram 5xx …) retry the row with backoff, dead after a few attempts. An
  image no longer in storage is left out (retrying cannot bring it back); the rest still go.
* A row's images start uploading together when the row starts (at most ``UPLOADS_AT_ONCE`` per
  client), so the files go up while the photos are sent; rows that need the same image at the same
  moment share one upload (:func:`file_ref`).
* Images are uploaded once: the file reference Telegram returns is kept per storage key
  (``tg_files``) and later sends (a retry, a history re-send) send by reference. A reference that is
  no longer accepted (``FILE_REFERENCE_EXPIRED``, ``MEDIA_EMPTY`` …) is dropped and the image is
  uploaded again once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telethon import TelegramClient, errors, events, functions, helpers, types, utils

from bananapics import i18n, metrics
from bananapics.bot.progress import outcome_buttons
from bananapics.bot.ratelimit import BULK, RESULTS, SendLimiter
from bananapics.bot.ui import excerpt
from bananapics.images import MAX_PIXELS, describe, prepare_reference
from bananapics.models import Outbox
from bananapics.services import jobs, outbox, pricing, tgfiles, users
from bananapics.services.tgfiles import FileRef
from bananapics.storage import ObjectNotFound

log = logging.getLogger(__name__)

GLOBAL_FLOOD_S = 3  # Telethon forgets flood waits up to 3 s; longer ones block the request type for all chats
ALBUM_MAX = 10
PHOTO_SIDE = 2560  # what Telethon downscales photos to; Telegram recompresses photos anyway
PHOTO_MAX_BYTES = 10 * 1024 * 1024
# Telegram no longer accepts a cached reference (expired, another bot account, a wiped server …).
_STALE_MEDIA = (errors.FileReferenceExpiredError, errors.FileReferenceInvalidError, errors.FileReferenceEmptyError,
                errors.MediaEmptyError, errors.MediaInvalidError)
_MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


# Outbox kinds owned by feature modules (``bananapics.bot.payments``…): kind → parts(row, user),
# run in a thread. They register themselves; job results and plain notices are handled below.
PARTS: dict[str, Callable[[Outbox, Any], list["Part"]]] = {}


@dataclass
class Part:
    """One Telegram request of a row: a text message (no ``keys``) or an album of stored images."""

    text: str = ""
    keys: tuple[str, ...] = ()
    as_document: bool = False
    buttons: Any = None


# ------------------------------------------------------------------ what a row says (texts, buttons)


def _albums(keys: list[str], caption: str, *, as_document: bool) -> list[Part]:
    chunks = [tuple(keys[i:i + ALBUM_MAX]) for i in range(0, len(keys), ALBUM_MAX)]
    return [Part(caption if n == 0 else "", chunk, as_document) for n, chunk in enumerate(chunks)]


def row_parts(row: Outbox, storage: Any = None) -> list[Part] | None:
    """The messages one outbox row becomes, in order; None while its user has blocked the bot (runs
    in a thread: it reads the database). With ``storage``, the closing text of a result counts only
    the images that can still be sent (Telegram has them, or storage does) and says how many could not."""
    user = users.get_by_id(row.user_id)
    if user.blocked_bot:
        return None
    if row.kind in PARTS:
        return PARTS[row.kind](row, user)
    lang = user.language
    data = row.data
    menu = outcome_buttons(lang, row.kind, row.job_id)
    if row.kind == "job_result":
        job = jobs.get(row.job_id)
        keys = list(data["images"])
        lost = sum(not _sendable(storage, key) for key in keys) if storage is not None else 0
        caption = i18n.t(lang, "result-caption", model=_model_name(job.model), prompt=excerpt(job.prompt, 300))[:1024]
        if data.get("resend"):  # a history re-send: nothing new was made or charged
            text = i18n.t(lang, "history-resent-done", count=len(keys) - lost)
        else:
            text = i18n.t(lang, "result-done", count=len(keys) - lost, cost=job.cost - data.get("refunded", 0))
        if data.get("refunded") and not data.get("resend"):
            text += "\n" + i18n.t(lang, "result-partial", got=len(keys), asked=data.get("requested", len(keys)),
                                  refund=data["refunded"])
        if lost:  # gone from storage (retention, a wiped disk) before Telegram ever had it
            text += "\n" + i18n.t(lang, "result-lost", count=lost)
        return [*_albums(keys, caption, as_document=False),
                *_albums(keys, i18n.t(lang, "result-files"), as_document=True),
                Part(text, buttons=menu)]
    if row.kind == "job_failed":
        lines = [i18n.t(lang, "fail-title"), i18n.t(lang, i18n.provider_error_key(data.get("reason")))]
        if data.get("refunded"):
            lines.append(i18n.t(lang, "fail-refund", tokens=data["refunded"]))
        return [Part("\n".join(lines), buttons=menu)]
    return [Part(str(data.get("text", "")))]


def _sendable(storage: Any, key: str) -> bool:
    """Telegram has the image already (a photo or file sent before), or storage still holds it."""
    return tgfiles.known(key) or storage.exists(key)


def _model_name(model_id: str) -> str:
    """What users call the model ("SeeDream 4"), not its id; the id if the model was deleted."""
    model = pricing.find_model(model_id)
    return model.name if model is not None else model_id


# ------------------------------------------------------------------ sending mechanics


def _photo_bytes(data: bytes) -> bytes:
    """What goes up as the photo: JPEG and PNG within Telegram's limits (10 MB, ≤ 2560 px here) as they
    are; anything else (WEBP, which Telegram clients show as a sticker-like file, or too large) becomes
    a JPEG of at most 2560 px. The full-quality file is sent untouched as a document."""
    try:
        mime, width, height = describe(data)
    except Exception:  # noqa: BLE001 - let Telegram judge what Pillow cannot read
        return data
    if mime in ("image/jpeg", "image/png") and len(data) <= PHOTO_MAX_BYTES and max(width, height) <= PHOTO_SIDE:
        return data
    # a provider output (up to 4K), not an upload: the header cap alone bounds it
    return prepare_reference(data, max_bytes=8 * PHOTO_MAX_BYTES, max_side=PHOTO_SIDE, max_decode=2 * MAX_PIXELS).data


def _input_media(kind: str, ref: FileRef) -> Any:
    if kind == "photo":
        return types.InputMediaPhoto(types.InputPhoto(ref.media_id, ref.access_hash, ref.file_reference))
    return types.InputMediaDocument(types.InputDocument(ref.media_id, ref.access_hash, ref.file_reference))


async def upload(client: TelegramClient, storage: Any, chat_id: int, key: str, kind: str) -> FileRef:
    """Upload one stored image as a photo or a document and remember Telegram's reference to it."""
    data = await asyncio.to_thread(storage.get, key)
    ext = key.rsplit(".", 1)[-1].lower()
    name = "bananapics-" + key.replace("/", "-").removeprefix("jobs-")
    if kind == "photo":
        data = await asyncio.to_thread(_photo_bytes, data)
        media: Any = types.InputMediaUploadedPhoto(file=await client.upload_file(data, file_name=name))
    else:
        media = types.InputMediaUploadedDocument(
            file=await client.upload_file(data, file_name=name), mime_type=_MIME.get(ext, "application/octet-stream"),
            attributes=[types.DocumentAttributeFilename(name)], force_file=True)
    result = await client(functions.messages.UploadMediaRequest(peer=chat_id, media=media))
    obj = result.photo if kind == "photo" else result.document
    ref = FileRef(obj.id, obj.access_hash, bytes(obj.file_reference))
    await asyncio.to_thread(tgfiles.remember, key, kind, ref)
    return ref


# Lookups-or-uploads in progress: (client, storage key, kind) → the task. Everyone who needs an image
# Telegram does not have yet joins the one task, so an image is uploaded once however many rows (a
# result, a history re-send) want it at the same moment.
_FLIGHTS: dict[tuple[int, str, str], "asyncio.Task[FileRef]"] = {}
# How many images one client uploads at once (each holds the image in memory while it goes up). Telethon
# sends an upload's parts one after another, so at 150 ms RTT a 600 KB image takes ~1 s: keeping the send
# limit (~5.6 rows of 4 images a second) busy takes ~25 uploads in flight.
UPLOADS_AT_ONCE = 48
_UPLOAD_SLOTS: "weakref.WeakKeyDictionary[Any, asyncio.Semaphore]" = weakref.WeakKeyDictionary()


async def _lookup_or_upload(client: TelegramClient, storage: Any, chat_id: int, key: str, kind: str) -> FileRef:
    ref = await asyncio.to_thread(tgfiles.get, key, kind)
    if ref is not None:
        return ref
    slots = _UPLOAD_SLOTS.get(client)
    if slots is None:
        slots = _UPLOAD_SLOTS[client] = asyncio.Semaphore(UPLOADS_AT_ONCE)
    async with slots:
        return await upload(client, storage, chat_id, key, kind)


def _landed(flight_key: tuple, done: asyncio.Task) -> None:
    """A flight ended: forget it, and take its error, which the waiters (shielded) may all have
    stopped waiting for — else asyncio logs "Task exception was never retrieved" for it."""
    if _FLIGHTS.get(flight_key) is done:
        del _FLIGHTS[flight_key]
    if not done.cancelled():
        done.exception()


async def file_ref(client: TelegramClient, storage: Any, chat_id: int, key: str, kind: str) -> FileRef:
    """Telegram's reference to a stored image, uploading it first when Telegram does not have it.
    Concurrent callers share one lookup and upload (the flight ends only once the reference is
    stored, so a later caller finds it). Raises ``ObjectNotFound`` when storage lost the image."""
    flight_key = (id(client), key, kind)
    task = _FLIGHTS.get(flight_key)
    if task is None:
        task = asyncio.ensure_future(_lookup_or_upload(client, storage, chat_id, key, kind))
        _FLIGHTS[flight_key] = task
        task.add_done_callback(functools.partial(_landed, flight_key))
    # shielded: one waiter giving up (its row hit a FloodWait) does not stop an upload others may share
    return await asyncio.shield(task)


def _prefetch(client: TelegramClient, storage: Any, chat_id: int, parts: list["Part"]) -> dict:
    """Start looking up (uploading) every image of the parts at once, so the next album's files go
    up while this one is sent: (key, kind) → task."""
    ready: dict = {}
    for part in parts:
        kind = "document" if part.as_document else "photo"
        for key in part.keys:
            if (key, kind) not in ready:
                ready[key, kind] = asyncio.ensure_future(file_ref(client, storage, chat_id, key, kind))
    return ready


async def _media_for(client: TelegramClient, storage: Any, chat_id: int, keys: tuple[str, ...], kind: str,
                     ready: dict | None = None) -> list[tuple[int, Any]]:
    """(position in ``keys``, input media) of each image still to be had, in order."""
    media = []
    for k, key in enumerate(keys):
        task = (ready or {}).pop((key, kind), None)
        try:
            ref = await task if task is not None else await file_ref(client, storage, chat_id, key, kind)
        except ObjectNotFound:  # gone for good (retention, a wiped disk): retrying cannot bring it back
            log.warning("chat %s: %s is no longer in storage; sent without it", chat_id, key)
            continue
        media.append((k, _input_media(kind, ref)))
    return media


def message_ids(seed: int | None, part: int) -> Callable[[int], int]:
    """``random_id`` of the k-th message of a row's part. Fixed by the row's seed (``outbox.random_id``,
    stored when the row is claimed, before any send), so a part sent again after a crash or a lost
    answer carries the same ids and Telegram refuses it (``RANDOM_ID_DUPLICATE``) instead of showing
    it twice. Without a seed (a send that is not an outbox row's) every call is a fresh random id."""
    if seed is None:
        return lambda k: helpers.generate_random_long()

    def random_id(k: int) -> int:
        digest = hashlib.blake2b(f"{seed}:{part}:{k}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True) or 1

    return random_id


async def _invoke(client: TelegramClient, request: Any) -> Any:
    """``request`` sent once, as ``client(request)`` would but without its retry of 5xx answers.

    Telethon sends a request that got a 5xx again by itself (five times, 2 s apart) and then raises a
    bare ``ValueError`` (``TelegramClient._call``; a list of one request too). ``RANDOM_ID_DUPLICATE``
    is such a 500 and means "sent already": it must come back at once, as itself. Every other failure
    the delivery loop retries on its own, with the same random ids. So this does what ``_call`` does
    for one request (resolve the peer, send, keep the entities) on the client's sender — Telethon is
    pinned (1.45.0) for this, as for the simulated Telegram; a client without one is called as usual."""
    sender = getattr(client, "_sender", None)
    if sender is None or not hasattr(sender, "send"):
        return await client(request)
    await request.resolve(client, utils)
    result = await sender.send(request)
    await utils.maybe_async(client.session.process_entities(result))
    return result


def _sent_id(result: Any, random_id: int) -> int | None:
    """The id Telegram gave the message sent with ``random_id`` (from the send's answer)."""
    if isinstance(result, types.UpdateShortSentMessage):
        return result.id
    for update in getattr(result, "updates", ()):
        if isinstance(update, types.UpdateMessageID) and update.random_id == random_id:
            return update.id
    return None


async def _send_media(client: TelegramClient, peer: Any, media: list[tuple[int, Any]], caption: str,
                      ids: Callable[[int], int], buttons: Any = None) -> None:
    if len(media) == 1:  # one photo may carry buttons (a broadcast's URL button); an album cannot
        k, item = media[0]
        await _invoke(client, functions.messages.SendMediaRequest(
            peer=peer, media=item, message=caption, random_id=ids(k),
            reply_markup=client.build_reply_markup(buttons) if buttons else None))
        return
    await _invoke(client, functions.messages.SendMultiMediaRequest(peer=peer, multi_media=[
        types.InputSingleMedia(media=item, random_id=ids(k), message=caption if n == 0 else "")
        for n, (k, item) in enumerate(media)]))


def _stale(exc: errors.RPCError) -> bool:
    # Known errors are classes (their .message is only "BAD_REQUEST"); the per-item album form
    # (FILE_REFERENCE_<n>_EXPIRED) has no class and keeps Telegram's text.
    return isinstance(exc, _STALE_MEDIA) or str(getattr(exc, "message", "")).startswith("FILE_REFERENCE_")


async def _paced_media(client: TelegramClient, limiter: SendLimiter, chat_id: int, peer: Any, media: list,
                       caption: str, ids: Callable[[int], int], buttons: Any, priority: float,
                       since: float | None) -> None:
    async with limiter.send(chat_id, messages=len(media), priority=priority, since=since):
        try:
            await _send_media(client, peer, media, caption, ids, buttons)
        except errors.RandomIdDuplicateError:  # sent before a crash or a lost answer: not shown twice
            log.info("chat %s: Telegram has this album already (RANDOM_ID_DUPLICATE); counted as sent", chat_id)


async def send_images(client: TelegramClient, storage: Any, limiter: SendLimiter, chat_id: int,
                      keys: tuple[str, ...] | list[str], *, caption: str = "", as_document: bool = False,
                      ready: dict | None = None, buttons: Any = None, priority: float = RESULTS,
                      ids: Callable[[int], int] | None = None, peer: Any = None, since: float | None = None) -> None:
    """Send up to 10 stored images as one album (or one photo/file), uploading only those Telegram
    does not know yet (``ready``: lookups already started, see :func:`_prefetch`). For history
    re-sends as much as for results. ``ids``: the random_id of each position (:func:`message_ids`);
    ``priority``/``since``: its place among the bot's sends (:meth:`SendLimiter.send`)."""
    kind = "document" if as_document else "photo"
    keys = tuple(keys)
    ids = ids or message_ids(None, 0)
    peer = chat_id if peer is None else peer
    media = await _media_for(client, storage, chat_id, keys, kind, ready)
    if not media:
        return  # every image is gone: the row's closing text still tells the user
    try:
        await _paced_media(client, limiter, chat_id, peer, media, caption, ids, buttons, priority, since)
    except errors.RPCError as exc:
        if not _stale(exc):
            raise
        log.info("chat %s: cached media refused (%s); uploading again", chat_id, type(exc).__name__)
        for key in keys:
            await asyncio.to_thread(tgfiles.forget, key, kind)
        media = await _media_for(client, storage, chat_id, keys, kind)
        if not media:
            return
        await _paced_media(client, limiter, chat_id, peer, media, caption, ids, buttons, priority, since)


async def send_text(client: TelegramClient, limiter: SendLimiter, chat_id: int, text: str, *, buttons: Any = None,
                    priority: float = RESULTS, random_id: int | None = None, peer: Any = None,
                    since: float | None = None) -> int | None:
    """One paced text message; its id, or None when Telegram had it already (``random_id`` seen)."""
    random_id = helpers.generate_random_long() if random_id is None else random_id
    request = functions.messages.SendMessageRequest(
        peer=chat_id if peer is None else peer, message=text, random_id=random_id,
        reply_markup=client.build_reply_markup(buttons) if buttons else None)
    async with limiter.send(chat_id, priority=priority, since=since):
        try:
            result = await _invoke(client, request)
        except errors.RandomIdDuplicateError:  # sent before a crash or a lost answer: not shown twice
            log.info("chat %s: Telegram has this message already (RANDOM_ID_DUPLICATE); counted as sent", chat_id)
            return None
    return _sent_id(result, random_id)


async def send_part(client: TelegramClient, storage: Any, limiter: SendLimiter, chat_id: int, part: Part,
                    ready: dict | None = None, priority: float = RESULTS, ids: Callable[[int], int] | None = None,
                    peer: Any = None, since: float | None = None) -> int | None:
    """Send one part; returns the message id of a text part (None for images, or a text Telegram had)."""
    ids = ids or message_ids(None, 0)
    if part.keys:
        await send_images(client, storage, limiter, chat_id, part.keys, caption=part.text, as_document=part.as_document,
                          ready=ready, buttons=part.buttons, priority=priority, ids=ids, peer=peer, since=since)
        return None
    return await send_text(client, limiter, chat_id, part.text, buttons=part.buttons, priority=priority,
                           random_id=ids(0), peer=peer, since=since)


# The bot that owns a client adopts a job's closing message as the user's panel (its buttons are the
# live ones; the progress panel above loses its Refresh button): client → adopt(user_id, chat_id, message_id).
PANEL_OWNERS: "weakref.WeakKeyDictionary[Any, Callable[[int, int, int], Awaitable[None]]]" = \
    weakref.WeakKeyDictionary()


async def _adopt_panel(client: TelegramClient, row: Outbox, message_id: int | None) -> None:
    adopt = PANEL_OWNERS.get(client)
    if adopt is None or message_id is None or row.kind not in ("job_result", "job_failed") or row.data.get("resend"):
        return  # a history re-send leaves the history panel the user is browsing in charge
    try:
        await adopt(row.user_id, row.chat_id, message_id)
    except Exception:  # noqa: BLE001 - panel bookkeeping must never fail a delivered row
        log.warning("outbox %s: could not make the result the panel", row.id, exc_info=True)


# ------------------------------------------------------------------ the loop


LOCK_S = 60.0  # a claimed row's lock (outbox.claim); the sweeper hands back rows whose lock ran out
MAX_CHATS = 64  # chats being sent to at once: the pool that replaces a batch barrier


class _Flood(str):
    """The "flood" outcome, with the seconds Telegram asked for."""

    seconds: int = 0


async def _deliver_row(client: TelegramClient, storage: Any, limiter: SendLimiter, row: Outbox) -> str:
    """Send what is left of one row: "sent", "flood" (a :class:`_Flood`), "blocked", "retry" or "duplicate"."""
    ready: dict = {}
    priority = BULK if row.broadcast_id is not None else RESULTS  # a user's own result before a broadcast
    since = limiter.clock()  # the row's later parts keep its first part's place among the sends
    try:
        parts = await asyncio.to_thread(row_parts, row, storage)
        if parts is None:
            await asyncio.to_thread(outbox.give_up, row.id, "blocked_bot")
            return "blocked"
        ready = _prefetch(client, storage, row.chat_id, parts[row.parts_sent:])
        # the chat's address once, before any send waits for its turn: a lookup inside the turn would
        # hold a place in the send window for a round trip of its own
        peer = await client.get_input_entity(row.chat_id)
        for n, part in enumerate(parts):
            if n < row.parts_sent:
                continue  # Telegram has it already (a FloodWait or a crash stopped us after it)
            message_id = await send_part(client, storage, limiter, row.chat_id, part, ready, priority,
                                         ids=message_ids(row.random_id, n), peer=peer, since=since)
            await asyncio.to_thread(outbox.part_sent, row.id, n + 1)
            if part.buttons is not None:
                await _adopt_panel(client, row, message_id)
    except errors.FloodWaitError as exc:
        metrics.flood_wait("delivery")
        seconds = max(1, exc.seconds)
        limiter.pause_chat(row.chat_id, seconds)
        if seconds > GLOBAL_FLOOD_S:
            limiter.pause_all(seconds)
        flood = _Flood("flood")  # the row goes back with the chat's others (_Pool._chat): none overtakes it
        flood.seconds = seconds
        return flood
    except (errors.UserIsBlockedError, errors.InputUserDeactivatedError) as exc:
        await asyncio.to_thread(outbox.give_up_blocked, row.id, type(exc).__name__)
        return "blocked"
    except Exception as exc:  # noqa: BLE001 - transient (network, Telegram 5xx …): retry with backoff
        log.warning("outbox %s: %s: %s", row.id, type(exc).__name__, exc)
        await asyncio.to_thread(outbox.retry, row.id, f"{type(exc).__name__}: {exc}")
        return "retry"
    finally:
        for task in ready.values():  # lookups this row no longer waits for (uploads others share go on)
            task.cancel()
    return "sent" if await asyncio.to_thread(outbox.mark_sent, row.id) else "duplicate"


class _Pool:
    """Rows in flight, one task per chat: each chat's rows in order, chats independent of each other.

    A chat whose sends are slow holds its own task only: the others finish and their places are
    claimed again at once (no batch waits for its slowest chat). Every send goes through the one
    shared :class:`SendLimiter`, so the pool's size changes how many sends wait, never the rate.
    """

    def __init__(self, client: TelegramClient, storage: Any, limiter: SendLimiter, max_chats: int = MAX_CHATS):
        self.client, self.storage, self.limiter = client, storage, limiter
        self.max_chats = max_chats
        self.tasks: dict[int, asyncio.Task] = {}
        self.sent = 0
        self.fatal: BaseException | None = None
        self.changed = asyncio.Event()  # a chat finished: there is room to claim again

    @property
    def room(self) -> int:
        return self.max_chats - len(self.tasks)

    async def fill(self, batch: int) -> tuple[int, int]:
        """Claim due rows for chats not in flight, up to the room left; (asked, claimed)."""
        asked = min(batch, self.room)
        if asked <= 0:
            return 0, 0
        rows = await asyncio.to_thread(outbox.claim, asked, LOCK_S, skip_chats=list(self.tasks))
        claimed_at = asyncio.get_running_loop().time()
        by_chat: dict[int, list[Outbox]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        for chat_id, chat_rows in by_chat.items():
            self.tasks[chat_id] = asyncio.ensure_future(self._chat(chat_id, chat_rows, claimed_at))
        return asked, len(rows)

    async def _chat(self, chat_id: int, rows: list[Outbox], claimed_at: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            for n, row in enumerate(rows):
                if loop.time() - claimed_at > LOCK_S / 2 and not await asyncio.to_thread(outbox.hold, row.id, LOCK_S):
                    continue  # waited behind a slow row of its chat, and was settled meanwhile
                outcome = await _deliver_row(self.client, self.storage, self.limiter, row)
                metrics.delivery(str(outcome))
                self.sent += outcome == "sent"
                if isinstance(outcome, _Flood):
                    await asyncio.to_thread(outbox.release_chat, chat_id, [r.id for r in rows[n:]],
                                            f"FloodWait {outcome.seconds}", delay_s=outcome.seconds)
                    break
                if outcome == "blocked":
                    for later in rows[n + 1:]:
                        await asyncio.to_thread(outbox.give_up, later.id, "blocked_bot")
                    break
        except Exception:  # noqa: BLE001 - the database failed us: the rows' locks run out, the sweeper hands them back
            log.exception("delivery to chat %s", chat_id)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the process going down (SystemExit …): the loop goes down with it
            self.fatal = self.fatal or exc
            raise
        finally:
            del self.tasks[chat_id]
            self.changed.set()

    async def wait(self, timeout: float, stop: asyncio.Event | None = None) -> None:
        """Until a chat finishes (since ``changed`` was last cleared), ``stop`` is set or ``timeout`` passes."""
        waits = [asyncio.ensure_future(self.changed.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        self._raise_fatal()

    def _raise_fatal(self) -> None:
        """A chat task that died of a BaseException (the process going down) takes the loop with it."""
        if self.fatal is not None:
            raise self.fatal

    async def drain(self) -> None:
        """Every row in flight finishes (a BaseException of one is raised once all are done)."""
        tasks = list(self.tasks.values())
        if tasks:
            await asyncio.wait(tasks)
        self._raise_fatal()

    async def cancel(self) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def deliver_once(client: TelegramClient, storage: Any, limiter: SendLimiter, batch: int = 50) -> int:
    """Claim up to ``batch`` due rows, send them (chats concurrently, each chat in order) and wait
    for all of them; returns how many were sent."""
    pool = _Pool(client, storage, limiter, max_chats=max(batch, 1))
    try:
        await pool.fill(batch)
        await pool.drain()
    finally:
        await pool.cancel()
    return pool.sent


async def run_forever(client: TelegramClient, storage: Any, limiter: SendLimiter, interval: float = 0.5,
                      stop: asyncio.Event | None = None, batch: int = 50, max_chats: int = MAX_CHATS) -> None:
    """Deliver until ``stop`` is set (the rows in flight finish first). Up to ``max_chats`` chats are
    sent to at once; whenever one finishes, due rows are claimed for the room it left. Rows a
    crashed bot left half-sent are taken up again at once: there is one bot process."""
    stop = stop or asyncio.Event()
    recovered = await asyncio.to_thread(outbox.recover)
    if recovered:
        log.info("delivery: %d row(s) left in flight by the last run resume", recovered)
    pool = _Pool(client, storage, limiter, max_chats)
    try:
        while not stop.is_set():
            pool.changed.clear()
            asked = claimed = 0
            try:
                asked, claimed = await pool.fill(batch)
            except Exception:  # noqa: BLE001 - the loop must outlive a bad claim (the database away)
                log.exception("delivery loop")
            if asked and claimed >= asked and pool.room > 0:
                await asyncio.sleep(0)  # more may be due and there is room: claim again at once
                continue
            # the pool is full, or nothing more is due: until a chat finishes (room, and its own
            # later rows may be claimed now), ``stop``, or the interval
            await pool.wait(interval, stop)
        await pool.drain()
    finally:
        await pool.cancel()


def register(bot: Any) -> None:
    """A user who stops the bot is marked so delivery stops; restarting it clears the mark. The
    bot adopts the closing messages delivery sends on its client as its users' panels."""
    PANEL_OWNERS[bot.client] = bot.adopt_panel

    @bot.client.on(events.Raw(types.UpdateBotStopped))
    async def on_stopped(update: types.UpdateBotStopped) -> None:
        await asyncio.to_thread(users.set_blocked_bot, update.user_id, bool(update.stopped))
