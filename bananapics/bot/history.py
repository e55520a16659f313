"""History: ``/history``, pages of past generations, one job's detail, and from it: send the images
again, regenerate with the same settings (through the confirm screen, so the price is shown and held
anew) or copy the prompt into a new draft.

Only the owner can open or act on a job: anyone else's id is an outdated button.
"""

from __future__ import annotations

from typing import Any

from telethon import Button, events

from bananapics import i18n
from bananapics.bot import viewer, wizard
from bananapics.bot.callbacks import Callback, CallbackError, StaleButton, encode
from bananapics.bot.ui import Screen, button, error_text, excerpt, menu_row, pager
from bananapics.errors import BananaError, NotFound
from bananapics.models import Job
from bananapics.models.jobs import TERMINAL
from bananapics.services import drafts, history, jobs, pricing

EXCERPT = 40


def _status(lang: str, job: Job) -> str:
    return i18n.t(lang, f"job-status-{job.status}")


def _options(job: Job) -> str:
    settings = job.settings_dict
    parts = [str(settings[k]) for k in ("resolution", "quality", "aspect_ratio") if k in settings]
    if job.count > 1:
        parts.append(f"×{job.count}")
    return " · ".join(parts)


def _open_button(lang: str, n: int, job: Job, name: str, page: int) -> Any | None:
    try:
        data = encode("hist", "open", job.id, page)
    except CallbackError:  # an id that is not hex (an operator's job): listed, not openable
        return None
    return Button.inline(i18n.t(lang, "btn-history-item", n=n, date=job.created_at.date(), model=name), data)


def list_screen(user_id: int, number: int = 0) -> Screen:
    lang = viewer.lang(user_id)
    page = history.page(user_id, number)
    if not page.jobs:
        return Screen(i18n.t(lang, "history-empty"), [[button(lang, "btn-generate", "gen", "new")], menu_row(lang)])
    names = history.model_names()
    charged = history.charged(page.jobs)
    lines = [i18n.t(lang, "history-title", page=page.page + 1, pages=page.pages), ""]
    rows = []
    first = page.page * history.PAGE_SIZE
    for n, job in enumerate(page.jobs, start=first + 1):
        name = names.get(job.model, job.model)
        lines.append(f"{n}. " + i18n.t(lang, "history-item", date=job.created_at.date(), model=name,
                                       prompt=excerpt(job.prompt, EXCERPT, squash=True), status=_status(lang, job),
                                       cost=charged[job.id]))
        opener = _open_button(lang, n, job, name, page.page)
        if opener is not None:
            rows.append([opener])
    rows += pager(lang, "hist", "page", page.page, page.pages)
    return Screen("\n".join(lines), rows + [menu_row(lang)])


def detail(user_id: int, job: Job, storage, *, page: int | None = None, note: str | None = None) -> Screen:
    lang = viewer.lang(user_id)
    name = history.model_names().get(job.model, job.model)
    lines = [note, ""] if note else []
    lines += [i18n.t(lang, "history-detail-date", date=job.created_at),
              i18n.t(lang, "confirm-model", model=name, options=_options(job)),
              i18n.t(lang, "confirm-prompt", prompt=excerpt(job.prompt, 700, squash=True))]
    if job.refs:
        lines.append(i18n.t(lang, "confirm-refs", count=len(job.refs)))
    lines.append(i18n.t(lang, "history-detail-status", status=_status(lang, job),
                        cost=history.charged([job])[job.id]))
    files = history.files_available(job, storage)
    if job.delivered:
        lines.append(i18n.t(lang, "history-detail-images", count=job.delivered))
        if not files:
            lines.append(i18n.t(lang, "history-files-gone"))
    if job.status == "failed":
        lines.append(i18n.t(lang, i18n.provider_error_key(job.error_kind)))
    rows = [[button(lang, "btn-send-again", "hist", "send", job.id)]] if files else []
    rows.append([button(lang, "btn-regenerate", "hist", "regen", job.id),
                 button(lang, "btn-use-prompt", "hist", "reuse", job.id)])
    back = history.page_of(user_id, job) if page is None else page
    if job.status in TERMINAL:
        rows.append([button(lang, "btn-history-delete", "hist", "del", job.id, back)])
    rows.append([button(lang, "btn-back", "hist", "page", back), menu_row(lang)[0]])
    return Screen("\n".join(lines), rows)


def confirm_delete(user_id: int, job: Job, page: int) -> Screen:
    """Deleting cannot be undone: ask first, saying what goes and what stays."""
    lang = viewer.lang(user_id)
    text = "\n".join([i18n.t(lang, "history-delete-ask"), "",
                      i18n.t(lang, "confirm-prompt", prompt=excerpt(job.prompt, 200, squash=True))])
    return Screen(text, [[button(lang, "btn-history-delete-yes", "hist", "delok", job.id, page)],
                         [button(lang, "btn-back", "hist", "open", job.id, page)]])


def regenerate(user_id: int, job: Job, storage) -> Screen:
    """The job's model, prompt, settings and photos in the draft, on the confirm screen (price shown)."""
    lang = viewer.lang(user_id)
    model = pricing.find_model(job.model)
    if model is None or not model.enabled:
        name = model.name if model is not None else job.model
        return detail(user_id, job, storage, note=i18n.t(lang, "error-model-disabled", model=name))
    if not all(storage.exists(key) for key in job.refs):
        return detail(user_id, job, storage, note=i18n.t(lang, "history-ref-gone"))
    try:
        drafts.from_job(user_id, job)
        return wizard.confirm(user_id, i18n.t(lang, "history-regen-note"))
    except BananaError as exc:  # settings the model no longer takes
        return detail(user_id, job, storage, note=error_text(lang, exc))


def reuse(user_id: int, job: Job) -> Screen:
    """A new draft with the job's prompt (and model, if still on), at the references step."""
    lang = viewer.lang(user_id)
    drafts.reset(user_id, viewer.user(user_id))
    model = pricing.find_model(job.model)
    if model is not None and model.enabled:
        drafts.choose_model(user_id, job.model, viewer.user(user_id))
    drafts.set_prompt(user_id, job.prompt)
    return wizard.refs(user_id, i18n.t(lang, "history-reuse-note", prompt=excerpt(job.prompt, 300, squash=True)))


def route(user_id: int, cb: Callback, chat_id: int, storage) -> tuple[Screen, str | None]:
    if cb.action == "page":
        return list_screen(user_id, cb.args[0]), None
    try:
        job = jobs.get_for_user(user_id, cb.args[0])
    except NotFound:
        raise StaleButton("not this user's job") from None
    lang = viewer.lang(user_id)
    if cb.action == "open":
        return detail(user_id, job, storage, page=cb.args[1]), None
    if cb.action == "send":
        try:
            queued = history.resend(user_id, job.id, chat_id, storage)
        except BananaError:
            return detail(user_id, job, storage), i18n.t(lang, "history-files-gone")
        return detail(user_id, job, storage), i18n.t(lang, "toast-history-resent" if queued
                                                      else "toast-history-resend-busy")
    if cb.action == "regen":
        return regenerate(user_id, job, storage), None
    if cb.action == "reuse":
        return reuse(user_id, job), None
    if cb.action == "del":
        return confirm_delete(user_id, job, cb.args[1]), None
    if cb.action == "delok":
        try:
            history.delete(user_id, job.id, storage)
        except NotFound:  # the other tap of a double tap deleted it
            raise StaleButton("deleted already") from None
        except BananaError as exc:  # still running
            return detail(user_id, job, storage, page=cb.args[1]), error_text(lang, exc)
        return list_screen(user_id, cb.args[1]), i18n.t(lang, "toast-history-deleted")
    raise StaleButton(f"hist:{cb.action} has no screen")


def register(bot) -> None:
    bot.routers["hist"] = lambda user_id, cb, chat_id: route(user_id, cb, chat_id, bot.storage)

    @bot.client.on(events.NewMessage(pattern=r"^/history(?:@\w+)?\s*$"))
    async def on_history(event: Any) -> None:
        await bot.reply(event, lambda user: list_screen(user.id))
