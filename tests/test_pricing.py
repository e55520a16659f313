"""Pricing from the seeded catalog: model + settings → integer cost with a breakdown."""

from __future__ import annotations

import json

import pytest

from bananapics.db import atomic
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel
from bananapics.services import pricing


def test_seeded_catalog_has_the_four_models(database):
    models = {m.id: m for m in AiModel.select()}
    assert set(models) == {"nano-banana", "nano-banana-pro", "seedream-4", "gpt-image"}
    assert models["nano-banana"].provider_model == "gemini-3.1-flash-image"
    assert models["nano-banana-pro"].provider_model == "gemini-3-pro-image"
    assert models["seedream-4"].provider_model == "seedream-4-0-250828"
    assert models["gpt-image"].provider_model == "gpt-image-1.5"
    assert [m.id for m in models.values() if m.is_default] == ["nano-banana"]


def test_cost_adds_settings_and_multiplies_by_count(database):
    quote = pricing.cost("nano-banana-pro", {"resolution": "4K", "count": 2, "refs": 3})
    assert (quote.per_image, quote.total, quote.count) == (30 + 25 + 3, 116, 2)
    assert quote.lines == [("base", 30), ("resolution 4K", 25), ("3 reference(s)", 3)]
    assert quote.explain() == "(base 30 + resolution 4K 25 + 3 reference(s) 3) × 2 = 116"
    assert pricing.cost("gpt-image", {"quality": "high"}).total == 5 + 25
    assert pricing.cost("seedream-4", {}).explain() == "base 10 = 10"
    assert isinstance(pricing.cost("nano-banana", {"count": 4}).total, int)


def test_defaults_are_filled(database):
    quote = pricing.cost("nano-banana", None)
    assert quote.settings == {"resolution": "1K", "aspect_ratio": "1:1", "format": "png", "count": 1, "refs": 0}
    assert pricing.starting_price(pricing.load_model("nano-banana")) == 15


@pytest.mark.parametrize(
    ("model", "settings", "needle"),
    [
        ("gpt-image", {"resolution": "4K"}, "has no resolution"),
        ("nano-banana", {"quality": "high"}, "has no quality"),
        ("nano-banana-pro", {"resolution": "8K"}, "does not support resolution 8K"),
        ("seedream-4", {"aspect_ratio": "7:3"}, "aspect ratio"),
        ("nano-banana", {"count": 5}, "1–4 images"),
        ("nano-banana", {"count": 0}, "1–4 images"),
        ("seedream-4", {"refs": 11}, "0–10 reference images"),
        ("nano-banana", {"count": "two"}, "whole number"),
        ("nano-banana", {"seed": 1}, "unknown setting"),
    ],
)
def test_unsupported_settings_are_rejected_with_a_reason(database, model, settings, needle):
    with pytest.raises(InvalidInput) as exc:
        pricing.cost(model, settings)
    assert needle in exc.value.msg


def test_unknown_model_and_admin_price_change(database):
    with pytest.raises(NotFound):
        pricing.cost("dall-e-9")
    with atomic():
        rules = {"resolution": {"1K": 0, "2K": 4, "4K": 9}, "per_reference": 2}
        AiModel.update(base_price=12, pricing=json.dumps(rules)).where(AiModel.id == "nano-banana").execute()
    assert pricing.cost("nano-banana", {"resolution": "2K", "refs": 1}).total == 12 + 4 + 2
