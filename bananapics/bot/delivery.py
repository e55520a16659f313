"""The delivery loop: sends what workers left in the outbox, under Telegram's limits.

Runs in the bot process. Each row is claimed (pending → sending with a lock), sent through the
send limiter, then marked sent exactly once; a FloodWait pauses that chat (or everyone) and the row
is retried after the wait; a user who blocked the bot is marked and never retried.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable

from telethon import TelegramClient, errors

from bananapics import i18n
from bananapics.bot.progress import outcome_buttons
from bananapics.bot.ratelimit import SendLimiter
from bananapics.db import atomic
from bananapics.models import Outbox, User
from bananapics.services import jobs, outbox, users

log = logging.getLogger(__name__)

# Outbox kinds owned by feature modules (``bananapics.bot.payments``…): kind → async
# send(client, row, user, limiter). They register themselves; job results are handled below.
SENDERS: dict[str, Callable[..., Awaitable[None]]] = {}


async def deliver_once(client: TelegramClient, storage, limiter: SendLimiter, batch: int = 20) -> int:
    """Send every due row once; returns how many were sent."""
    rows = await asyncio.to_thread(outbox.claim, batch)
    sent = 0
    for row in rows:
        try:
            await _send(client, storage, row, limiter)
        except errors.FloodWaitError as exc:
            limiter.pause_all(exc.seconds)
            await asyncio.to_thread(outbox.retry, row.id, f"FloodWait {exc.seconds}", delay_s=exc.seconds)
            continue
        except (errors.UserIsBlockedError, errors.InputUserDeactivatedError) as exc:
            await asyncio.to_thread(_blocked, row, type(exc).__name__)
            continue
        except Exception as exc:  # noqa: BLE001 - transient: retry with backoff
            log.warning("outbox %s: %s", row.id, exc)
            await asyncio.to_thread(outbox.retry, row.id, type(exc).__name__)
            continue
        if await asyncio.to_thread(outbox.mark_sent, row.id):
            sent += 1
    return sent


def _blocked(row: Outbox, error: str) -> None:
    with atomic():
        User.update(blocked_bot=True).where(User.id == row.user_id).execute()
    outbox.give_up(row.id, error)


async def _send(client: TelegramClient, storage, row: Outbox, limiter: SendLimiter) -> None:
    """Send one outbox row; every Telegram message goes through the limiter (a row may be three)."""
    user = await asyncio.to_thread(users.get_by_id, row.user_id)
    lang = user.language
    data = row.data
    menu = outcome_buttons(lang, row.kind, row.job_id)
    if row.kind == "job_result":
        job = await asyncio.to_thread(jobs.get, row.job_id)
        files = []
        for n, key in enumerate(data["images"]):
            blob = io.BytesIO(await asyncio.to_thread(storage.get, key))
            blob.name = f"bananapics-{job.id[:8]}-{n + 1}.{key.rsplit('.', 1)[-1]}"
            files.append(blob)
        caption = i18n.t(lang, "result-caption", model=data.get("model", ""), prompt=job.prompt[:300])[:1024]
        await limiter.acquire(row.chat_id, messages=len(files))
        await client.send_file(row.chat_id, files, caption=caption)
        for blob in files:
            blob.seek(0)
        await limiter.acquire(row.chat_id, messages=len(files))
        await client.send_file(row.chat_id, files, force_document=True, caption=i18n.t(lang, "result-files"))
        text = i18n.t(lang, "result-done", count=len(files), cost=job.cost - data.get("refunded", 0))
        if data.get("refunded"):
            text += "\n" + i18n.t(lang, "result-partial", got=len(files), asked=data.get("requested", len(files)),
                                  refund=data["refunded"])
        await limiter.acquire(row.chat_id)
        await client.send_message(row.chat_id, text, buttons=menu)
    elif row.kind == "job_failed":
        lines = [i18n.t(lang, "fail-title"), i18n.t(lang, i18n.provider_error_key(data.get("reason")))]
        if data.get("refunded"):
            lines.append(i18n.t(lang, "fail-refund", tokens=data["refunded"]))
        await limiter.acquire(row.chat_id)
        await client.send_message(row.chat_id, "\n".join(lines), buttons=menu)
    elif row.kind in SENDERS:
        await SENDERS[row.kind](client, row, user, limiter)
    else:
        await limiter.acquire(row.chat_id)
        await client.send_message(row.chat_id, str(data.get("text", "")))


async def run_forever(client: TelegramClient, storage, limiter: SendLimiter, interval: float = 0.5) -> None:
    while True:
        try:
            await deliver_once(client, storage, limiter)
        except Exception:  # noqa: BLE001 - the loop must outlive a bad batch
            log.exception("delivery loop")
        await asyncio.sleep(interval)
