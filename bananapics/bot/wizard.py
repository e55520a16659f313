"""The generate wizard's screens: model → prompt → references → confirm → progress.

Buttons carry the draft's version (hex), so a button from an older screen of the wizard is stale.
Every step is validated by ``services.drafts``; the confirm submits one job per confirm screen.
"""

from __future__ import annotations

import json
from typing import Any

from telethon import Button

from bananapics import i18n
from bananapics.bot.callbacks import Callback, StaleButton, encode
from bananapics.bot.screens import Screen, _btn, _menu_row, main_menu
from bananapics.errors import BananaError
from bananapics.services import drafts, ledger, pricing, users


def _v(draft) -> str:
    return format(draft.version, "x")


def models(user_id: int) -> Screen:
    lang = users.get_by_id(user_id).language
    available = drafts.enabled_models()
    if not available:
        return Screen(i18n.t(lang, "gen-no-models"), [_menu_row(lang)])
    rows = [[Button.inline(i18n.t(lang, "btn-model-default" if m.is_default else "btn-model", name=m.name,
                                  price=pricing.starting_price(m)), encode("gen", "model", m.id))]
            for m in available]
    return Screen(i18n.t(lang, "gen-model-title"), rows + [_menu_row(lang)])


def prompt(user_id: int) -> Screen:
    lang = users.get_by_id(user_id).language
    draft = drafts.get(user_id)
    model = drafts._model(draft)
    return Screen(i18n.t(lang, "gen-prompt-ask", model=model.name, limit=2000),
                  [[_btn(lang, "btn-pick-template", "gen", "tpl", _v(draft))],
                   [_btn(lang, "btn-cancel", "gen", "cancel", _v(draft))]])


def refs(user_id: int, note: str | None = None) -> Screen:
    lang = users.get_by_id(user_id).language
    draft = drafts.get(user_id)
    limit = drafts.max_refs(draft)
    count = len(draft.refs)
    lines = [note] if note else []
    lines.append(i18n.t(lang, "gen-refs-ask", max=limit))
    if count:
        lines.append(i18n.t(lang, "gen-refs-count", count=count, max=limit))
    row = [_btn(lang, "btn-refs-done", "gen", "rdone", _v(draft), count=count),
           _btn(lang, "btn-refs-clear", "gen", "rclear", _v(draft))] if count else \
        [_btn(lang, "btn-skip", "gen", "skip", _v(draft))]
    return Screen("\n".join(lines), [row, [_btn(lang, "btn-cancel", "gen", "cancel", _v(draft))]])


def confirm(user_id: int, note: str | None = None) -> Screen:
    user = users.get_by_id(user_id)
    lang = user.language
    draft = drafts.go(user_id, "confirm")
    model = drafts._model(draft)
    quote = pricing.cost(model, {**draft.settings_dict, "refs": len(draft.refs)})
    available, _ = ledger.balance(user_id)
    options = " · ".join(str(v) for k, v in quote.settings.items() if k in ("resolution", "quality", "aspect_ratio"))
    lines = [note] if note else []
    lines += [i18n.t(lang, "confirm-title"), i18n.t(lang, "confirm-model", model=model.name, options=options),
              i18n.t(lang, "confirm-prompt", prompt=(draft.prompt or "")[:200])]
    if draft.refs:
        lines.append(i18n.t(lang, "confirm-refs", count=len(draft.refs)))
    after = available - quote.total
    if quote.count > 1:
        lines.append(i18n.t(lang, "confirm-price", count=quote.count, per_image=quote.per_image,
                            total=quote.total, after=max(after, 0)))
    else:
        lines.append(i18n.t(lang, "confirm-price-single", total=quote.total, after=max(after, 0)))
    if after < 0:
        lines.append(i18n.t(lang, "confirm-short", price=quote.total, balance=available, shortfall=-after))
        first = _btn(lang, "btn-topup-shortfall", "bal", "open", shortfall=-after)
    else:
        first = _btn(lang, "btn-generate-price", "gen", "go", _v(draft), quote.total, price=quote.total)
    return Screen("\n".join(lines), [[first], [_btn(lang, "btn-cancel", "gen", "cancel", _v(draft))]])


def error_text(lang: str, exc: BananaError) -> str:
    key = i18n.error_key(exc)
    args: dict[str, Any] = {"model": "", "length": 0, "limit": 2000, "max_mb": 10, "max": 0,
                            "available": getattr(exc, "available", 0), "needed": getattr(exc, "needed", 0)}
    return i18n.t(lang, key, **args)


def route(user_id: int, cb: Callback, chat_id: int, submit) -> tuple[Screen, str | None]:
    """Wizard buttons. ``submit(job)`` enqueues a confirmed job after its transaction commits."""
    lang = users.get_by_id(user_id).language
    if cb.action == "new":
        drafts.reset(user_id)
        return models(user_id), None
    if cb.action == "model":
        try:
            drafts.choose_model(user_id, cb.args[0])
        except BananaError as exc:
            return models(user_id), error_text(lang, exc)
        return prompt(user_id), None
    draft = drafts.get(user_id)
    if cb.args and cb.args[0] != _v(draft):
        raise StaleButton("an older wizard screen")
    if cb.action == "cancel":
        drafts.reset(user_id)
        return main_menu(user_id), i18n.t(lang, "gen-cancelled")
    if cb.action == "tpl":
        from bananapics.bot import templates  # the template screens open the wizard again: import late

        return templates.categories(user_id), None
    if cb.action in ("skip", "rdone"):
        return confirm(user_id), None
    if cb.action == "rclear":
        drafts.clear_refs(user_id)
        return refs(user_id, i18n.t(lang, "gen-refs-cleared")), None
    if cb.action == "go":
        shown_price = cb.args[1]
        if drafts.quote(user_id).total != shown_price:
            return confirm(user_id, i18n.t(lang, "error-price-changed")), None
        try:
            job = submit(user_id, chat_id)
        except BananaError as exc:
            return confirm(user_id, error_text(lang, exc)), None
        return Screen("\n".join([i18n.t(lang, "gen-started", price=job.cost), i18n.t(lang, "progress-running")]),
                      [_menu_row(lang)]), None
    raise StaleButton(f"gen:{cb.action} has no screen yet")


def settings_text(job_settings: str) -> dict:
    return json.loads(job_settings or "{}")
