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
from bananapics.bot.callbacks import CallbackError, StaleButton, encode
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, error_text, excerpt, menu_row, pager
from bananapics.errors import BananaError, NotFound
from bananapics.models import Job
from bananapics.models.jobs import TERMINAL
from bananapics.services import history, jobs

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
    try:
        history.regenerate(user_id, job, storage)
        return wizard.confirm(user_id, i18n.t(lang, "history-regen-note"))
    except BananaError as exc:
        if exc.title == "model_disabled":
            note = i18n.t(lang, "error-model-disabled", model=history.model_names().get(job.model, job.model))
        elif exc.title == "refs_gone":
            note = i18n.t(lang, "history-ref-gone")
        else:  # settings the model no longer takes
            note = error_text(lang, exc)
        return detail(user_id, job, storage, note=note)


def reuse(user_id: int, job: Job) -> Screen:
    """A new draft with the job's prompt (and model, if still on), at the references step."""
    lang = viewer.lang(user_id)
    history.reuse(user_id, job, viewer.user(user_id))
    return wizard.refs(user_id, i18n.t(lang, "history-reuse-note", prompt=excerpt(job.prompt, 300, squash=True)))


# ``hist:*`` buttons: every one but a list page names a job, which must be the presser's.


def page(press: Press) -> Answer:
    return list_screen(press.user_id, press.args[0]), None


def _job(press: Press) -> Job:
    try:
        return jobs.get_for_user(press.user_id, press.args[0])
    except NotFound:
        raise StaleButton("not this user's job") from None


def open_job(press: Press) -> Answer:
    return detail(press.user_id, _job(press), press.bot.storage, page=press.args[1]), None


def send_again(press: Press) -> Answer:
    user_id, job, storage = press.user_id, _job(press), press.bot.storage
    lang = viewer.lang(user_id)
    try:
        queued = history.resend(user_id, job.id, press.chat_id, storage)
    except BananaError:
        return detail(user_id, job, storage), i18n.t(lang, "history-files-gone")
    return detail(user_id, job, storage), i18n.t(lang, "toast-history-resent" if queued else "toast-history-resend-busy")


def regenerate_job(press: Press) -> Answer:
    return regenerate(press.user_id, _job(press), press.bot.storage), None


def reuse_prompt(press: Press) -> Answer:
    return reuse(press.user_id, _job(press)), None


def ask_delete(press: Press) -> Answer:
    return confirm_delete(press.user_id, _job(press), press.args[1]), None


def delete(press: Press) -> Answer:
    user_id, job, storage = press.user_id, _job(press), press.bot.storage
    lang = viewer.lang(user_id)
    try:
        history.delete(user_id, job.id, storage)
    except NotFound:  # the other tap of a double tap deleted it
        raise StaleButton("deleted already") from None
    except BananaError as exc:  # still running
        return detail(user_id, job, storage, page=press.args[1]), error_text(lang, exc)
    return list_screen(user_id, press.args[1]), i18n.t(lang, "toast-history-deleted")


ACTIONS = {("hist", "page"): page, ("hist", "open"): open_job, ("hist", "send"): send_again,
           ("hist", "regen"): regenerate_job, ("hist", "reuse"): reuse_prompt, ("hist", "del"): ask_delete,
           ("hist", "delok"): delete}


def register(bot) -> None:
    bot.add_actions(ACTIONS)

    @bot.client.on(events.NewMessage(pattern=r"^/history(?:@\w+)?\s*$"))
    async def on_history(event: Any) -> None:
        await bot.reply(event, lambda user: list_screen(user.id))
