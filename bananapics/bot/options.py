"""The wizard's settings step (``gen:opts``): one row per setting the chosen model declares (aspect
ratio, resolution, quality, output format, number of images) with its current value, a choice list
per row (``gen:opt``), and the price for exactly these settings on the Next button.

Values come from the model's limits (``pricing.choices``); a choice whose combination the model
refuses is not offered, and a forged one is refused with the reason before any token is held.
"""

from __future__ import annotations

from typing import Any

from telethon import Button

from bananapics import i18n
from bananapics.bot import viewer
from bananapics.bot.callbacks import CallbackError, encode
from bananapics.bot.ui import Screen, button, error_text, noted
from bananapics.bot.wizard_parts import cancel_button, price_line, token
from bananapics.errors import InvalidInput
from bananapics.models import AiModel, Draft
from bananapics.services import drafts, pricing

# (callback code, setting key, label key), in screen order
SETTINGS = (("ar", "aspect_ratio", "setting-aspect-ratio"), ("res", "resolution", "setting-resolution"),
            ("q", "quality", "setting-quality"), ("fmt", "format", "setting-format"), ("n", "count", "setting-count"))
SETTING_OF_ACTION = {code: key for code, key, _ in SETTINGS}
_LABEL = {code: label for code, _, label in SETTINGS}
_PRICED = ("resolution", "quality", "count")
_PER_ROW = {"count": 4, "aspect_ratio": 4}


def value_label(lang: str, key: str, value: Any) -> str:
    if key == "quality":
        return i18n.t(lang, f"quality-{value}")
    if key == "count":
        return i18n.t(lang, "btn-count", count=int(value))
    if key == "format":
        return str(value).upper()
    return str(value)


def current(model: AiModel, draft: Draft) -> dict[str, Any]:
    """The value of every setting the model has: the draft's choice, else the model's default."""
    chosen = draft.settings_dict
    return {key: chosen[key] if chosen.get(key) in values else values[0]
            for key, values in pricing.choices(model).items()}


def summary(lang: str, model: AiModel, chosen: dict[str, Any]) -> str:
    """'2K · High · 16:9 · ×2': what the confirm screen shows of the settings."""
    offered = pricing.choices(model)
    parts = [value_label(lang, key, chosen[key]) for key in ("resolution", "quality", "aspect_ratio", "format")
             if key in chosen and (key != "format" or len(offered.get(key, [])) > 1)]
    if chosen.get("count", 1) > 1:
        parts.append(value_label(lang, "count", chosen["count"]))
    return " · ".join(parts)


def options(user_id: int, note: str | None = None, draft: Draft | None = None) -> Screen:
    lang = viewer.lang(user_id)
    draft = draft or drafts.get(user_id)
    tok = token(draft)
    model = drafts.model_of(draft)
    offered = pricing.choices(model)
    values = current(model, draft)
    rows = [[button(lang, "btn-setting", "gen", "opt", tok, code, label=i18n.t(lang, _LABEL[code]),
                  value=value_label(lang, key, values[key]))]
            for code, key, _ in SETTINGS if len(offered.get(key, [])) > 1]
    lines = [i18n.t(lang, "gen-settings-title", model=model.name)]
    try:
        quote = pricing.cost(model, {**draft.settings_dict, "refs": len(draft.refs)})
        lines.append(price_line(lang, quote, viewer.user(user_id).available))
        rows.append([button(lang, "btn-settings-next", "gen", "next", tok, price=quote.total)])
    except InvalidInput as exc:
        lines.append(error_text(lang, exc, model=model))
    rows.append([button(lang, "btn-back", "gen", "step", tok, "refs"), cancel_button(lang, tok)])
    return Screen(noted(note, *lines), rows)


def choose(user_id: int, code: str) -> tuple[Screen, str | None]:
    """The choice list of one setting; priced settings show the total each value would cost."""
    lang = viewer.lang(user_id)
    draft = drafts.get(user_id)
    tok = token(draft)
    model = drafts.model_of(draft)
    key = SETTING_OF_ACTION[code]
    values = pricing.choices(model).get(key, [])
    if len(values) < 2:
        refusal = i18n.t(lang, "error-setting-unsupported")
        return options(user_id, refusal), refusal
    selected = current(model, draft)[key]
    buttons = []
    for value in values:
        try:
            data = encode("gen", code, tok, value)
        except CallbackError:
            continue  # a value the button codec cannot carry (e.g. "512") is not offered
        text = value_label(lang, key, value)
        if key in _PRICED:
            try:
                price = pricing.cost(model, {**draft.settings_dict, key: value, "refs": len(draft.refs)}).total
            except InvalidInput:
                continue  # a combination the model refuses
            text = i18n.t(lang, "btn-option-price", value=text, price=price)
        if value == selected:
            text = i18n.t(lang, "btn-option-selected", value=text)
        buttons.append(Button.inline(text, data))
    per_row = _PER_ROW.get(key, 3)
    rows = [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
    rows.append([button(lang, "btn-back", "gen", "opts", tok)])
    return Screen(i18n.t(lang, "gen-setting-choose", label=i18n.t(lang, _LABEL[code])), rows), None


def choose_value(user_id: int, code: str, value: Any) -> tuple[Screen, str | None]:
    """Set one setting (``gen:ar`` / ``res`` / ``q`` / ``fmt`` / ``n``) and show the settings again."""
    lang = viewer.lang(user_id)
    try:
        drafts.set_option(user_id, SETTING_OF_ACTION[code], value)
    except InvalidInput as exc:
        reason = error_text(lang, exc, model=drafts.model_of(drafts.get(user_id)))
        return options(user_id, reason), reason
    return options(user_id), i18n.t(lang, "toast-saved")
