"""A job as the user follows it: the progress panel (queued with position / running / retrying, a
refresh button), the ``upload_photo`` chat action while it runs, and the buttons under a result or
a failure (used by the panel and by the delivery loop's messages).

The chat action lasts about 5 s in Telegram clients, so :func:`run_forever` repeats it every few
seconds for every chat with a queued or running job (read from the database, so it survives a
restart); the panel also sends one at once when it is shown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telethon import Button, TelegramClient, errors, functions, types

from bananapics import i18n
from bananapics.bot import viewer
from bananapics.bot.callbacks import encode
from bananapics.bot.ui import Screen, button, menu_row
from bananapics.models.jobs import ACTIVE
from bananapics.services import jobs

log = logging.getLogger(__name__)

ACTION_EVERY_S = 4.0


def outcome_buttons(lang: str, kind: str, job_id: str | None) -> list[list[Any]]:
    """Under a result: Again, Edit prompt, New, Menu; under a failure: Edit prompt, Try again,
    Other model, Menu."""
    new = Button.inline(i18n.t(lang, "btn-new"), encode("res", "new"))
    menu = button(lang, "btn-menu", "menu", "open")
    if job_id is None or kind not in ("job_result", "job_failed"):
        return [[new, menu]]
    edit = button(lang, "btn-edit-prompt", "res", "edit", job_id)
    if kind == "job_result":
        return [[button(lang, "btn-again", "res", "again", job_id), edit], [new, menu]]
    return [[edit, button(lang, "btn-try-again", "res", "retry", job_id)],
            [button(lang, "btn-other-model", "res", "other", job_id), menu]]


def panel(user_id: int, job_id: str, *, started: bool = False) -> Screen:
    """The progress panel of a job; once it is finished, what happened and what to do next."""
    lang = viewer.lang(user_id)
    job = jobs.get(job_id)
    lines = [i18n.t(lang, "gen-started", price=job.cost)] if started and job.status in ACTIVE else []
    if job.status == "queued" and job.attempts:
        lines.append(i18n.t(lang, "progress-retrying"))
    elif job.status == "queued":
        lines.append(i18n.t(lang, "progress-queued", position=jobs.queue_position(job)))
    elif job.status == "running":
        lines.append(i18n.t(lang, "progress-running"))
    elif job.status == "failed":
        lines += [i18n.t(lang, "fail-title"), i18n.t(lang, i18n.provider_error_key(job.error_kind))]
        if job.cost:
            lines.append(i18n.t(lang, "fail-refund", tokens=job.cost))
        return Screen("\n".join(lines), outcome_buttons(lang, "job_failed", job.id))
    else:
        lines.append(i18n.t(lang, "progress-done", count=job.delivered))
        return Screen("\n".join(lines), outcome_buttons(lang, "job_result", job.id))
    buttons = [[button(lang, "btn-refresh", "res", "status", job.id)], menu_row(lang)]
    return Screen("\n".join(lines), buttons, followup=follow(job.id))


def follow(job_id: str):
    """A screen followup: the upload_photo action at once, while the job is still to finish."""
    async def followup(bot: Any, chat_id: int) -> None:
        job = await asyncio.to_thread(jobs.get, job_id)
        if job.status in ACTIVE:
            await upload_photo(bot.client, chat_id)
    return followup


async def upload_photo(client: TelegramClient, chat_id: int) -> bool:
    """Show "sending a photo…" in the chat (SetTypingRequest); never raises."""
    try:
        await client(functions.messages.SetTypingRequest(
            peer=chat_id, action=types.SendMessageUploadPhotoAction(progress=0)))
        return True
    except errors.FloodWaitError as exc:
        log.info("chat action paused: FloodWait %s s", exc.seconds)
    except (errors.RPCError, ValueError) as exc:  # blocked, or a chat this session never saw
        log.debug("chat action to %s: %s", chat_id, exc)
    return False


async def pump_once(bot: Any) -> int:
    """One round of chat actions for every chat waiting for a job; returns how many were sent."""
    sent = 0
    for chat_id in await asyncio.to_thread(jobs.active_chats):
        sent += await upload_photo(bot.client, chat_id)
    return sent


async def run_forever(bot: Any, interval: float = ACTION_EVERY_S) -> None:
    while True:
        try:
            await pump_once(bot)
        except Exception:  # noqa: BLE001 - the loop must outlive a bad round
            log.exception("chat action loop")
        await asyncio.sleep(interval)
