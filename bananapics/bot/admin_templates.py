"""🧩 Templates/Trending: every template (hidden ones too) paged, a template's card (its preview
photo, titles and prompts in uz/ru/en, category, model and settings defaults, uses), show/hide, pin
to trending, move up/down, edit titles, prompts, model, settings and the preview photo (sent as a
photo while the card asks for it), delete (a reason and a confirmation); create a template in a
category; categories (create, rename); the trending window (``trending.days``, the System section's
setting form). Every change is one ``services.templates`` call (admin only, admin-logged).
"""

from __future__ import annotations

import asyncio
import functools
import re
from types import SimpleNamespace
from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot import references
from bananapics.bot.routing import Answer, Press, TextInput
from bananapics.bot.ui import Screen, button, excerpt
from bananapics.errors import BananaError, InvalidInput, PermissionDenied
from bananapics.images import MAX_BYTES
from bananapics.models.templates import LANGS
from bananapics.services import catalog, console, conversation, jobs, pricing, templates
from bananapics.services.audit import Actor

EDIT = "templates.edit"
PAGE_SIZE = 8
LIST = ("adm", "tpls", 0)
PHOTO_STEP = "adm.tplphoto"
SETTING_PAIR = re.compile(r"([a-z_]+)\s*[=:]\s*([A-Za-z0-9:]+)")


# ------------------------------------------------------------------ value parsers


def _text(limit: int):
    def parse(text: str) -> str:
        cleaned = " ".join((text or "").split())
        if not cleaned:
            raise kit.InputError("adm-bad-empty")
        if len(cleaned) > limit:
            raise kit.InputError("adm-bad-too-long", limit=limit)
        return cleaned
    return parse


def prompt(text: str) -> str:
    try:
        return jobs.clean_prompt(text)
    except InvalidInput:
        if len((text or "").strip()) > jobs.PROMPT_MAX:
            raise kit.InputError("adm-bad-too-long", limit=jobs.PROMPT_MAX) from None
        raise kit.InputError("adm-bad-empty") from None


def model(text: str) -> str:
    """A model id, or "-" for none (the user's own model)."""
    raw = (text or "").strip().lower()
    if raw in ("-", "—", "none"):
        return ""
    if len(raw) > 32 or pricing.find_model(raw) is None:
        raise kit.InputError("adm-bad-model")
    return raw


def settings_text(text: str) -> dict[str, Any]:
    """"aspect_ratio=16:9 resolution=2K count=2", or "-" for none (the model checks them on save)."""
    raw = (text or "").strip()
    if raw in ("-", "—"):
        return {}
    if len(raw) > 200:
        raise kit.InputError("adm-bad-too-long", limit=200)
    pairs = SETTING_PAIR.findall(raw)
    if not pairs or SETTING_PAIR.sub("", raw).strip(" ,;"):
        raise kit.InputError("adm-bad-settings")
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in pricing.OPTION_KEYS and key != "count":
            raise kit.InputError("adm-bad-settings")
        out[key] = int(value) if key == "count" and value.isdigit() else value
    return out


def slug(text: str) -> str:
    raw = (text or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", raw):
        raise kit.InputError("adm-bad-slug")
    return raw


TITLE = _text(templates.TITLE_MAX)
CATEGORY_NAME = _text(templates.CATEGORY_NAME_MAX)


# ------------------------------------------------------------------ list and card


@kit.section()
def template_list(press: Press, actor: Actor) -> Answer:
    """``adm:tpls:<page>``: every template by category and order; its uses; new, categories, trending."""
    lang = kit.lang(press)
    everything = console.template_rows(actor=actor)

    def fetch(f: dict[str, Any], after: str | None, limit: int) -> Any:
        start = int(after or 0)
        chunk = everything[start:start + limit]
        return SimpleNamespace(items=chunk, next=str(start + limit) if start + limit < len(everything) else None)

    view = kit.keyset_page(press, "tpls", press.args[0], fetch, lambda f: len(everything), size=PAGE_SIZE)
    rows = [[button(lang, "btn-adm-tpl-row", "adm", "tpl", t.id, state="👁" if t.active else "🙈",
                    pin="📌" if t.pinned else "", title=excerpt(getattr(t, f"title_{lang}"), 40), uses=n)]
            for t, n in view.items]
    extra = []
    if actor.can(EDIT):
        extra.append([button(lang, "btn-adm-tpl-add", "adm", "tadd"), button(lang, "btn-adm-tpl-cats", "adm", "tcats")])
    if actor.can("settings.set"):
        extra.append([button(lang, "btn-adm-trending-days", "adm", "sset", "trending.days",
                             days=templates.trending_days())])
    screen = kit.page_screen(lang, i18n.t(lang, "adm-tpls-title", days=templates.trending_days()), view, rows,
                             ("adm", "tpls"), kit.HOME)
    return Screen(screen.text, screen.buttons[:-1] + extra + screen.buttons[-1:]), None


def card_screen(ctx: kit.Ctx, actor: Actor, template_id: int) -> Screen:
    lang = kit.lang(ctx)
    t = console.template(template_id, actor=actor)
    uses = templates.uses(t.id)
    lines = [i18n.t(lang, "adm-tpl-head", id=t.id, title=excerpt(getattr(t, f"title_{lang}"), 64),
                    state=i18n.t(lang, "adm-tpl-shown" if t.active else "adm-tpl-hidden"),
                    pin=i18n.t(lang, "adm-tpl-pinned") if t.pinned else "", uses=uses),
             i18n.t(lang, "adm-tpl-meta", category=t.category_id, model=t.model or "—",
                    settings=", ".join(f"{k}={v}" for k, v in sorted(t.settings_dict.items())) or "—")]
    for code in LANGS:
        lines.append(f"{code}: {excerpt(getattr(t, f'title_{code}'), 64)} — {excerpt(getattr(t, f'prompt_{code}'), 120)}")
    rows: list[list[Any]] = []
    if actor.can(EDIT):
        rows.append([button(lang, "btn-adm-tpl-hide" if t.active else "btn-adm-tpl-show", "adm", "ttog", t.id),
                     button(lang, "btn-adm-tpl-unpin" if t.pinned else "btn-adm-tpl-pin", "adm", "tpin", t.id),
                     button(lang, "btn-adm-up", "adm", "tmove", t.id, "up"),
                     button(lang, "btn-adm-down", "adm", "tmove", t.id, "down")])
        rows.append([button(lang, "btn-adm-tpl-titles", "adm", "tedit", t.id, "title"),
                     button(lang, "btn-adm-tpl-prompts", "adm", "tedit", t.id, "prompt")])
        rows.append([button(lang, "btn-adm-tpl-model", "adm", "tedit", t.id, "model"),
                     button(lang, "btn-adm-tpl-settings", "adm", "tedit", t.id, "settings"),
                     button(lang, "btn-adm-tpl-photo", "adm", "tedit", t.id, "photo")])
        rows.append([button(lang, "btn-adm-tpl-delete", "adm", "tdel", t.id)])
    rows.append([button(lang, "btn-back", *LIST), *kit.home_row(lang)])
    text = "\n".join(lines)
    return Screen(text[:1000] if t.preview_key else text[:4000], rows, photo=t.preview_key)


@kit.section()
def template_card(press: Press, actor: Actor) -> Answer:
    """``adm:tpl:<id>``: the card."""
    return card_screen(press, actor, press.args[0]), None


def _card(tid: int) -> tuple[Any, ...]:
    return ("adm", "tpl", tid)


def _flip(press: Press, actor: Actor, change: Any, key: str) -> Answer:
    lang = kit.lang(press)
    try:
        t = change(press.args[0], actor=actor, reason="admin panel")
        flag = t.active if key == "adm-done-tpl-toggle" else t.pinned
        note = i18n.t(lang, key, title=excerpt(getattr(t, f"title_{lang}"), 64), on=1 if flag else 0)
    except BananaError as exc:
        note = kit.failed(lang, exc)
    return kit.render(press, _card(press.args[0]), note), None


@kit.section(EDIT)
def toggle(press: Press, actor: Actor) -> Answer:
    """``adm:ttog:<id>``: show or hide."""
    return _flip(press, actor, templates.toggle, "adm-done-tpl-toggle")


@kit.section(EDIT)
def pin(press: Press, actor: Actor) -> Answer:
    """``adm:tpin:<id>``: pin to trending or unpin."""
    return _flip(press, actor, templates.pin, "adm-done-tpl-pin")


@kit.section(EDIT)
def move(press: Press, actor: Actor) -> Answer:
    """``adm:tmove:<id>:<up|down>``: one place up or down in its category."""
    tid, direction = press.args
    templates.move(tid, -1 if direction == "up" else 1, actor=actor, reason="admin panel")
    return kit.render(press, _card(tid), i18n.t(kit.lang(press), "adm-done-moved")), None


# ------------------------------------------------------------------ create, edit, delete


def _lang_fields(prefix: str, parse: Any, ask: str) -> tuple[kit.Field, ...]:
    return tuple(kit.Field(f"{prefix}_{code}", parse, ask, lambda v, code=code: {"language": code.upper()}) for code in LANGS)


def _per_lang(values: dict[str, Any], prefix: str) -> dict[str, str]:
    return {code: values[f"{prefix}_{code}"] for code in LANGS}


def _model_ids(actor: Actor) -> str:
    return ", ".join(m.id for m in catalog.models(actor=actor) if m.enabled)


def _models_arg(values: dict[str, Any]) -> dict[str, Any]:
    return {"models": values.get("models", "")}


def _create_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    return i18n.t(lang, "adm-effect-tpl-add", title=values[f"title_{lang}"], category=values["cat"],
                  model=values["model"] or "—",
                  settings=", ".join(f"{k}={v}" for k, v in sorted(values["settings"].items())) or "—")


def _create_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    t = templates.create(actor=actor, category=values["cat"], titles=_per_lang(values, "title"),
                         prompts=_per_lang(values, "prompt"), model=values["model"] or None,
                         settings=values["settings"], sort=10_000, reason="admin panel")
    return i18n.t(kit.lang(ctx), "adm-done-tpl-add", id=t.id, title=getattr(t, f"title_{kit.lang(ctx)}"))


kit.form(kit.Form("templates.create", EDIT, _create_apply, effect=_create_effect, target=lambda v: "template:new",
                  fields=(*_lang_fields("title", TITLE, "adm-ask-tpl-title"),
                          *_lang_fields("prompt", prompt, "adm-ask-tpl-prompt"),
                          kit.Field("model", model, "adm-ask-tpl-model", _models_arg),
                          kit.Field("settings", settings_text, "adm-ask-tpl-settings"))))


@kit.section(EDIT)
def add(press: Press, actor: Actor) -> Answer:
    """``adm:tadd``: pick the new template's category."""
    lang = kit.lang(press)
    rows = [[button(lang, "btn-adm-tpl-cat-row", "adm", "tnew", c.slug, name=excerpt(getattr(c, f"name_{lang}"), 40),
                    count=n)] for c, n in console.template_categories(actor=actor)]
    rows.append([button(lang, "btn-back", *LIST)])
    return Screen(i18n.t(lang, "adm-tpl-pick-cat"), rows), None


@kit.section(EDIT)
def add_in(press: Press, actor: Actor) -> Answer:
    """``adm:tnew:<category>``: titles and prompts in uz/ru/en, model and settings, then confirm."""
    return kit.start(press, "templates.create", {"cat": press.args[0], "models": _model_ids(actor)}, LIST), None


def _update_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    what = values["what"]
    if what in ("title", "prompt"):
        change = {f"{what}s": _per_lang(values, what)}
    elif what == "model":
        change = {"model": values["model"] or None}
    else:
        change = {"settings": values["settings"]}
    t = templates.update(values["id"], actor=actor, reason="admin panel", **change)
    return i18n.t(kit.lang(ctx), "adm-done-tpl-edit", title=getattr(t, f"title_{kit.lang(ctx)}"))


def _target(values: dict[str, Any]) -> str:
    return f"template:{values.get('id')}"


kit.form(kit.Form("templates.title", EDIT, _update_apply, _lang_fields("title", TITLE, "adm-ask-tpl-title"),
                  target=_target))
kit.form(kit.Form("templates.prompt", EDIT, _update_apply, _lang_fields("prompt", prompt, "adm-ask-tpl-prompt"),
                  target=_target))
kit.form(kit.Form("templates.model", EDIT, _update_apply,
                  (kit.Field("model", model, "adm-ask-tpl-model", _models_arg),), target=_target))
kit.form(kit.Form("templates.settings", EDIT, _update_apply,
                  (kit.Field("settings", settings_text, "adm-ask-tpl-settings"),), target=_target))


def photo_ask(lang: str, note: str | None = None) -> Screen:
    text = i18n.t(lang, "adm-ask-tpl-photo")
    return Screen(f"{note}\n\n{text}" if note else text, [[button(lang, "btn-cancel", "adm", "cancel")]])


@kit.section(EDIT)
def edit(press: Press, actor: Actor) -> Answer:
    """``adm:tedit:<id>:<title|prompt|model|settings|photo>``: the edit's text steps (or the photo)."""
    tid, what = press.args
    console.template(tid, actor=actor)  # a forged id: outdated
    if what == "photo":
        conversation.expect(press.user_id, PHOTO_STEP, {"id": tid, "back": list(_card(tid))}, ttl_s=kit.STEP_TTL_S)
        return photo_ask(kit.lang(press)), None
    values = {"id": tid, "what": what, "models": _model_ids(actor)}
    return kit.start(press, f"templates.{what}", values, _card(tid)), None


def on_photo_text(text: TextInput) -> Screen:
    """Typing while the card waits for a preview photo: asked again."""
    kit.staff(text, EDIT, f"template:{text.data.get('id')}")
    return photo_ask(kit.lang(text), i18n.t(kit.lang(text), "adm-bad-photo"))


async def on_media(bot: Any, user: Any, chat_id: int, messages: list[Any], data: dict[str, Any]) -> bool:
    """A photo (or image file) sent while the card asks for a preview: stored, the card again. From
    someone no longer allowed, the photo goes on to the wizard (False)."""
    lang = user.language
    ctx = SimpleNamespace(bot=bot, user_id=user.id, chat_id=chat_id)
    tid = int(data.get("id", 0))
    try:
        actor = await asyncio.to_thread(kit.staff, ctx, EDIT, f"template:{tid}")
    except PermissionDenied:
        await asyncio.to_thread(conversation.clear, user.id)
        return False
    images = [m for m in messages if references.is_image(m)]
    if not images or (images[0].file and (images[0].file.size or 0) > MAX_BYTES):
        await bot.show(user, chat_id, photo_ask(lang, i18n.t(lang, "adm-bad-photo")))
        return True
    try:
        async with bot.images.turn(user.id):
            data = await images[0].download_media(bytes)
            await bot.images.run(functools.partial(templates.store_preview, actor=actor), bot.storage, tid, data)
    except BananaError as exc:
        await bot.show(user, chat_id, photo_ask(lang, kit.failed(lang, exc)))
        return True
    await asyncio.to_thread(conversation.clear, user.id)
    screen = await asyncio.to_thread(kit.render, ctx, _card(tid), i18n.t(lang, "adm-done-tpl-photo"))
    await bot.show(user, chat_id, screen)
    return True


def _delete_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    t = console.template(values["id"], actor=actor)
    return i18n.t(lang, "adm-effect-tpl-delete", title=getattr(t, f"title_{lang}"), uses=templates.uses(t.id),
                  reason=values["reason"])


def _delete_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    t = console.template(values["id"], actor=actor)
    templates.delete(values["id"], actor=actor, reason=values["reason"])
    return i18n.t(kit.lang(ctx), "adm-done-tpl-delete", title=getattr(t, f"title_{kit.lang(ctx)}"))


kit.form(kit.Form("templates.delete", EDIT, _delete_apply, (kit.Field("reason", kit.reason, "admin-ask-reason"),),
                  effect=_delete_effect, target=_target))


@kit.section(EDIT)
def delete(press: Press, actor: Actor) -> Answer:
    """``adm:tdel:<id>``: a reason, the exact effect, delete on yes (back to the list)."""
    console.template(press.args[0], actor=actor)
    return kit.start(press, "templates.delete", {"id": press.args[0]}, LIST), None


# ------------------------------------------------------------------ categories


@kit.section(EDIT)
def categories(press: Press, actor: Actor) -> Answer:
    """``adm:tcats``: every category (with how many templates); rename one or add one."""
    lang = kit.lang(press)
    rows = [[button(lang, "btn-adm-tpl-cat-row", "adm", "tcat", c.slug, name=excerpt(getattr(c, f"name_{lang}"), 40),
                    count=n)] for c, n in console.template_categories(actor=actor)]
    rows.append([button(lang, "btn-adm-cat-add", "adm", "tcatnew")])
    rows.append([button(lang, "btn-back", *LIST), *kit.home_row(lang)])
    return Screen(i18n.t(lang, "adm-cats-title"), rows), None


def _category_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    current = {c.slug: c.sort for c, _ in console.template_categories(actor=actor)}
    sort = current.get(values["slug"], (max(current.values(), default=0) + 10))
    row = templates.save_category(values["slug"], names=_per_lang(values, "name"), sort=sort, actor=actor,
                                  reason="admin panel")
    return i18n.t(kit.lang(ctx), "adm-done-cat", slug=row.slug, name=getattr(row, f"name_{kit.lang(ctx)}"))


_NAMES = _lang_fields("name", CATEGORY_NAME, "adm-ask-cat-name")
kit.form(kit.Form("templates.category", EDIT, _category_apply, _NAMES, target=lambda v: f"category:{v.get('slug')}"))
kit.form(kit.Form("templates.newcategory", EDIT, _category_apply,
                  (kit.Field("slug", slug, "adm-ask-cat-slug"), *_NAMES), target=lambda v: "category:new"))


@kit.section(EDIT)
def rename_category(press: Press, actor: Actor) -> Answer:
    """``adm:tcat:<slug>``: type its names in uz/ru/en."""
    known = {c.slug for c, _ in console.template_categories(actor=actor)}
    if press.args[0] not in known:
        raise kit.StaleButton("no such category")
    return kit.start(press, "templates.category", {"slug": press.args[0]}, ("adm", "tcats")), None


@kit.section(EDIT)
def new_category(press: Press, actor: Actor) -> Answer:
    """``adm:tcatnew``: its id (a-z, 0-9, - and _) and names in uz/ru/en."""
    return kit.start(press, "templates.newcategory", {}, ("adm", "tcats")), None


@kit.section()
def section_home(press: Press, actor: Actor) -> Answer:
    kit.set_filters(press, "tpls", {})
    return template_list(press.to(*LIST))


ACTIONS = {("adm", "tpls"): template_list, ("adm", "tpl"): template_card, ("adm", "ttog"): toggle,
           ("adm", "tpin"): pin, ("adm", "tmove"): move, ("adm", "tadd"): add, ("adm", "tnew"): add_in,
           ("adm", "tedit"): edit, ("adm", "tdel"): delete, ("adm", "tcats"): categories,
           ("adm", "tcat"): rename_category, ("adm", "tcatnew"): new_category}
SECTIONS = {"templates": section_home}
TEXT_STEPS = {PHOTO_STEP: on_photo_text}


def register(bot: Any) -> None:
    references.MEDIA_STEPS[PHOTO_STEP] = on_media
