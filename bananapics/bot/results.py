"""``res:*`` buttons: the progress panel's refresh, and what to do after a result or a failure —
again / try again (the same request, priced and held anew), edit prompt (a new draft from the job
at the prompt step), other model (same prompt), new. Every job id is checked to be the presser's.
"""

from __future__ import annotations

from typing import Any

from bananapics import i18n
from bananapics.bot import progress, viewer, wizard
from bananapics.bot.callbacks import PRESSED_MESSAGE, Callback, StaleButton
from bananapics.bot.ui import Screen, button, error_text, menu_row
from bananapics.db import atomic
from bananapics.errors import BananaError, InsufficientTokens, NotFound
from bananapics.models import Job
from bananapics.services import drafts, jobs, pricing


def route(user_id: int, cb: Callback, chat_id: int, bot: Any) -> tuple[Screen, str | None]:
    lang = viewer.lang(user_id)
    if cb.action == "new":
        drafts.reset(user_id, viewer.user(user_id))
        return wizard.models(user_id), None
    try:
        job = jobs.get_for_user(user_id, cb.args[0])
    except NotFound:
        raise StaleButton("not a job of this user") from None
    if cb.action == "status":
        return progress.panel(user_id, job.id), None
    if cb.action in ("again", "retry"):
        return repeat(user_id, job, chat_id, bot), None
    drafts.from_job(user_id, job)
    if cb.action == "edit":
        drafts.go(user_id, "prompt")
        return wizard.prompt(user_id), None
    if cb.action == "other":
        return wizard.models(user_id, i18n.t(lang, "gen-other-model")), None
    raise StaleButton(f"res:{cb.action} has no screen here")


def repeat(user_id: int, job: Job, chat_id: int, bot: Any) -> Screen:
    """Submit the job's request again at the price the user paid for it; a price changed since (the
    admin's pricing, or a job that was free) opens the confirm screen with the new price instead,
    and a short balance or a refused request gets a clear answer."""
    lang = viewer.lang(user_id)
    try:  # a model switched off (or gone) is never priced: the confirm screen would show a stand-in
        today = pricing.cost(jobs.enabled_model(job.model), {**job.settings_dict, "refs": len(job.refs)}).total
    except BananaError:
        today = None  # the model or its settings are refused now: the submit below says why
    if today is not None and today != job.cost:
        drafts.from_job(user_id, job)
        return wizard.confirm(user_id, i18n.t(lang, "error-price-changed"))
    try:
        with atomic():
            again = drafts.repeat(user_id, job.id, chat_id=chat_id, pressed=PRESSED_MESSAGE.get())
            bot.tasks.enqueue_after_commit(again.id)
    except InsufficientTokens as exc:
        shortfall = exc.needed - exc.available
        return Screen(i18n.t(lang, "error-insufficient", available=exc.available, needed=exc.needed), [
            [button(lang, "btn-topup-shortfall", "bal", "open", shortfall=shortfall)],
            [button(lang, "btn-edit-prompt", "res", "edit", job.id), button(lang, "btn-menu", "menu", "open")]])
    except BananaError as exc:  # too many running, the model switched off, settings no longer offered
        model = pricing.find_model(job.model)  # None: the model was removed since
        return Screen(error_text(lang, exc, model=model), [
            [button(lang, "btn-edit-prompt", "res", "edit", job.id),
             button(lang, "btn-other-model", "res", "other", job.id)],
            menu_row(lang)])
    return progress.panel(user_id, again.id, started=True)


def register(bot: Any) -> None:
    bot.routers["res"] = lambda user_id, cb, chat_id: route(user_id, cb, chat_id, bot)
