"""The generate wizard: model → prompt → references → settings → confirm → progress.

Buttons carry a token of the draft's version bound to its owner (hex), so a button from an older
screen of the wizard — or data copied from someone else's panel — is stale. Every step is validated
by ``services.drafts``; Generate submits one job per confirm screen (``services.generation``, the id
enqueued after commit). Typed text is the draft's prompt: the wizard's text step, the default of
every user nobody asked anything else (``routing.PROMPT``). The settings screens are in
``bananapics.bot.options``, references in ``bananapics.bot.references``, the job's progress and
result buttons in ``bananapics.bot.progress`` / ``bananapics.bot.results``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from telethon import Button, events

from bananapics import i18n
from bananapics.bot import options, progress, viewer
from bananapics.bot.callbacks import StaleButton, encode
from bananapics.bot.routing import PROMPT, Answer, Press, TextInput
from bananapics.bot.screens import main_menu
from bananapics.bot.ui import Screen, button, error_text, excerpt, menu_row, noted
from bananapics.bot.wizard_parts import cancel_button, price_line, token
from bananapics.errors import BananaError, InvalidInput
from bananapics.models import Draft, User
from bananapics.services import breaker, drafts, generation, jobs, pricing, toggles

EXCERPT = 200


def _lang(user_id: int) -> str:
    return viewer.lang(user_id)


# --------------------------------------------------------------------------- steps


def models(user_id: int, note: str | None = None) -> Screen:
    lang = _lang(user_id)
    available = drafts.enabled_models()
    if not available:
        return Screen(i18n.t(lang, "gen-no-models"), [menu_row(lang)])
    marked = drafts.users_default(viewer.user(user_id), available).id  # theirs (Settings) while on, else the admin's
    down = breaker.unavailable()  # circuit open: shown, and refused when picked

    def label(m: Any) -> str:
        key = "btn-model-unavailable" if m.id in down else "btn-model-default" if m.id == marked else "btn-model"
        return i18n.t(lang, key, name=m.name, price=pricing.starting_price(m))

    rows = [[Button.inline(label(m), encode("gen", "model", m.id))] for m in available]
    return Screen(noted(note, i18n.t(lang, "gen-model-title")), rows + [menu_row(lang)])


def prompt(user_id: int, note: str | None = None, draft: Draft | None = None) -> Screen:
    """``draft``: the draft as the caller just saved it (saves reading it again)."""
    lang = _lang(user_id)
    draft = draft or drafts.get(user_id)
    tok = token(draft)
    lines = [i18n.t(lang, "gen-prompt-ask", model=drafts.model_of(draft).name, limit=jobs.PROMPT_MAX)]
    rows = []
    if draft.prompt:
        lines.append(i18n.t(lang, "gen-prompt-current", prompt=excerpt(draft.prompt, EXCERPT)))
        rows.append([button(lang, "btn-keep-prompt", "gen", "next", tok)])
    if toggles.is_on("templates"):
        rows.append([button(lang, "btn-pick-template", "gen", "tpl", tok)])
    rows.append([button(lang, "btn-back", "gen", "step", tok, "model"), cancel_button(lang, tok)])
    return Screen(noted(note, *lines), rows)


def refs(user_id: int, note: str | None = None, draft: Draft | None = None) -> Screen:
    lang = _lang(user_id)
    draft = draft or drafts.get(user_id)
    tok = token(draft)
    limit = drafts.max_refs(draft)
    count = len(draft.refs)
    lines = [i18n.t(lang, "gen-refs-ask", max=limit)]
    if count:
        lines.append(i18n.t(lang, "gen-refs-count", count=count, max=limit))
        first = [button(lang, "btn-refs-done", "gen", "rdone", tok, count=count),
                 button(lang, "btn-refs-remove-last", "gen", "rlast", tok),
                 button(lang, "btn-refs-clear", "gen", "rclear", tok)]
    else:
        first = [button(lang, "btn-skip", "gen", "skip", tok)]
    return Screen(noted(note, *lines), [first, [button(lang, "btn-back", "gen", "step", tok, "prompt"),
                                                 cancel_button(lang, tok)]])


def confirm(user_id: int, note: str | None = None) -> Screen:
    """The request with its price for exactly these settings, the balance, and Generate."""
    lang = _lang(user_id)
    draft = drafts.go(user_id, "confirm")
    if not draft.prompt:
        drafts.go(user_id, "prompt")
        return prompt(user_id, i18n.t(lang, "error-prompt-empty"))
    tok = token(draft)
    model = drafts.model_of(draft)
    lines = [i18n.t(lang, "confirm-title")]
    try:
        quote = pricing.cost(model, {**draft.settings_dict, "refs": len(draft.refs)})
    except InvalidInput as exc:  # the admin changed the model's limits since the settings were chosen
        lines += [i18n.t(lang, "confirm-prompt", prompt=excerpt(draft.prompt, EXCERPT)), "", error_text(lang, exc, model=model)]
        return Screen(noted(note, *lines), [[button(lang, "btn-edit", "gen", "edit", tok), cancel_button(lang, tok)]])
    available = viewer.user(user_id).available  # as the update found it: no money moved since
    lines += [i18n.t(lang, "confirm-model", model=model.name, options=options.summary(lang, model, quote.settings)),
              i18n.t(lang, "confirm-prompt", prompt=excerpt(draft.prompt, EXCERPT))]
    if draft.refs:
        lines.append(i18n.t(lang, "confirm-refs", count=len(draft.refs)))
    if len(quote.lines) > 1:
        lines.append(i18n.t(lang, "confirm-breakdown", lines=breakdown(lang, quote)))
    lines.append(price_line(lang, quote, available))
    after = available - quote.total
    if breaker.open_until(model.id) is not None:  # its provider keeps failing: no Generate for now
        lines.append(i18n.t(lang, "error-model-unavailable", model=model.name))
        first = button(lang, "btn-other-model", "gen", "step", tok, "model")
    elif after < 0:
        lines.append(i18n.t(lang, "confirm-short", price=quote.total, balance=available, shortfall=-after))
        first = button(lang, "btn-topup-shortfall", "bal", "open", shortfall=-after)
    else:
        first = button(lang, "btn-generate-price", "gen", "go", tok, quote.total, price=quote.total)
    return Screen(noted(note, *lines), [[first], [button(lang, "btn-edit", "gen", "edit", tok), cancel_button(lang, tok)]])


def edit(user_id: int) -> Screen:
    lang = _lang(user_id)
    tok = token(drafts.get(user_id))
    return Screen(i18n.t(lang, "gen-edit-title"), [
        [button(lang, "btn-edit-model", "gen", "step", tok, "model"),
         button(lang, "btn-edit-prompt", "gen", "step", tok, "prompt")],
        [button(lang, "btn-edit-refs", "gen", "step", tok, "refs"),
         button(lang, "btn-edit-settings", "gen", "step", tok, "settings")],
        [button(lang, "btn-back", "gen", "next", tok), cancel_button(lang, tok)],
    ])


def step(user_id: int, name: str, note: str | None = None) -> Screen:
    """Go back to one step of the wizard (``gen:step``)."""
    if name == "model":
        return models(user_id, note)
    draft = drafts.go(user_id, name)
    if name == "prompt":
        return prompt(user_id, note, draft)
    if name == "refs":
        return refs(user_id, note, draft)
    return options.options(user_id, note, draft)


def resume(user_id: int, note: str | None = None) -> Screen:
    """The screen of the step the draft is at (the main menu outside the wizard), with a note."""
    at = drafts.get(user_id).step
    if at == "confirm":
        return confirm(user_id, note)
    if at in ("prompt", "refs", "settings"):
        return step(user_id, at, note)
    return main_menu(user_id, note)


# --------------------------------------------------------------------------- prices




def breakdown(lang: str, quote: pricing.Quote) -> str:
    """'base 30 + 4K +25 + 2 references +2' in the user's language."""
    parts = []
    for label, amount in quote.lines:
        kind = label.split(" ", 1)[0]
        if kind == "base":
            parts.append(i18n.t(lang, "price-line-base", amount=amount))
        elif kind == "resolution":
            parts.append(i18n.t(lang, "price-line-resolution", value=quote.settings["resolution"], amount=amount))
        elif kind == "quality":
            value = i18n.t(lang, f"quality-{quote.settings['quality']}")
            parts.append(i18n.t(lang, "price-line-quality", value=value, amount=amount))
        else:
            parts.append(i18n.t(lang, "price-line-refs", count=quote.settings["refs"], amount=amount))
    return " + ".join(parts)




# --------------------------------------------------------------------------- text input


def text_entered(user_id: int, text: str) -> Screen:
    """A typed message is the draft's prompt. From the prompt step the wizard moves on (back to the
    confirm screen when an existing prompt was replaced); elsewhere the user stays where they are."""
    lang = _lang(user_id)
    draft = drafts.get(user_id)
    was, had_prompt = draft.step, bool(draft.prompt)
    stay = was in ("refs", "settings", "confirm")

    def back(note: str) -> Screen:
        return confirm(user_id, note) if was == "confirm" else step(user_id, was, note)

    try:
        saved = drafts.set_prompt(user_id, text)
    except BananaError as exc:
        note = error_text(lang, exc, model=drafts.model_of(draft), length=len(text.strip()))
        return back(note) if stay else step(user_id, "prompt", note)
    if stay:
        return back(i18n.t(lang, "gen-prompt-updated"))
    if had_prompt and was == "prompt":
        return confirm(user_id)
    return refs(user_id, draft=saved)


def typed(text_input: TextInput) -> Screen:
    """The wizard's text step (:data:`routing.PROMPT`): the prompt; the model list while every model
    is switched off."""
    try:
        return text_entered(text_input.user_id, text_input.text)
    except drafts.NoModels:  # the admin switched every model off mid-wizard
        return models(text_input.user_id)


# --------------------------------------------------------------------------- buttons
# ``gen:*``. Every button but New and a model choice carries the draft's token (``_current``).


def new(press: Press) -> Answer:
    drafts.reset(press.user_id, viewer.user(press.user_id))
    return models(press.user_id), None


def choose_model(press: Press) -> Answer:
    user_id = press.user_id
    lang = _lang(user_id)
    had = len(drafts.get(user_id).refs)
    try:
        draft = drafts.pick_model(user_id, press.args[0], viewer.user(user_id))
    except breaker.ModelUnavailable as exc:  # said on the list, where the model is marked
        return models(user_id, error_text(lang, exc, model=exc.model)), None
    except BananaError as exc:
        return models(user_id), error_text(lang, exc)
    note = None
    if len(draft.refs) < had:  # the new model takes fewer references
        note = i18n.t(lang, "gen-refs-kept", count=len(draft.refs), asked=had, model=drafts.model_of(draft).name,
                      max=drafts.max_refs(draft))
    return (confirm(user_id, note) if draft.prompt else prompt(user_id, note, draft)), None


def _current(handler: Callable[[Press], Answer]) -> Callable[[Press], Answer]:
    """``handler`` for a button of the draft as it is now: an older wizard screen's button, or data
    copied from someone else's panel, is stale."""
    @functools.wraps(handler)
    def checked(press: Press) -> Answer:
        if press.args[0] != token(drafts.get(press.user_id)):
            raise StaleButton("an older wizard screen, or someone else's")
        return handler(press)
    return checked


@_current
def cancel(press: Press) -> Answer:
    drafts.reset(press.user_id, viewer.user(press.user_id))
    return main_menu(press.user_id), i18n.t(_lang(press.user_id), "gen-cancelled")


@_current
def pick_template(press: Press) -> Answer:
    """The template categories (the templates module's screen, through the bot's table: a template
    opens the wizard again, so the two modules do not import each other)."""
    return press.bot.actions[("tpl", "cats")](press.to("tpl", "cats"))


@_current
def to_settings(press: Press) -> Answer:
    return step(press.user_id, "settings"), None


@_current
def clear_refs(press: Press) -> Answer:
    drafts.clear_refs(press.user_id)
    return refs(press.user_id, i18n.t(_lang(press.user_id), "gen-refs-cleared")), None


@_current
def remove_last_ref(press: Press) -> Answer:
    drafts.remove_last_ref(press.user_id)
    return refs(press.user_id, i18n.t(_lang(press.user_id), "gen-refs-removed")), None


@_current
def back_to(press: Press) -> Answer:
    return step(press.user_id, press.args[1]), None


@_current
def to_confirm(press: Press) -> Answer:
    return confirm(press.user_id), None


@_current
def to_edit(press: Press) -> Answer:
    return edit(press.user_id), None


@_current
def choose_setting(press: Press) -> Answer:
    return options.choose(press.user_id, press.args[1])


@_current
def set_setting(press: Press) -> Answer:
    return options.choose_value(press.user_id, press.cb.action, press.args[1])


@_current
def go(press: Press) -> Answer:
    """Generate at the price the confirm screen showed: a price changed since, a model switched off
    or settings no longer offered show the confirm (or the model list) again instead."""
    user_id, shown_price = press.user_id, press.args[1]
    lang = _lang(user_id)
    draft = drafts.get(user_id)
    chosen = drafts.chosen_model(draft)
    if chosen is not None and not chosen.enabled:  # switched off since the confirm screen: no stand-in
        return models(user_id, i18n.t(lang, "error-model-disabled", model=chosen.name)), None
    try:
        price = drafts.quote(user_id).total
    except InvalidInput:
        return confirm(user_id), None  # shows why the settings no longer fit
    if price != shown_price:
        return confirm(user_id, i18n.t(lang, "error-price-changed")), None
    try:
        job = generation.confirm(press.bot.tasks, user_id, chat_id=press.chat_id, expected_cost=shown_price)
    except breaker.ModelUnavailable:  # opened since the confirm screen: nothing held; it says so
        return confirm(user_id), None
    except BananaError as exc:  # PriceChanged (a photo came in meanwhile) re-shows the new price
        return confirm(user_id, error_text(lang, exc, model=drafts.model_of(draft))), None
    return progress.panel(user_id, job.id, started=True), None


ACTIONS: dict[tuple[str, str], Callable[[Press], Answer]] = {
    ("gen", "new"): new, ("gen", "model"): choose_model, ("gen", "cancel"): cancel, ("gen", "tpl"): pick_template,
    ("gen", "skip"): to_settings, ("gen", "rdone"): to_settings, ("gen", "opts"): to_settings,
    ("gen", "rclear"): clear_refs, ("gen", "rlast"): remove_last_ref, ("gen", "step"): back_to,
    ("gen", "next"): to_confirm, ("gen", "edit"): to_edit, ("gen", "go"): go, ("gen", "opt"): choose_setting,
    **{("gen", code): set_setting for code in options.SETTING_OF_ACTION},
}
TEXT_STEPS: dict[str, Callable[[TextInput], Screen]] = {PROMPT: typed}


def register(bot: Any) -> None:
    """The wizard's buttons, its text step, ``/generate`` and ``/cancel``, and the job's chat action
    while it runs."""
    bot.add_actions(ACTIONS)
    bot.add_text_steps(TEXT_STEPS)
    bot.loops.append(progress.run_forever)

    @bot.client.on(events.NewMessage(pattern=r"^/generate(?:@\w+)?\s*$"))
    async def on_generate(event: Any) -> None:
        def render(user: User) -> Screen:
            drafts.reset(user.id, user)
            return models(user.id)

        await bot.reply(event, render)

    @bot.client.on(events.NewMessage(pattern=r"^/cancel(?:@\w+)?\s*$"))
    async def on_cancel(event: Any) -> None:
        def render(user: User) -> Screen:
            drafts.reset(user.id, user)
            return main_menu(user.id, i18n.t(user.language, "gen-cancelled"))

        await bot.reply(event, render)
