"""🛠 System: provider status (key configured or missing, last success, last error kind, median
latency), each model's circuit breaker, slots and queue, the queue and worker heartbeats, feature
toggles (each model, templates, referrals, top-ups), maintenance mode with its message (turning it
on asks for a confirmation), per-user limits (messages/min, burst, parallel jobs) and per-model
concurrency. Every change is a ``services.settings`` / ``toggles`` / ``maintenance`` /
``catalog`` call (admin only, admin-logged); settings reach every process within a second (the
settings version check), the catalog at its next read.
"""

from __future__ import annotations

import functools
from typing import Any

from bananapics import i18n
from bananapics.bot import admin_kit as kit
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, button, excerpt
from bananapics.errors import BananaError
from bananapics.models import utcnow
from bananapics.services import console, maintenance, settings, system, toggles
from bananapics.services.audit import Actor

HOME = ("adm", "sys")
LIMITS = ("limits.user_actions_per_min", "limits.user_burst", "limits.user_parallel_jobs", "limits.model_concurrency")
EDITABLE = {**{key: HOME for key in LIMITS}, "trending.days": ("adm", "tpls", 0)}
MESSAGE_MAX = 1000


def _when(lang: str, at: Any) -> str:
    return at.strftime("%m-%d %H:%M") if at is not None else "—"


def _ago(now: Any, at: Any) -> int:
    return max(0, int((now - at).total_seconds()))


def status_text(lang: str, actor: Actor, config: Any) -> str:
    snap = system.snapshot(actor=actor, keys=system.provider_keys(config) if config is not None else None)
    health = system.models_health(actor=actor)
    view = console.toggles_view(actor=actor)
    values = settings.all_settings()
    now = utcnow()
    lines = [i18n.t(lang, "adm-sys-title"),
             i18n.t(lang, "adm-sys-queue", queued=snap.queue_depth, running=snap.running,
                    submitted=snap.last_hour["submitted"], ok=snap.last_hour["succeeded"], failed=snap.last_hour["failed"])]
    if snap.workers:
        lines += [i18n.t(lang, "adm-sys-worker", id=excerpt(w.id, 40), state="✅" if w.alive else "⚠️",
                         ago=_ago(now, w.last_seen)) for w in snap.workers]
    else:
        lines.append(i18n.t(lang, "adm-sys-no-workers"))
    lines.append(i18n.t(lang, "adm-sys-providers"))
    used = {h.provider for h in health}
    for p in snap.providers:
        if p.name not in used and p.last_success is None and p.last_error is None:
            continue
        lines.append(i18n.t(lang, "adm-sys-provider", name=p.name, keystate=i18n.t(lang, f"adm-key-{p.key.replace(' ', '-')}"),
                            ok=_when(lang, p.last_success), error=p.last_error or "—",
                            latency=f"{p.p50_latency_s:.1f}" if p.p50_latency_s is not None else "—"))
    cap = values["limits.model_concurrency"]
    lines.append(i18n.t(lang, "adm-sys-models"))
    for h in health:
        breaker = i18n.t(lang, f"adm-breaker-{h.breaker}")
        if h.breaker == "open" and h.open_until is not None:
            breaker += " " + i18n.t(lang, "adm-breaker-until", until=h.open_until.strftime("%H:%M:%S"))
        lines.append(i18n.t(lang, "adm-sys-model", state="✅" if h.enabled else "⛔", name=h.name, provider=h.provider,
                            breaker=breaker, failures=h.failures, running=h.running,
                            cap=h.cap if h.cap is not None else cap, queued=h.queued))
    features = view["features"]
    lines.append(i18n.t(lang, "adm-sys-features", **{k: i18n.t(lang, "adm-on" if v else "adm-off")
                                                      for k, v in features.items()}))
    lines.append(i18n.t(lang, "adm-sys-maintenance", state=i18n.t(lang, "adm-on" if view["maintenance"]["enabled"]
                                                                  else "adm-off")))
    if view["maintenance"]["enabled"]:
        lines.append(i18n.t(lang, "adm-sys-maintenance-msg", text=excerpt(maintenance.message(lang), 200)))
    lines.append(i18n.t(lang, "adm-sys-limits", per_min=values["limits.user_actions_per_min"],
                        burst=values["limits.user_burst"], parallel=values["limits.user_parallel_jobs"], cap=cap))
    return "\n".join(lines)


@kit.section()
def status(press: Press, actor: Actor) -> Answer:
    """``adm:sys`` / ``adm:pcheck`` / ``adm:sec:system``: everything above; the switches for an admin."""
    lang = kit.lang(press)
    rows: list[list[Any]] = []
    if actor.can("catalog.edit"):
        models = system.models_health(actor=actor)
        for at in range(0, len(models), 2):
            rows.append([button(lang, "btn-adm-sys-model", "adm", "mtog", m.id, state="✅" if m.enabled else "⛔",
                                name=m.name) for m in models[at:at + 2]])
    if actor.can("toggles.set"):
        features = toggles.current()
        rows.append([button(lang, f"btn-adm-feature-{f}", "adm", "ftog", f, state="✅" if on else "⛔")
                     for f, on in features.items()])
        on = maintenance.enabled()
        rows.append([button(lang, "btn-adm-maint-off" if on else "btn-adm-maint-on", "adm", "maint",
                            "off" if on else "on")])
    if actor.can("settings.set"):
        rows.append([button(lang, f"btn-adm-{key.split('.')[1]}", "adm", "sset", key) for key in LIMITS[:2]])
        rows.append([button(lang, f"btn-adm-{key.split('.')[1]}", "adm", "sset", key) for key in LIMITS[2:]])
    rows.append([button(lang, "btn-adm-refresh", "adm", "pcheck"), *kit.home_row(lang)])
    return Screen(status_text(lang, actor, press.bot.config)[:4000], rows), None


@kit.section("toggles.set")
def feature(press: Press, actor: Actor) -> Answer:
    """``adm:ftog:<feature>``: templates, referrals or top-ups on/off."""
    lang = kit.lang(press)
    name = press.args[0]
    try:
        on = toggles.set_feature(name, not toggles.is_on(name), actor=actor, reason="admin panel")
        note = i18n.t(lang, "adm-done-feature", feature=i18n.t(lang, f"adm-feature-{name}"),
                      state=i18n.t(lang, "adm-on" if on else "adm-off"))
    except BananaError as exc:
        note = kit.failed(lang, exc)
    return kit.render(press, HOME, note), None


def message_text(text: str) -> str:
    """The maintenance message users get ("-" for the built-in text)."""
    cleaned = (text or "").strip()
    if cleaned in ("-", "—"):
        return ""
    if not cleaned:
        raise kit.InputError("adm-bad-empty")
    if len(cleaned) > MESSAGE_MAX:
        raise kit.InputError("adm-bad-too-long", limit=MESSAGE_MAX)
    return cleaned


def _maint_effect(actor: Actor, lang: str, values: dict[str, Any]) -> str:
    shown = values["msg"] or i18n.t(lang, maintenance.DEFAULT_KEY)
    return i18n.t(lang, "adm-effect-maint-on", text=excerpt(shown, 300))


def _maint_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    maintenance.set_mode(True, messages={code: values["msg"] for code in maintenance.LANGS}, actor=actor,
                         reason="admin panel")
    return i18n.t(kit.lang(ctx), "adm-done-maint-on")


kit.form(kit.Form("system.maintenance", "toggles.set", _maint_apply, effect=_maint_effect,
                  fields=(kit.Field("msg", message_text, "adm-ask-maint-msg"),),
                  target=lambda v: "setting:maintenance"))


@kit.section("toggles.set")
def maintenance_mode(press: Press, actor: Actor) -> Answer:
    """``adm:maint:<on|off>``: on asks the message and a confirmation; off at once."""
    if press.args[0] == "on":
        return kit.start(press, "system.maintenance", {}, HOME), None
    lang = kit.lang(press)
    try:
        maintenance.set_mode(False, actor=actor, reason="admin panel")
        note = i18n.t(lang, "adm-done-maint-off")
    except BananaError as exc:
        note = kit.failed(lang, exc)
    return kit.render(press, HOME, note), None


def _label(lang: str, key: str) -> str:
    return i18n.t(lang, f"adm-setting-{key.replace('.', '-')}")


def _setting_apply(ctx: kit.Ctx, actor: Actor, values: dict[str, Any], nonce: str) -> str:
    key = values["key"]
    before = settings.get(key)
    after = settings.set_value(key, values["v"], actor=actor, reason="admin panel")
    return i18n.t(kit.lang(ctx), "adm-done-setting", what=_label(kit.lang(ctx), key), before=before, after=after)


def _setting_ask(values: dict[str, Any]) -> dict[str, Any]:
    return {"what": values.get("label", values["key"]), "current": settings.get(values["key"]),
            "min": values.get("lo", 0), "max": values.get("hi", 0)}


for _key in EDITABLE:
    _lo, _hi = settings.bounds(_key) or (0, 10**6)
    kit.form(kit.Form(f"setting.{_key}", settings.permission_for(_key), _setting_apply,
                      fields=(kit.Field("v", functools.partial(kit.integer, lo=_lo, hi=_hi), "adm-ask-setting",
                                        _setting_ask),),
                      target=lambda v: f"setting:{v.get('key')}"))


@kit.section()
def edit_setting(press: Press, actor: Actor) -> Answer:
    """``adm:sset:<key>``: type a new value for a limit or the trending window."""
    key = press.args[0]
    if key not in EDITABLE:
        raise kit.StaleButton(f"{key} is not edited in the panel")
    lo, hi = settings.bounds(key) or (0, 10**6)
    values = {"key": key, "label": _label(kit.lang(press), key), "lo": lo, "hi": hi}
    return kit.start(press, f"setting.{key}", values, EDITABLE[key]), None


@kit.section()
def section_home(press: Press, actor: Actor) -> Answer:
    return status(press.to(*HOME))


ACTIONS = {("adm", "sys"): status, ("adm", "pcheck"): status, ("adm", "ftog"): feature,
           ("adm", "maint"): maintenance_mode, ("adm", "sset"): edit_setting}
SECTIONS = {"system": section_home}
