"""Per-model circuit breakers (services.breaker): one row per model that has ever failed.

``state`` is ``closed`` (counting consecutive provider failures in ``failures``), ``open`` (the
model is temporarily unavailable until ``open_until``; after that the next job is let through as a
probe) or ``half_open`` (``probe_job`` is that probe, holding the slot until ``probe_until``). In the
database so the bot and every worker process see the same state.
"""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel, utcnow


class ModelBreaker(BaseModel):
    model = pw.CharField(max_length=32, primary_key=True)
    state = pw.CharField(max_length=12, default="closed")
    failures = pw.IntegerField(default=0)
    open_until = pw.DateTimeField(null=True)
    probe_job = pw.CharField(max_length=32, null=True)
    probe_until = pw.DateTimeField(null=True)
    last_error = pw.CharField(max_length=24, null=True)  # the error kind of the last counted failure
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "model_breakers"
