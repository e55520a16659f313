"""Screens: what a user sees for each state, as text plus inline buttons, in their language.

Functions here run in a worker thread (they read the database through services) and return a
:class:`Screen`; the bot edits the panel with it. ``ACTIONS`` maps their buttons to handlers.
Only screens that work are offered as buttons. Feature areas (``history``, ``templates``, ``account``)
build their screens in their own modules with the helpers of ``bananapics.bot.ui``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from telethon import Button, events

from bananapics import i18n
from bananapics.bot import payments, viewer
from bananapics.bot.callbacks import StaleButton, encode
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import BOT_USERNAME, Screen, button, error_text, menu_row
from bananapics.errors import BananaError, InvalidInput
from bananapics.models import AiModel, User
from bananapics.services import drafts, preferences, pricing, referrals, toggles


def main_menu(user_id: int, welcome: str | None = None) -> Screen:
    user = viewer.user(user_id)
    lang = user.language
    text = i18n.t(lang, "menu-title", balance=user.available)
    if welcome:
        text = f"{welcome}\n\n{text}"
    templates = [[button(lang, "btn-templates", "tpl", "cats"), button(lang, "btn-trending", "trend", "page", 0)]] \
        if toggles.is_on("templates") else []  # switched off by an admin: no buttons to a dead end
    return Screen(text, [
        [button(lang, "btn-generate", "gen", "new")],
        *templates,
        [button(lang, "btn-history", "hist", "page", 0), button(lang, "btn-balance", "bal", "open")],
        [button(lang, "btn-invite", "ref", "open"), button(lang, "btn-settings", "set", "open")],
        [button(lang, "btn-profile", "prof", "open"), button(lang, "btn-help", "help", "open")],
    ])


def referral(user_id: int) -> Screen:
    """The user's invite link and what it earned; while an admin has referrals switched off, no link
    (it would bind no one), a line saying so, and the figures."""
    user = viewer.user(user_id)
    lang = user.language
    stats = referrals.stats(user_id)
    if not toggles.is_on("referrals"):
        text = "\n".join([i18n.t(lang, "ref-title"), "", i18n.t(lang, "ref-off"), "",
                          i18n.t(lang, "ref-stats", friends=stats.friends, earned=stats.earned)])
        return Screen(text, [menu_row(lang)])
    rules = referrals.rules()
    link = f"https://t.me/{BOT_USERNAME['value']}?start=ref_{stats.code}"
    rule = "ref-rule-off" if rules.percent == 0 else f"ref-rule-{rules.mode}"
    text = "\n".join([
        i18n.t(lang, "ref-title"), "", i18n.t(lang, "ref-link"), link, "",
        i18n.t(lang, "ref-stats", friends=stats.friends, earned=stats.earned),
        i18n.t(lang, rule, percent=rules.percent),
    ])
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(i18n.t(lang, 'ref-share-text'), safe='')}"
    return Screen(text, [[Button.url(i18n.t(lang, "btn-share"), share)], menu_row(lang)], code=(link,))


def help_screen(user_id: int) -> Screen:
    lang = viewer.lang(user_id)
    lines = [i18n.t(lang, "help-text"), "", i18n.t(lang, "help-prices-title")]
    for model in drafts.enabled_models():
        lines.append(i18n.t(lang, "help-price-line", model=model.name, price=pricing.starting_price(model)))
    lines += ["", i18n.t(lang, "help-commands")]
    return Screen("\n".join(lines), [
        [button(lang, "btn-terms", "help", "doc", "terms"), button(lang, "btn-privacy", "help", "doc", "privacy")],
        [button(lang, "btn-paysupport", "help", "doc", "paysupport"), button(lang, "btn-support", "help", "doc", "support")],
        menu_row(lang),
    ])


def doc(user_id: int, name: str, contact: str) -> Screen:
    """``/terms``, ``/privacy``, ``/support`` as a panel screen (from Help), with Back to Help."""
    lang = viewer.lang(user_id)
    return Screen(i18n.t(lang, f"{name}-text", contact=contact),
                  [[button(lang, "btn-back", "help", "open")] + menu_row(lang)])


def settings_screen(user_id: int) -> Screen:
    """Language, default model and default aspect ratio, each with its picker."""
    user = viewer.user(user_id)
    lang = user.language
    enabled = drafts.enabled_models()
    mine = next((m for m in enabled if m.id == user.pref_model), None)
    if mine is not None:
        model = mine.name
    else:
        fallback = drafts.admins_default(enabled)
        model = i18n.t(lang, "settings-model-recommended", model=fallback.name if fallback else "—")
    ratio = _pref_ratio(user, enabled) or i18n.t(lang, "settings-ratio-auto")
    text = i18n.t(lang, "settings-title", language=i18n.language_names()[lang], model=model, ratio=ratio)
    return Screen(text, [
        [button(lang, "btn-language", "set", "langs")],
        [button(lang, "btn-default-model", "set", "models"), button(lang, "btn-default-ratio", "set", "ratios")],
        menu_row(lang),
    ])


def _pref_ratio(user: User, enabled: list[AiModel]) -> str | None:
    """The user's default ratio while some enabled model offers it (else it has no effect: None)."""
    return user.pref_ratio if user.pref_ratio in preferences.ratios(enabled) else None


def _mark(lang: str, text: str, selected: bool) -> str:
    return i18n.t(lang, "btn-option-selected", value=text) if selected else text


def default_models(user_id: int) -> Screen:
    """The default-model picker: the recommended (admin's) choice first, then every enabled model."""
    user = viewer.user(user_id)
    lang = user.language
    enabled = drafts.enabled_models()
    mine = user.pref_model if any(m.id == user.pref_model for m in enabled) else None
    admins = drafts.admins_default(enabled)
    rows = [[Button.inline(_mark(lang, i18n.t(lang, "settings-model-follow", model=admins.name if admins else "—"),
                                 mine is None), encode("set", "automodel"))]]
    rows += [[Button.inline(_mark(lang, m.name, m.id == mine), encode("set", "model", m.id))] for m in enabled]
    return Screen(i18n.t(lang, "settings-model-title"), rows + [[button(lang, "btn-back", "set", "open")] + menu_row(lang)])


def default_ratios(user_id: int) -> Screen:
    """The default-ratio picker: each model's own default, then every ratio some enabled model offers."""
    user = viewer.user(user_id)
    lang = user.language
    enabled = drafts.enabled_models()
    mine = _pref_ratio(user, enabled)
    buttons = [Button.inline(_mark(lang, ratio, ratio == mine), encode("set", "ratio", ratio))
               for ratio in preferences.ratios(enabled)]
    rows = [[Button.inline(_mark(lang, i18n.t(lang, "settings-ratio-auto"), not mine),
                           encode("set", "noratio"))]]
    rows += [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    return Screen(i18n.t(lang, "settings-ratio-title"), rows + [[button(lang, "btn-back", "set", "open")] + menu_row(lang)])


def set_default_model(user_id: int, model_id: str | None) -> tuple[Screen, str]:
    try:
        user = preferences.set_model(user_id, model_id)
    except BananaError as exc:
        return default_models(user_id), error_text(viewer.lang(user_id), exc, model=pricing.find_model(model_id))
    viewer.VIEWER.set(user)
    lang = user.language
    name = next((m.name for m in drafts.enabled_models() if m.id == model_id), None) if model_id else None
    toast = i18n.t(lang, "settings-model-set", model=name or i18n.t(lang, "settings-model-auto"))
    return settings_screen(user_id), toast


def set_default_ratio(user_id: int, ratio: str | None) -> tuple[Screen, str]:
    try:
        user = preferences.set_ratio(user_id, ratio)
    except BananaError as exc:
        return default_ratios(user_id), error_text(viewer.lang(user_id), exc)
    viewer.VIEWER.set(user)
    lang = user.language
    return settings_screen(user_id), i18n.t(lang, "settings-ratio-set", ratio=ratio or i18n.t(lang, "settings-ratio-auto"))


def languages(user_id: int) -> Screen:
    lang = viewer.lang(user_id)
    names = i18n.language_names()
    row = [Button.inline(("✓ " if code == lang else "") + names[code], encode("set", "lang", code))
           for code in i18n.LANGUAGES]
    return Screen(i18n.t(lang, "settings-language-title"), [row, menu_row(lang)])


def set_language(user_id: int, code: str) -> tuple[Screen, str]:
    try:
        preferences.set_language(user_id, code)
    except InvalidInput:
        raise StaleButton(code) from None
    viewer.forget()
    return settings_screen(user_id), i18n.t(code, "settings-language-set")


def help_doc(press: Press) -> Answer:
    """Help's documents: terms, privacy and support texts; payment help with the user's payments."""
    contact = press.bot.config.telegram.support_contact
    if press.args[0] == "paysupport":
        return payments.paysupport(press.user_id, contact), None
    if press.args[0] != "prices":
        return doc(press.user_id, press.args[0], contact), None
    return help_screen(press.user_id), None


# the buttons of the screens above
ACTIONS: dict[tuple[str, str], Callable[[Press], Answer]] = {
    ("menu", "open"): lambda press: (main_menu(press.user_id), None),
    ("ref", "open"): lambda press: (referral(press.user_id), None),
    ("help", "open"): lambda press: (help_screen(press.user_id), None),
    ("help", "doc"): help_doc,
    ("set", "open"): lambda press: (settings_screen(press.user_id), None),
    ("set", "langs"): lambda press: (languages(press.user_id), None),
    ("set", "lang"): lambda press: set_language(press.user_id, press.args[0]),
    ("set", "models"): lambda press: (default_models(press.user_id), None),
    ("set", "model"): lambda press: set_default_model(press.user_id, press.args[0]),
    ("set", "automodel"): lambda press: set_default_model(press.user_id, None),
    ("set", "ratios"): lambda press: (default_ratios(press.user_id), None),
    ("set", "ratio"): lambda press: set_default_ratio(press.user_id, press.args[0]),
    ("set", "noratio"): lambda press: set_default_ratio(press.user_id, None),
}


def register(bot: Any) -> None:
    """The buttons above, ``/help``, ``/lang``, ``/settings`` and the legal texts."""
    bot.add_actions(ACTIONS)
    contact = bot.config.telegram.support_contact

    @bot.client.on(events.NewMessage(pattern=r"^/(help|lang|settings)(?:@\w+)?\s*$"))  # /invite: bot.account
    async def on_command(event: Any) -> None:
        name = event.pattern_match.group(1)
        render = {"help": help_screen, "lang": languages, "settings": settings_screen}[name]
        await bot.reply(event, lambda user: render(user.id))

    @bot.client.on(events.NewMessage(pattern=r"^/(terms|privacy|support)(?:@\w+)?\s*$"))
    async def on_legal(event: Any) -> None:
        """Texts Telegram requires of bots that take payments (banned users and during maintenance
        too: "banned" points here). Sent paced like any answer (a FloodWait is logged, not raised)."""
        user = await bot.guard(event, essential=True)
        if user is None:
            return
        name = event.pattern_match.group(1)
        await bot.say(event.chat_id, i18n.t(user.language, f"{name}-text", contact=contact))
