"""💲 Pricing, models: each model's on/off, default, base price, per-setting extras (resolution,
quality, per reference image) and limits (references, images per request), with an example-cost
preview (``services.catalog.preview``) on the card and after every edit. Switching a model off
offers to refund its queued generations; either way a confirmation with the exact effect first.
Packages are :mod:`bananapics.bot.admin_packages`. Every change is one ``services.catalog`` call
(admin only, admin-logged with before/after); support sees the screens without the edit buttons.
"""

from __future__ import annotations

import functools
from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button
from bananapics.errors import BananaError
from bananapics.services import catalog, system
from bananapics.services.audit import Actor

EDIT = "catalog.edit"
# field → (catalog.edit keyword, lo, hi); "res"/"quality" extras are per option (adm:mres, adm:mq)
FIELDS = {"base": ("base_price", 0, catalog.MAX_PRICE), "ref": ("per_reference", 0, catalog.MAX_PRICE),
          "maxrefs": ("max_refs", 0, catalog.MAX_REFS), "maxcount": ("max_count", 1, catalog.MAX_COUNT),
          "conc": ("concurrency", 0, catalog.MAX_CONCURRENCY)}  # 0: the shared limits.model_concurrency
EXTRA_ROUTES = {"resolution": "mres", "quality": "mq"}


def _model(actor: Actor, model_id: str) -> Any:
    found = next((m for m in catalog.models(actor=actor) if m.id == model_id), None)
    if found is None:
        raise kit.StaleButton(f"unknown model {model_id}")
    return found


def _examples(lang: str, actor: Actor, model: Any) -> list[str]:
    """The price of a default request and of the dearest single image (top option, one reference)."""
    lines = []
    quote = catalog.preview(model.id, {}, actor=actor)
    lines.append(i18n.t(lang, "adm-model-example", what=i18n.t(lang, "adm-model-example-default"),
                        explain=quote.explain(), total=quote.total))
    limits = model.limits_dict
    top: dict[str, Any] = {}
    for key, limit_key in (("resolution", "resolutions"), ("quality", "qualities")):
        if limits.get(limit_key):
            top[key] = limits[limit_key][-1]
    if int(limits.get("max_refs", 0)) > 0:
        top["refs"] = 1
    if top:
        quote = catalog.preview(model.id, top, actor=actor)
        what = " · ".join([str(v) for k, v in top.items() if k != "refs"] + (["1 ref"] if "refs" in top else []))
        lines.append(i18n.t(lang, "adm-model-example", what=what, explain=quote.explain(), total=quote.total))
    return lines


def model_text(lang: str, actor: Actor, model: Any) -> str:
    rules = catalog.snapshot(model)
    pricing, limits = rules["pricing"], rules["limits"]
    lines = [i18n.t(lang, "adm-model-head", name=model.name, id=model.id,
                    state=i18n.t(lang, "adm-on" if model.enabled else "adm-off"),
                    default=i18n.t(lang, "adm-model-default") if model.is_default else ""),
             i18n.t(lang, "adm-model-base", price=model.base_price)]
    for kind, limit_key in catalog.EXTRA_KINDS.items():
        options = limits.get(limit_key) or []
        if options:
            extras = " · ".join(f"{o} +{int(pricing.get(kind, {}).get(o, 0))}" for o in options)
            lines.append(i18n.t(lang, f"adm-model-extra-{kind}", extras=extras))
    lines.append(i18n.t(lang, "adm-model-per-ref", price=int(pricing.get("per_reference", 0))))
    lines.append(i18n.t(lang, "adm-model-limits", refs=int(limits.get("max_refs", 0)),
                        count=int(limits.get("max_count", 1))))
    return "\n".join(lines + _examples(lang, actor, model))


@kit.section()
def models_list(press: Press, actor: Actor) -> Answer:
    """``adm:models`` / ``adm:sec:pricing``: every model (on/off, default, base price) and Packages."""
    lang = kit.lang(press)
    rows = [[button(lang, "btn-adm-model-row", "adm", "model", m.id, state="✅" if m.enabled else "⛔",
                    name=m.name, price=m.base_price, default=" ⭐" if m.is_default else "")]
            for m in catalog.models(actor=actor)]
    rows.append([button(lang, "btn-adm-packages", "adm", "pkgs")])
    rows.append(kit.home_row(lang))
    return Screen(i18n.t(lang, "adm-models-title"), rows), None


def model_screen(ctx: kit.Ctx, actor: Actor, model_id: str) -> Screen:
    lang = kit.lang(ctx)
    model = _model(actor, model_id)
    rows: list[list[Any]] = []
    if actor.can(EDIT):
        first = [button(lang, "btn-adm-model-off" if model.enabled else "btn-adm-model-on", "adm", "mtog", model.id)]
        if model.enabled and not model.is_default:
            first.append(button(lang, "btn-adm-model-default", "adm", "mdef", model.id))
        rows.append(first)
        rows.append([button(lang, "btn-adm-model-base", "adm", "mset", model.id, "base"),
                     button(lang, "btn-adm-model-ref", "adm", "mset", model.id, "ref")])
        limits = model.limits_dict
        for kind, limit_key in catalog.EXTRA_KINDS.items():
            options = limits.get(limit_key) or []
            if options:
                rows.append([button(lang, "btn-adm-model-extra", "adm", EXTRA_ROUTES[kind], model.id, o, option=o)
                             for o in options])
        rows.append([button(lang, "btn-adm-model-maxrefs", "adm", "mset", model.id, "maxrefs"),
                     button(lang, "btn-adm-model-maxcount", "adm", "mset", model.id, "maxcount")])
        rows.append([button(lang, "btn-adm-model-conc", "adm", "mset", model.id, "conc")])
    rows.append([button(lang, "btn-back", "adm", "models"), *kit.home_row(lang)])
    return Screen(model_text(lang, actor, model), rows)


@kit.section()
def model_card(press: Press, actor: Actor) -> Answer:
    """``adm:model:<id>``: prices, extras, limits and the example costs; the edit buttons (admin)."""
    return model_screen(press, actor, press.args[0]), None


def _back(model_id: str) -> tuple[Any, ...]:
    return ("adm", "model", model_id)


# ------------------------------------------------------------------ on/off and default


@kit.section(EDIT)
def toggle(press: Press, actor: Actor) -> Answer:
    """``adm:mtog:<id>``: switch on at once; switching off asks what to do with queued jobs."""
    lang = kit.lang(press)
    model = _model(actor, press.args[0])
    if not model.enabled:
        try:
            catalog.set_enabled(model.id, True, actor=actor, reason="admin panel")
            note = i18n.t(lang, "adm-done-model-on", name=model.name)
        except BananaError as exc:
            note = kit.failed(lang, exc)
        return kit.render(press, _back(model.id), note), None
    queued = _queued(actor, model.id)
    rows = [[button(lang, "btn-adm-model-off-keep", "adm", "moff", model.id, "keep")]]
    if queued:
        rows.append([button(lang, "btn-adm-model-off-refund", "adm", "moff", model.id, "refund", count=queued)])
    rows.append([button(lang, "btn-back", *_back(model.id))])
    return Screen(i18n.t(lang, "adm-model-off-ask", name=model.name, queued=queued), rows), None


def _queued(actor: Actor, model_id: str) -> int:
    return next((h.queued for h in system.models_health(actor=actor) if h.id == model_id), 0)


def _off_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    model = _model(actor, values["m"])
    if values["refund"]:
        return i18n.t(lang, "adm-effect-model-off-refund", name=model.name, queued=_queued(actor, model.id))
    return i18n.t(lang, "adm-effect-model-off", name=model.name)


def _off_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    done = catalog.set_enabled(values["m"], False, actor=actor, refund_queued=values["refund"], reason="admin panel")
    return i18n.t(kit.lang(ctx), "adm-done-model-off", name=done.model.name, refunded=len(done.refunded))


kit.form(kit.Form("catalog.off", EDIT, _off_apply, effect=_off_effect, target=lambda v: f"model:{v.get('m')}"))


@kit.section(EDIT)
def switch_off(press: Press, actor: Actor) -> Answer:
    """``adm:moff:<id>:<keep|refund>``: confirm switching off (refunding queued jobs or not)."""
    model_id, mode = press.args
    return kit.start(press, "catalog.off", {"m": model_id, "refund": mode == "refund"}, _back(model_id)), None


@kit.section(EDIT)
def make_default(press: Press, actor: Actor) -> Answer:
    """``adm:mdef:<id>``: the default model of new drafts."""
    lang = kit.lang(press)
    try:
        model = catalog.set_default(press.args[0], actor=actor, reason="admin panel")
        note = i18n.t(lang, "adm-done-model-default", name=model.name)
    except BananaError as exc:
        note = kit.failed(lang, exc)
    return kit.render(press, _back(press.args[0]), note), None


# ------------------------------------------------------------------ prices, extras, limits


def _ask_args(values: dict[str, Any]) -> dict[str, Any]:
    model = catalog.pricing.load_model(values["m"])
    return {"name": model.name, "what": values.get("label", values["f"]), "current": _current(model, values)}


def _current(model: Any, values: dict[str, Any]) -> int:
    rules = catalog.snapshot(model)
    field_ = values["f"]
    if field_ == "base":
        return int(model.base_price)
    if field_ == "ref":
        return int(rules["pricing"].get("per_reference", 0))
    if field_ == "maxrefs":
        return int(rules["limits"].get("max_refs", 0))
    if field_ == "maxcount":
        return int(rules["limits"].get("max_count", 1))
    if field_ == "conc":
        return catalog.concurrency_of(model.id) or 0
    return int(rules["pricing"].get(field_, {}).get(values["o"], 0))  # an extra: resolution / quality


def _edit_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    lang = kit.lang(ctx)
    field_, value = values["f"], values["v"]
    before = _current(catalog.pricing.load_model(values["m"]), values)
    if field_ in catalog.EXTRA_KINDS:
        model = catalog.edit(values["m"], actor=actor, extras={field_: {values["o"]: value}}, reason="admin panel")
    elif field_ == "ref":
        model = catalog.edit(values["m"], actor=actor, extras={"per_reference": value}, reason="admin panel")
    elif field_ == "conc":
        catalog.set_concurrency(values["m"], value, actor=actor, reason="admin panel")
        model = catalog.pricing.load_model(values["m"])
    else:
        model = catalog.edit(values["m"], actor=actor, reason="admin panel", **{FIELDS[field_][0]: value})
    lines = [i18n.t(lang, "adm-done-model-edit", name=model.name, what=values.get("label", field_), before=before,
                    after=_current(model, values))]
    return "\n".join(lines + _examples(lang, actor, model))


def _form_name(field_: str) -> str:
    return f"catalog.{field_}"


for _field, (_kw, _lo, _hi) in {**FIELDS, "resolution": ("", 0, catalog.MAX_PRICE),
                                 "quality": ("", 0, catalog.MAX_PRICE)}.items():
    kit.form(kit.Form(_form_name(_field), EDIT, _edit_apply,
                      fields=(kit.Field("v", functools.partial(kit.integer, lo=_lo, hi=_hi), "adm-ask-model-value",
                                        _ask_args),),
                      target=lambda v: f"model:{v.get('m')}"))


def _start_edit(press: Press, model_id: str, field_: str, option: str | None = None) -> Answer:
    lang = kit.lang(press)
    label = i18n.t(lang, f"adm-model-field-{field_}", option=option or "")
    values: dict[str, Any] = {"m": model_id, "f": field_, "label": label}
    if option is not None:
        values["o"] = option
    return kit.start(press, _form_name(field_), values, _back(model_id)), None


@kit.section(EDIT)
def edit_field(press: Press, actor: Actor) -> Answer:
    """``adm:mset:<id>:<field>``: type a new base price, per-reference price or limit."""
    model_id, field_ = press.args
    _model(actor, model_id)
    if field_ not in FIELDS:
        raise kit.StaleButton(f"{field_} is edited per option")
    return _start_edit(press, model_id, field_)


@kit.section(EDIT)
def edit_resolution(press: Press, actor: Actor) -> Answer:
    """``adm:mres:<id>:<res>``: type the extra of one resolution."""
    return _extra(press, actor, "resolution")


@kit.section(EDIT)
def edit_quality(press: Press, actor: Actor) -> Answer:
    """``adm:mq:<id>:<quality>``: type the extra of one quality."""
    return _extra(press, actor, "quality")


def _extra(press: Press, actor: Actor, kind: str) -> Answer:
    model_id, option = press.args
    model = _model(actor, model_id)
    if option not in (model.limits_dict.get(catalog.EXTRA_KINDS[kind]) or []):
        raise kit.StaleButton(f"{model_id} has no {kind} {option}")
    return _start_edit(press, model_id, kind, option)


@kit.section()
def section_home(press: Press, actor: Actor) -> Answer:
    return models_list(press.to("adm", "models"))


ACTIONS = {("adm", "models"): models_list, ("adm", "model"): model_card, ("adm", "mtog"): toggle,
           ("adm", "moff"): switch_off, ("adm", "mdef"): make_default, ("adm", "mset"): edit_field,
           ("adm", "mres"): edit_resolution, ("adm", "mq"): edit_quality}
SECTIONS = {"pricing": section_home}
