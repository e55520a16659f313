"""The AI model catalog: provider, provider model id, availability, pricing rules and limits.

Provider model ids change often, so they are data here (seeded by a migration, edited by admins),
never constants in code. ``pricing`` and ``limits`` are JSON documents read by
``bananapics.services.pricing``.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from bananapics.models.base import BaseModel, utcnow


class AiModel(BaseModel):
    id = pw.CharField(max_length=32, primary_key=True)
    name = pw.CharField(max_length=64)
    provider = pw.CharField(max_length=16)
    provider_model = pw.CharField(max_length=96)
    enabled = pw.BooleanField(default=True)
    is_default = pw.BooleanField(default=False)
    sort = pw.IntegerField(default=0)
    base_price = pw.IntegerField()
    pricing = pw.TextField(default="{}")  # JSON rules, see services.pricing
    limits = pw.TextField(default="{}")  # JSON limits, see services.pricing
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ai_models"

    @property
    def limits_dict(self) -> dict[str, Any]:
        """``limits`` parsed (max_refs, max_count, ratios, resolutions…)."""
        return json.loads(self.limits or "{}")

    @property
    def max_refs(self) -> int:
        return int(self.limits_dict.get("max_refs", 0))
