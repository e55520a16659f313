"""Templates and trending: ``/templates``, categories, a category's templates one card at a time
(the preview photo when there is one, in the same panel), one template, "Use" (fills the draft and
opens the wizard at the photos step), the trending list, and ``/start tpl_<id>`` deep links.

While an admin has templates switched off (``features.templates``) every one of them answers with
the main menu (which then has no templates buttons) saying so, in the user's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from telethon import Button, events

from bananapics import i18n
from bananapics.bot import viewer, wizard
from bananapics.bot.callbacks import encode
from bananapics.bot.routing import Answer, Press
from bananapics.bot.screens import main_menu
from bananapics.bot.ui import BOT_USERNAME, Screen, button, error_text, excerpt, menu_row, noted, pager
from bananapics.errors import BananaError, FeatureOff, NotFound
from bananapics.models import Template
from bananapics.services import drafts, pricing, templates, toggles

TRENDING_PAGE = 8
PROMPT_EXCERPT = 400
DEEP_LINK = "tpl_"


def _lang(user_id: int) -> str:
    return viewer.lang(user_id)


def switched_off(user_id: int, note: str | None = None) -> Screen | None:
    """The main menu saying templates are switched off (under ``note``, a welcome), or None while
    they are on."""
    if toggles.is_on("templates"):
        return None
    return main_menu(user_id, noted(note, error_text(_lang(user_id), FeatureOff("templates"))))


def _footer(lang: str) -> list[list[Any]]:
    return [[button(lang, "btn-templates", "tpl", "cats"), button(lang, "btn-trending", "trend", "page", 0),
             menu_row(lang)[0]]]


def categories(user_id: int, note: str | None = None) -> Screen:
    lang = _lang(user_id)
    found = templates.categories()
    lines = [note, ""] if note else []
    lines.append(i18n.t(lang, "templates-title" if found else "templates-empty"))
    rows = [[Button.inline(i18n.t(lang, "btn-template-category", category=c.name(lang), count=n),
                           encode("tpl", "cat", c.slug, 0))] for c, n in found]
    return Screen("\n".join(lines), rows + [[button(lang, "btn-trending", "trend", "page", 0), menu_row(lang)[0]]])


def _share(lang: str, template: Template) -> Any:
    link = f"https://t.me/{BOT_USERNAME['value']}?start={DEEP_LINK}{template.id}"
    text = f"{template.title(lang)} — {i18n.t(lang, 'template-share-text')}"
    return Button.url(i18n.t(lang, "btn-share"),
                      f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(text, safe='')}")


def card(user_id: int, template: Template, *, index: int | None = None, total: int | None = None,
         note: str | None = None) -> Screen:
    """One template: title, prompt, model and price, uses; a carousel inside its category when
    ``index`` is given. The preview image, if any, makes the panel a photo (caption ≤ 1024)."""
    lang = _lang(user_id)
    lines = [note, ""] if note else []
    if index is not None:
        name = templates.category(template.category_id).name(lang)
        lines.append(i18n.t(lang, "template-category-page", category=name, page=index + 1, pages=total))
    lines += [i18n.t(lang, "template-card", title=template.title(lang)), "",
              f"“{excerpt(template.prompt(lang), PROMPT_EXCERPT)}”", ""]
    model = drafts.default_model() if not template.model else pricing.load_model(template.model)
    if model is not None and model.enabled:
        try:
            price = pricing.cost(model, template.settings_dict).total
        except BananaError:
            price = pricing.starting_price(model)
        lines.append(i18n.t(lang, "template-model", model=model.name, price=price))
    count = templates.uses(template.id)
    if count:
        lines.append(i18n.t(lang, "template-uses", count=count))
    rows = [[button(lang, "btn-use", "tpl", "use", template.id)]]
    if index is not None:
        rows += pager(lang, "tpl", "cat", index, total, template.category_id)
    rows.append([_share(lang, template)])
    return Screen("\n".join(lines).strip(), rows + _footer(lang), photo=template.preview_key)


def in_category(user_id: int, slug: str, index: int) -> Screen:
    try:
        template, index, total = templates.at(slug, index)
    except NotFound:  # hidden or emptied since the list was shown
        return categories(user_id, i18n.t(_lang(user_id), "template-unavailable"))
    return card(user_id, template, index=index, total=total)


def use(user_id: int, template_id: int, note: str | None = None) -> Screen:
    """Fill the draft from the template and open the wizard where the user continues: the photos step.
    ``note`` (a welcome) goes above whatever is shown."""
    lang = _lang(user_id)

    def noted(text: str) -> str:
        return f"{note}\n\n{text}" if note else text

    try:
        template = templates.get(template_id)
    except NotFound:
        return categories(user_id, noted(i18n.t(lang, "template-unavailable")))
    try:
        drafts.from_template(user_id, template, lang, viewer.user(user_id))
    except BananaError as exc:
        return card(user_id, template, note=noted(error_text(lang, exc)))
    return wizard.refs(user_id, noted(i18n.t(lang, "template-applied", title=template.title(lang))))


def trending(user_id: int, number: int = 0) -> Screen:
    lang = _lang(user_id)
    ranked = templates.trending()
    days = templates.trending_days()
    if not ranked:
        return Screen("\n".join([i18n.t(lang, "trending-title", days=days), "", i18n.t(lang, "trending-empty")]),
                      [[button(lang, "btn-templates", "tpl", "cats"), menu_row(lang)[0]]])
    pages = -(-len(ranked) // TRENDING_PAGE)
    number = min(max(number, 0), pages - 1)
    lines = [i18n.t(lang, "trending-title", days=days)]
    if pages > 1:
        lines.append(i18n.t(lang, "list-page", page=number + 1, pages=pages))
    lines.append("")
    rows = []
    for n, (template, count) in enumerate(ranked[number * TRENDING_PAGE:(number + 1) * TRENDING_PAGE],
                                          start=number * TRENDING_PAGE + 1):
        title = template.title(lang)
        if template.pinned:
            lines.append(i18n.t(lang, "trending-pinned-line", title=title, count=count))
            label = i18n.t(lang, "btn-trending-pinned", title=title)
        else:
            lines.append(i18n.t(lang, "trending-line", n=n, title=title, count=count))
            label = i18n.t(lang, "btn-trending-item", n=n, title=title)
        rows.append([Button.inline(label, encode("tpl", "open", template.id))])
    rows += pager(lang, "trend", "page", number, pages)
    return Screen("\n".join(lines), rows + [[button(lang, "btn-templates", "tpl", "cats"), menu_row(lang)[0]]])


def open_one(user_id: int, template_id: int) -> Screen:
    try:
        return card(user_id, templates.get(template_id))
    except NotFound:
        return categories(user_id, i18n.t(_lang(user_id), "template-unavailable"))


def deep_link(user_id: int, arg: str, welcome: str | None) -> Screen:
    """``/start tpl_<id>``: the wizard with that template filled in (SCREENS.md)."""
    off = switched_off(user_id, welcome)
    if off is not None:
        return off
    # isascii: "²" and "①" pass isdigit() but not int(); a payload typed by hand may hold anything
    return use(user_id, int(arg) if arg.isascii() and arg.isdigit() and len(arg) <= 9 else 0, welcome)


def _when_on(render: Callable[[Press], Screen]) -> Callable[[Press], Answer]:
    """A button handler that shows ``render``'s screen while templates are on."""
    def handler(press: Press) -> Answer:
        return switched_off(press.user_id) or render(press), None
    return handler


ACTIONS = {
    ("tpl", "cats"): _when_on(lambda press: categories(press.user_id)),
    ("tpl", "cat"): _when_on(lambda press: in_category(press.user_id, *press.args)),
    ("tpl", "open"): _when_on(lambda press: open_one(press.user_id, press.args[0])),
    ("tpl", "use"): _when_on(lambda press: use(press.user_id, press.args[0])),
    ("trend", "page"): _when_on(lambda press: trending(press.user_id, press.args[0])),
}


def register(bot) -> None:
    bot.add_actions(ACTIONS)
    bot.deep_links[DEEP_LINK] = deep_link

    @bot.client.on(events.NewMessage(pattern=r"^/(templates|trending)(?:@\w+)?\s*$"))
    async def on_templates(event: Any) -> None:
        render = categories if event.pattern_match.group(1) == "templates" else trending
        await bot.reply(event, lambda user: switched_off(user.id) or render(user.id))
