"""``res:*`` buttons: the progress panel's refresh, and what to do after a result or a failure —
again / try again (the same request, priced and held anew), edit prompt (a new draft from the job
at the prompt step), other model (same prompt), new. Every job id is checked to be the presser's.
"""

from __future__ import annotations

from typing import Any

from bananapics import i18n
from bananapics.bot import progress, viewer, wizard
from bananapics.bot.callbacks import PRESSED_MESSAGE, StaleButton
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, error_text, menu_row
from bananapics.errors import BananaError, InsufficientTokens, NotFound
from bananapics.models import Job
from bananapics.services import drafts, generation, jobs, pricing


def new(press: Press) -> Answer:
    drafts.reset(press.user_id, viewer.user(press.user_id))
    return wizard.models(press.user_id), None


def _job(press: Press) -> Job:
    """The job the button names, when it is the presser's (else the button is stale)."""
    try:
        return jobs.get_for_user(press.user_id, press.args[0])
    except NotFound:
        raise StaleButton("not a job of this user") from None


def status(press: Press) -> Answer:
    return progress.panel(press.user_id, _job(press).id), None


def again(press: Press) -> Answer:
    """Again / Try again."""
    return repeat(press.user_id, _job(press), press.chat_id, press.bot), None


def edit_prompt(press: Press) -> Answer:
    """A new draft from the job, at the prompt step."""
    drafts.from_job(press.user_id, _job(press))
    drafts.go(press.user_id, "prompt")
    return wizard.prompt(press.user_id), None


def other_model(press: Press) -> Answer:
    """The same prompt on a model the user picks."""
    drafts.from_job(press.user_id, _job(press))
    return wizard.models(press.user_id, i18n.t(viewer.lang(press.user_id), "gen-other-model")), None


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
        again = generation.repeat(bot.tasks, user_id, job.id, chat_id=chat_id, pressed=PRESSED_MESSAGE.get())
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


ACTIONS = {("res", "new"): new, ("res", "status"): status, ("res", "again"): again, ("res", "retry"): again,
           ("res", "edit"): edit_prompt, ("res", "other"): other_model}


def register(bot: Any) -> None:
    bot.add_actions(ACTIONS)
