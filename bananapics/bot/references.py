"""Reference images for the draft: a photo, an image sent as a file, or an album (Telegram sends a
media group as separate messages with one ``grouped_id``; Telethon's ``events.Album`` collects them).

At most the model's maximum is kept — the rest of an album is not even downloaded — and the user is
told how many were kept. Files over 10 MB are refused before downloading; a PNG or WEBP over
4096×4096 pixels is refused from its header (``bananapics.images``). Stickers, voice, video, GIFs and
other files get a clear "that's not an image" and change nothing. A caption becomes the prompt.

Downloading and decoding run on the bot's image pool (``bot.images``, :mod:`bananapics.bot.imagework`),
one image per user at a time, never on the executor the other handlers (pre-checkout) share.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telethon import events, types

from bananapics import i18n
from bananapics.bot import viewer, wizard
from bananapics.bot.ui import Screen
from bananapics.errors import BananaError
from bananapics.images import MAX_BYTES, MAX_DECODE_SIDE, MAX_PIXELS
from bananapics.services import conversation, drafts
from bananapics.storage import store_reference

IMAGE_MIMES = ("image/jpeg", "image/png", "image/webp")


def has_media(event: Any) -> bool:
    """A message with an attachment (a link preview is text, not media)."""
    media = getattr(event.message, "media", None)
    return media is not None and not isinstance(media, types.MessageMediaWebPage)


def is_image(message: Any) -> bool:
    if message.photo:
        return True
    if not message.document or message.sticker or message.gif or message.video or message.voice or message.audio:
        return False
    return (message.file.mime_type or "").lower() in IMAGE_MIMES


def _size(message: Any) -> int:
    return (message.file.size if message.file else None) or 0


# conversation step → ``handler(bot, user, chat_id, messages, step_data)``: a step that asked for a
# photo (an admin's broadcast photo, a template preview) takes it instead of the draft; a handler
# returning False passes the photo on to the wizard
MEDIA_STEPS: dict[str, Callable[..., Awaitable[None]]] = {}


async def take(bot: Any, user: Any, chat_id: int, messages: list[Any], caption: str) -> None:
    """Store the images among ``messages`` as references (as many as fit) and show the next screen."""
    if MEDIA_STEPS:
        asked = await asyncio.to_thread(conversation.current, user.id)
        if asked is not None and asked.name in MEDIA_STEPS:
            if await MEDIA_STEPS[asked.name](bot, user, chat_id, messages, asked.data) is not False:
                return  # taken by the step (False: not for it, e.g. the admin lost the role: the wizard's)
    try:
        await _take(bot, user, chat_id, messages, caption)
    except drafts.NoModels:  # the admin switched every model off mid-wizard
        await bot.show(user, chat_id, await asyncio.to_thread(wizard.models, user.id))


_BARE_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@\w+)?\s*$")


async def _take(bot: Any, user: Any, chat_id: int, messages: list[Any], caption: str) -> None:
    if _BARE_COMMAND.match(caption):  # a photo captioned "/start": the photo counts, the caption is no prompt
        caption = ""
    lang = user.language
    notes: list[str] = []
    images = [m for m in messages if is_image(m)]
    if len(images) < len(messages):
        notes.append(i18n.t(lang, "error-not-an-image"))
    fitting = [m for m in images if _size(m) <= MAX_BYTES]
    if len(fitting) < len(images):
        notes.append(i18n.t(lang, "error-image-too-large", max_mb=MAX_BYTES // (1024 * 1024)))
    added = 0
    if fitting:
        room = await asyncio.to_thread(drafts.ref_room, user.id)
        keys = []
        for message in fitting[:room]:
            try:
                async with bot.images.turn(user.id):  # one image of this user in memory at a time
                    data = await message.download_media(bytes)
                    keys.append(await bot.images.run(store_reference, bot.storage, user.id, data))
            except BananaError as exc:
                note = _refusal(lang, exc)
                if note not in notes:
                    notes.append(note)
        _, added = await asyncio.to_thread(drafts.add_refs_upto, user.id, keys)
        if room < len(fitting) or added < len(keys):  # the limit (or a photo sent twice) left some out
            kept = await asyncio.to_thread(_kept_note, user.id, lang, added, len(fitting))
            if kept:
                notes.append(kept)
    note = "\n".join(notes) or None
    if images:
        screen = await asyncio.to_thread(_next_screen, user.id, caption, note)
    else:  # nothing usable: the same step again, with the reason
        screen = await asyncio.to_thread(wizard.resume, user.id, note)
    await bot.show(user, chat_id, screen)


def _refusal(lang: str, exc: BananaError) -> str:
    """Why an image was not kept, in the user's words."""
    if exc.title == "image_too_large" and getattr(exc, "canvas", False):  # a small file declaring a huge canvas
        return i18n.t(lang, "error-image-canvas-too-large", limit=MAX_PIXELS // 1_000_000)
    if exc.title == "image_too_many_pixels":
        return i18n.t(lang, "error-image-too-many-pixels", side=str(MAX_DECODE_SIDE))  # "4096", not "4,096"
    return wizard.error_text(lang, exc)


def _kept_note(user_id: int, lang: str, added: int, sent: int) -> str | None:
    """How many were kept of what was sent, when the model's maximum was the reason."""
    draft = drafts.get(user_id)
    model, limit = drafts.model_of(draft).name, drafts.max_refs(draft)
    if len(draft.refs) < limit:
        return None  # not the limit: the rest were photos already added
    if added == 0:
        return i18n.t(lang, "gen-refs-full", model=model, max=limit)
    return i18n.t(lang, "gen-refs-kept", count=added, asked=sent, model=model, max=limit)


def _next_screen(user_id: int, caption: str, note: str | None) -> Screen:
    """The references step (or the prompt step while there is no prompt yet)."""
    lang = viewer.lang(user_id)
    if caption.strip():
        try:
            drafts.set_prompt(user_id, caption)
        except BananaError as exc:
            error = wizard.error_text(lang, exc, model=drafts.model_of(drafts.get(user_id)), length=len(caption.strip()))
            note = "\n".join(filter(None, [note, error]))
    draft = drafts.get(user_id)
    if not draft.prompt and draft.refs:
        count = i18n.t(lang, "gen-refs-count", count=len(draft.refs), max=drafts.max_refs(draft))
        return wizard.step(user_id, "prompt", "\n".join(filter(None, [note, count])))
    return wizard.step(user_id, "refs", note)


def register(bot: Any) -> None:
    @bot.client.on(events.NewMessage(func=lambda e: e.is_private and e.grouped_id is None and has_media(e)))
    async def on_media(event: Any) -> None:
        user = await bot.guard(event)
        if user is None:
            return
        await take(bot, user, event.chat_id, [event.message], event.raw_text or "")

    @bot.client.on(events.Album(func=lambda e: e.is_private))
    async def on_album(event: Any) -> None:
        user = await bot.guard(event)
        if user is None:
            return
        await take(bot, user, event.chat_id, list(event.messages), event.raw_text or "")
