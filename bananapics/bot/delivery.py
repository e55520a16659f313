"""The delivery loop: sends what workers left in the outbox, under Telegram's limits.

Runs in the bot process. Each batch of due rows is claimed (pending → sending, with a lock), and the
rows of each chat are sent in order while different chats proceed concurrently; every message goes
through the :class:`~bananapics.bot.ratelimit.SendLimiter` (global and per-chat pacing).

A row is a list of :class:`Part` s (an album of photos, an album of full-quality files, a closing
text). After each part Telegram accepted, ``parts_sent`` is stored on the row, so a FloodWait or a
crash in the middle resumes with the next part: no photo arrives twice. Only a crash between
Telegram's answer and that one small UPDATE can repeat a part.

* FloodWait: a short one (≤ 3 s, the per-chat pace) pauses that chat; a longer one pauses every
  chat (Telethon itself then refuses every request of that type until it is over). The row goes
  back to pending without using up an attempt, and the chat's other rows wait with it.
* A user who blocked the bot is marked (``users.blocked_bot``) and their rows are given up without a
  request until they write to the bot again (``UpdateBotStopped`` or any message clears it).
* Other errors (network, Telegram 5xx …) retry the row with backoff, dead after a few attempts. An
  image no longer in storage is left out (retrying cannot bring it back); the rest still go.
* Images are uploaded once: the file reference Telegram returns is kept per storage key
  (``tg_files``) and later sends (a retry, a history re-send) send by reference. A reference that is
  no longer accepted (``FILE_REFERENCE_EXPIRED``, ``MEDIA_EMPTY`` …) is dropped and the image is
  uploaded again once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telethon import TelegramClient, errors, events, functions, helpers, types

from bananapics import i18n, metrics
from bananapics.bot.progress import outcome_buttons
from bananapics.bot.ratelimit import SendLimiter
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


async def _media_for(client: TelegramClient, storage: Any, chat_id: int, keys: tuple[str, ...], kind: str) -> list:
    media = []
    for key in keys:
        ref = await asyncio.to_thread(tgfiles.get, key, kind)
        if ref is None:
            try:
                ref = await upload(client, storage, chat_id, key, kind)
            except ObjectNotFound:  # gone for good (retention, a wiped disk): retrying cannot bring it back
                log.warning("chat %s: %s is no longer in storage; sent without it", chat_id, key)
                continue
        media.append(_input_media(kind, ref))
    return media


async def _send_media(client: TelegramClient, chat_id: int, media: list, caption: str, buttons: Any = None) -> None:
    if len(media) == 1:  # one photo may carry buttons (a broadcast's URL button); an album cannot
        await client(functions.messages.SendMediaRequest(
            peer=chat_id, media=media[0], message=caption, random_id=helpers.generate_random_long(),
            reply_markup=client.build_reply_markup(buttons) if buttons else None))
        return
    await client(functions.messages.SendMultiMediaRequest(peer=chat_id, multi_media=[
        types.InputSingleMedia(media=m, random_id=helpers.generate_random_long(), message=caption if n == 0 else "")
        for n, m in enumerate(media)]))


def _stale(exc: errors.RPCError) -> bool:
    # Known errors are classes (their .message is only "BAD_REQUEST"); the per-item album form
    # (FILE_REFERENCE_<n>_EXPIRED) has no class and keeps Telegram's text.
    return isinstance(exc, _STALE_MEDIA) or str(getattr(exc, "message", "")).startswith("FILE_REFERENCE_")


async def send_images(client: TelegramClient, storage: Any, limiter: SendLimiter, chat_id: int,
                      keys: tuple[str, ...] | list[str], *, caption: str = "", as_document: bool = False,
                      buttons: Any = None) -> None:
    """Send up to 10 stored images as one album (or one photo/file), uploading only those Telegram
    does not know yet. For history re-sends as much as for results."""
    kind = "document" if as_document else "photo"
    keys = tuple(keys)
    media = await _media_for(client, storage, chat_id, keys, kind)
    if not media:
        return  # every image is gone: the row's closing text still tells the user
    await limiter.acquire(chat_id, messages=len(media))
    try:
        await _send_media(client, chat_id, media, caption, buttons)
    except errors.RPCError as exc:
        if not _stale(exc):
            raise
        log.info("chat %s: cached media refused (%s); uploading again", chat_id, type(exc).__name__)
        for key in keys:
            await asyncio.to_thread(tgfiles.forget, key, kind)
        media = await _media_for(client, storage, chat_id, keys, kind)
        if not media:
            return
        await limiter.acquire(chat_id, messages=len(media))
        await _send_media(client, chat_id, media, caption, buttons)


async def send_part(client: TelegramClient, storage: Any, limiter: SendLimiter, chat_id: int, part: Part) -> Any:
    """Send one part; returns the message for a text part (None for images)."""
    if part.keys:
        await send_images(client, storage, limiter, chat_id, part.keys, caption=part.text,
                          as_document=part.as_document, buttons=part.buttons)
        return None
    await limiter.acquire(chat_id)
    return await client.send_message(chat_id, part.text, buttons=part.buttons)


# The bot that owns a client adopts a job's closing message as the user's panel (its buttons are the
# live ones; the progress panel above loses its Refresh button): client → adopt(user_id, chat_id, message_id).
PANEL_OWNERS: "weakref.WeakKeyDictionary[Any, Callable[[int, int, int], Awaitable[None]]]" = \
    weakref.WeakKeyDictionary()


async def _adopt_panel(client: TelegramClient, row: Outbox, message: Any) -> None:
    adopt = PANEL_OWNERS.get(client)
    if adopt is None or message is None or row.kind not in ("job_result", "job_failed") or row.data.get("resend"):
        return  # a history re-send leaves the history panel the user is browsing in charge
    try:
        await adopt(row.user_id, row.chat_id, message.id)
    except Exception:  # noqa: BLE001 - panel bookkeeping must never fail a delivered row
        log.warning("outbox %s: could not make the result the panel", row.id, exc_info=True)


# ------------------------------------------------------------------ the loop


async def _deliver_row(client: TelegramClient, storage: Any, limiter: SendLimiter, row: Outbox) -> str:
    """Send what is left of one row: "sent", "flood", "blocked", "retry" or "duplicate"."""
    try:
        parts = await asyncio.to_thread(row_parts, row, storage)
        if parts is None:
            await asyncio.to_thread(outbox.give_up, row.id, "blocked_bot")
            return "blocked"
        for n, part in enumerate(parts):
            if n < row.parts_sent:
                continue  # Telegram has it already (a FloodWait or a crash stopped us after it)
            message = await send_part(client, storage, limiter, row.chat_id, part)
            await asyncio.to_thread(outbox.part_sent, row.id, n + 1)
            if part.buttons is not None:
                await _adopt_panel(client, row, message)
    except errors.FloodWaitError as exc:
        metrics.flood_wait("delivery")
        seconds = max(1, exc.seconds)
        limiter.pause_chat(row.chat_id, seconds)
        if seconds > GLOBAL_FLOOD_S:
            limiter.pause_all(seconds)
        await asyncio.to_thread(outbox.release, row.id, f"FloodWait {seconds}", delay_s=seconds)
        return "flood"
    except (errors.UserIsBlockedError, errors.InputUserDeactivatedError) as exc:
        await asyncio.to_thread(outbox.give_up_blocked, row.id, type(exc).__name__)
        return "blocked"
    except Exception as exc:  # noqa: BLE001 - transient (network, Telegram 5xx …): retry with backoff
        log.warning("outbox %s: %s: %s", row.id, type(exc).__name__, exc)
        await asyncio.to_thread(outbox.retry, row.id, f"{type(exc).__name__}: {exc}")
        return "retry"
    return "sent" if await asyncio.to_thread(outbox.mark_sent, row.id) else "duplicate"


async def _deliver_chat(client: TelegramClient, storage: Any, limiter: SendLimiter, rows: list[Outbox]) -> int:
    """One chat's rows in order; after a FloodWait or a block the rest wait or go too."""
    sent = 0
    for n, row in enumerate(rows):
        outcome = await _deliver_row(client, storage, limiter, row)
        metrics.delivery(outcome)
        sent += outcome == "sent"
        if outcome in ("flood", "blocked"):
            for later in rows[n + 1:]:
                if outcome == "flood":
                    await asyncio.to_thread(outbox.release, later.id, "chat paused",
                                            delay_s=max(1.0, limiter.paused_for(row.chat_id)))
                else:
                    await asyncio.to_thread(outbox.give_up, later.id, "blocked_bot")
            break
    return sent


async def _deliver_batch(client: TelegramClient, storage: Any, limiter: SendLimiter, batch: int) -> tuple[int, int]:
    rows = await asyncio.to_thread(outbox.claim, batch)
    by_chat: dict[int, list[Outbox]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    done = await asyncio.gather(*(_deliver_chat(client, storage, limiter, chat_rows) for chat_rows in by_chat.values()))
    return len(rows), sum(done)


async def deliver_once(client: TelegramClient, storage: Any, limiter: SendLimiter, batch: int = 50) -> int:
    """Send every due row once (chats concurrently, each chat in order); returns how many were sent."""
    return (await _deliver_batch(client, storage, limiter, batch))[1]


async def run_forever(client: TelegramClient, storage: Any, limiter: SendLimiter, interval: float = 0.5,
                      stop: asyncio.Event | None = None, batch: int = 50) -> None:
    """Deliver until ``stop`` is set (the batch in progress finishes first). Rows a crashed bot left
    half-sent are taken up again at once: there is one bot process."""
    stop = stop or asyncio.Event()
    recovered = await asyncio.to_thread(outbox.recover)
    if recovered:
        log.info("delivery: %d row(s) left in flight by the last run resume", recovered)
    while not stop.is_set():
        claimed_full = False
        try:
            claimed, _ = await _deliver_batch(client, storage, limiter, batch)
            claimed_full = claimed >= batch  # more may be due: no pause
        except Exception:  # noqa: BLE001 - the loop must outlive a bad batch
            log.exception("delivery loop")
        if not claimed_full:
            await asyncio.sleep(interval)  # a plain sleep: no task to outlive, the stop is seen next turn


def register(bot: Any) -> None:
    """A user who stops the bot is marked so delivery stops; restarting it clears the mark. The
    bot adopts the closing messages delivery sends on its client as its users' panels."""
    PANEL_OWNERS[bot.client] = bot.adopt_panel

    @bot.client.on(events.Raw(types.UpdateBotStopped))
    async def on_stopped(update: types.UpdateBotStopped) -> None:
        await asyncio.to_thread(users.set_blocked_bot, update.user_id, bool(update.stopped))
