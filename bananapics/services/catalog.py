"""The model catalog as admins change it: on/off, the default model, prices, extras and limits.

Every change is one transaction with its audit row (before/after) and needs ``catalog.edit``
(admin); reads need ``read``. The bot and the workers read ``ai_models`` afresh on every use
(:mod:`bananapics.services.pricing`, :func:`bananapics.services.jobs.enabled_model`; nothing caches
it), so a change applies to the very next draft, price and submit in every process.

Switching a model off: new drafts cannot pick it and a confirm on it is answered "switched off"
(``jobs.submit`` refuses it); jobs already submitted still run, unless the admin asks to refund
the queued ones: each is failed and refunded once through the ledger's job refund (the same path
as the sweeper's), and its user is told through the outbox (``job_failed``, reason
``model_disabled``). A job a worker already took keeps running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel, Job, ModelSlot, utcnow
from bananapics.services import audit, jobs, pricing
from bananapics.services.audit import Actor

MAX_PRICE = 1_000_000  # tokens per image, for the base price and for every extra
MAX_REFS = 32
MAX_COUNT = 10  # jobs.count has CHECK (count BETWEEN 1 AND 10)
EXTRA_KINDS = {"resolution": "resolutions", "quality": "qualities"}
DISABLED_KIND = "model_disabled"


@dataclass(frozen=True)
class Switched:
    model: AiModel
    refunded: list[str] = field(default_factory=list)  # ids of the queued jobs refunded now


def whole(value: Any, what: str, lo: int = 0, hi: int = MAX_PRICE) -> int:
    """An integer in ``lo..hi`` (a whole number written as text is accepted); else InvalidInput."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidInput(f"{what} must be between {lo} and {hi}, got {value}")
    return value


def snapshot(model: AiModel) -> dict[str, Any]:
    """A model as plain values (the admin log's before/after, the admin screens)."""
    return {"id": model.id, "name": model.name, "enabled": bool(model.enabled), "is_default": bool(model.is_default),
            "base_price": model.base_price, "pricing": json.loads(model.pricing or "{}"), "limits": model.limits_dict}


def models(*, actor: Actor) -> list[AiModel]:
    """Every model, switched on or off, in display order."""
    audit.authorize(actor, "read", "catalog")
    with connection():
        return list(AiModel.select().order_by(AiModel.sort, AiModel.id))


def _locked(model_id: str) -> AiModel:
    model = AiModel.get_or_none(AiModel.id == model_id)
    if model is None:
        raise NotFound(f"unknown model {model_id!r}")
    return model


def set_enabled(model_id: str, enabled: bool, *, actor: Actor, refund_queued: bool = False,
                reason: str | None = None) -> Switched:
    """Switch a model on or off. ``refund_queued`` (switching off only): fail and refund every job
    of the model that no worker has started yet, telling each user; one transaction with the audit row."""
    audit.authorize(actor, "catalog.edit", f"model:{model_id}")
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true or false")
    if refund_queued and enabled:
        raise InvalidInput("only switching a model off refunds its queued jobs")
    refunded: list[str] = []
    with atomic():
        model = _locked(model_id)
        before = bool(model.enabled)
        AiModel.update(enabled=enabled, updated_at=utcnow()).where(AiModel.id == model_id).execute()
        if refund_queued:
            queued = [j.id for j in Job.select(Job.id).where((Job.model == model_id) & (Job.status == "queued"))
                      .order_by(Job.created_at, Job.id)]
            for job_id in queued:
                if jobs.cancel_queued(job_id, DISABLED_KIND, f"{model.name} was switched off by an admin") is not None:
                    refunded.append(job_id)
        if before != enabled or refunded:
            audit.record(actor, "catalog.enable" if enabled else "catalog.disable", f"model:{model_id}",
                         before={"enabled": before}, after={"enabled": enabled, "refunded_jobs": refunded},
                         reason=reason)
        model = AiModel.get_by_id(model_id)
    return Switched(model, refunded)


MAX_CONCURRENCY = 1000


def concurrency_of(model_id: str) -> int | None:
    """The model's own cap on provider calls in flight (None: it follows ``limits.model_concurrency``)."""
    with connection():
        return ModelSlot.select(ModelSlot.cap).where(ModelSlot.model == model_id).scalar()


def set_concurrency(model_id: str, cap: Any, *, actor: Actor, reason: str | None = None) -> int | None:
    """Cap one model's provider calls across all workers (``None`` or 0: back to the shared
    ``limits.model_concurrency``). Jobs over the cap wait queued; nothing running is stopped."""
    audit.authorize(actor, "catalog.edit", f"model:{model_id}")
    value = None if cap in (None, 0, "0", "") else whole(cap, "a concurrency", 1, MAX_CONCURRENCY)
    with atomic():
        _locked(model_id)
        before = ModelSlot.select(ModelSlot.cap).where(ModelSlot.model == model_id).scalar()
        if not ModelSlot.update(cap=value).where(ModelSlot.model == model_id).execute():
            ModelSlot.insert(model=model_id, running=0, cap=value).execute()
        if before != value:
            audit.record(actor, "catalog.concurrency", f"model:{model_id}", before={"concurrency": before},
                         after={"concurrency": value}, reason=reason)
    return value


def set_default(model_id: str, *, actor: Actor, reason: str | None = None) -> AiModel:
    """Make a switched-on model the default of new drafts (the previous default loses the flag)."""
    audit.authorize(actor, "catalog.edit", f"model:{model_id}")
    with atomic():
        model = _locked(model_id)
        if not model.enabled:
            raise InvalidInput(f"{model.name} is switched off: switch it on before making it the default")
        previous = [m.id for m in AiModel.select(AiModel.id).where(AiModel.is_default == True)]  # noqa: E712
        if previous == [model_id]:
            return model
        AiModel.update(is_default=False, updated_at=utcnow()).where(AiModel.id != model_id).execute()
        AiModel.update(is_default=True, updated_at=utcnow()).where(AiModel.id == model_id).execute()
        audit.record(actor, "catalog.default", f"model:{model_id}", before={"default": previous},
                     after={"default": [model_id]}, reason=reason)
        return AiModel.get_by_id(model_id)


def _apply(model: AiModel, *, base_price: Any = None, extras: dict[str, Any] | None = None,
           max_refs: Any = None, max_count: Any = None) -> AiModel:
    """A copy of ``model`` with the changes applied, every value validated."""
    changed = AiModel(**dict(model.__data__))  # a copy: the row read stays as it was
    pricing_rules = json.loads(model.pricing or "{}")
    limits = model.limits_dict
    if base_price is not None:
        changed.base_price = whole(base_price, "base price")
    for kind, value in (extras or {}).items():
        if kind == "per_reference":
            pricing_rules["per_reference"] = whole(value, "the price per reference image")
            continue
        if kind not in EXTRA_KINDS:
            raise InvalidInput(f"unknown extra {kind!r}; choose {', '.join([*EXTRA_KINDS, 'per_reference'])}")
        if not isinstance(value, dict):
            raise InvalidInput(f"{kind} extras are given per option, e.g. {{\"4K\": 20}}")
        options = limits.get(EXTRA_KINDS[kind]) or []
        rules = dict(pricing_rules.get(kind, {}))
        for option, amount in value.items():
            if option not in options:
                raise InvalidInput(f"{model.name} has no {kind} {option!r}" + (f"; choose {', '.join(options)}"
                                                                               if options else ""))
            rules[option] = whole(amount, f"the {kind} {option} extra")
        pricing_rules[kind] = rules
    if max_refs is not None:
        limits["max_refs"] = whole(max_refs, "max references", 0, MAX_REFS)
    if max_count is not None:
        limits["max_count"] = whole(max_count, "max images per request", 1, MAX_COUNT)
    changed.pricing = json.dumps(pricing_rules, sort_keys=True)
    changed.limits = json.dumps(limits, sort_keys=True)
    return changed


def edit(model_id: str, *, actor: Actor, base_price: Any = None, extras: dict[str, Any] | None = None,
         max_refs: Any = None, max_count: Any = None, reason: str | None = None) -> AiModel:
    """Change the base price (tokens per image), per-setting extras (``{"resolution": {"4K": 20},
    "quality": {"high": 25}, "per_reference": 1}``) and limits (max references, max images per
    request). Whole numbers ≥ 0 below :data:`MAX_PRICE` (limits: their own caps); a bad value
    changes nothing."""
    audit.authorize(actor, "catalog.edit", f"model:{model_id}")
    with atomic():
        model = _locked(model_id)
        changed = _apply(model, base_price=base_price, extras=extras, max_refs=max_refs, max_count=max_count)
        before, after = snapshot(model), snapshot(changed)
        diff = sorted(k for k in after if after[k] != before[k])
        if not diff:
            return model
        AiModel.update(base_price=changed.base_price, pricing=changed.pricing, limits=changed.limits,
                       updated_at=utcnow()).where(AiModel.id == model_id).execute()
        audit.record(actor, "catalog.edit", f"model:{model_id}", before={k: before[k] for k in diff},
                     after={k: after[k] for k in diff}, reason=reason)
        return AiModel.get_by_id(model_id)


def preview(model_id: str, choices: dict[str, Any] | None = None, *, actor: Actor, base_price: Any = None,
            extras: dict[str, Any] | None = None) -> pricing.Quote:
    """What a request with these settings (resolution, quality, count, refs …) costs, at today's
    prices or with the given unsaved ``base_price``/``extras`` (the admin's "what if")."""
    audit.authorize(actor, "read", f"model:{model_id}")
    model = pricing.load_model(model_id)
    if base_price is not None or extras:
        model = _apply(model, base_price=base_price, extras=extras)
    return pricing.cost(model, choices or {})
