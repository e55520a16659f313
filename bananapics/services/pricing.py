"""Prices: ``cost(model, settings)`` from the model's rules, integers only, with a breakdown.

A model row carries ``base_price`` (tokens per image) and two JSON documents:

* ``pricing``: ``{"resolution": {"1K": 0, "4K": 20}, "quality": {"high": 25}, "per_reference": 1}``
  — extra tokens per image for the chosen resolution/quality and per reference image;
* ``limits``: ``{"max_refs": 14, "max_count": 4, "resolutions": [...], "qualities": [...],
  "aspect_ratios": [...], "formats": [...]}`` — what the model accepts.

``per image = base + resolution extra + quality extra + references × per_reference`` and
``total = per image × count``. Unsupported settings are rejected before any token is held.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bananapics.db import connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel

OPTION_KEYS = {"resolution": "resolutions", "quality": "qualities", "aspect_ratio": "aspect_ratios", "format": "formats"}


@dataclass(frozen=True)
class Quote:
    model: str
    total: int
    per_image: int
    count: int
    settings: dict[str, Any]
    lines: list[tuple[str, int]] = field(default_factory=list)

    def explain(self) -> str:
        parts = " + ".join(f"{label} {amount}" for label, amount in self.lines)
        return f"({parts}) × {self.count} = {self.total}" if self.count > 1 else f"{parts} = {self.total}"


def find_model(model_id: str | None) -> AiModel | None:
    """The catalogue row of a model, switched on or off; None for no id or one removed since."""
    if not model_id:
        return None
    with connection():
        return AiModel.by(AiModel.id, model_id)


def load_model(model_id: str) -> AiModel:
    model = find_model(model_id)
    if model is None:
        raise NotFound(f"unknown model {model_id!r}")
    return model


def normalise(model: AiModel, settings: dict[str, Any] | None) -> dict[str, Any]:
    """Fill defaults and check every setting against the model's limits."""
    limits = model.limits_dict
    settings = dict(settings or {})
    out: dict[str, Any] = {}
    for key, limit_key in OPTION_KEYS.items():
        allowed = limits.get(limit_key)
        value = settings.pop(key, None)
        if not allowed:
            if value is not None:
                raise InvalidInput(f"{model.name} has no {key.replace('_', ' ')} setting", title="setting_unsupported")
            continue
        if value is None:
            value = allowed[0]
        if value not in allowed:
            raise InvalidInput(f"{model.name} does not support {key.replace('_', ' ')} {value}; choose {', '.join(allowed)}",
                               title="setting_unsupported")
        out[key] = value
    for key, limit_key, lo in (("count", "max_count", 1), ("refs", "max_refs", 0)):
        raw = settings.pop(key, lo)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise InvalidInput(f"{key} must be a whole number, got {raw!r}", title="setting_unsupported") from None
        hi = int(limits.get(limit_key, 1 if key == "count" else 0))
        if not lo <= value <= hi:
            what = "images per request" if key == "count" else "reference images"
            raise InvalidInput(f"{model.name} takes {lo}–{hi} {what}, got {value}",
                               title="count_out_of_range" if key == "count" else "too_many_refs")
        out[key] = value
    if settings:
        raise InvalidInput(f"unknown setting {sorted(settings)[0]!r}", title="setting_unsupported")
    return out


def cost(model: AiModel | str, settings: dict[str, Any] | None = None) -> Quote:
    """Price of one request with these settings; raises InvalidInput for unsupported ones."""
    if isinstance(model, str):
        model = load_model(model)
    chosen = normalise(model, settings)
    rules = json.loads(model.pricing or "{}")
    lines: list[tuple[str, int]] = [("base", int(model.base_price))]
    for key in ("resolution", "quality"):
        if key in chosen:
            extra = int(rules.get(key, {}).get(chosen[key], 0))
            if extra:
                lines.append((f"{key} {chosen[key]}", extra))
    per_ref = int(rules.get("per_reference", 0))
    if chosen["refs"] and per_ref:
        lines.append((f"{chosen['refs']} reference(s)", chosen["refs"] * per_ref))
    per_image = sum(amount for _, amount in lines)
    return Quote(model.id, per_image * chosen["count"], per_image, chosen["count"], chosen, lines)


def choices(model: AiModel) -> dict[str, list[Any]]:
    """What a user may pick for this model: ``{"aspect_ratio": [...], "count": [1, 2, …]}`` —
    only settings the model declares, first value the default."""
    limits = model.limits_dict
    out: dict[str, list[Any]] = {key: list(limits[limit_key]) for key, limit_key in OPTION_KEYS.items()
                                 if limits.get(limit_key)}
    out["count"] = list(range(1, max(1, int(limits.get("max_count", 1))) + 1))
    return out


def starting_price(model: AiModel) -> int:
    """The cheapest request (defaults, one image, no references): 'from N' on buttons."""
    return cost(model, {}).total
