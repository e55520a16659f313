"""Generation jobs, per-model concurrency slots and the delivery outbox.

A job's row is the source of truth for a paid request (Huey is at-most-once): ``status`` moves
``queued → running → succeeded | partial | failed`` through guarded UPDATEs only, and a job's hold in
the ledger (``holds.ref == jobs.id``) is resolved in the same transaction as its terminal status.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from bananapics.models.base import BaseModel, utcnow
from bananapics.models.users import User

ACTIVE = ("queued", "running")
TERMINAL = ("succeeded", "partial", "failed")


class Job(BaseModel):
    id = pw.CharField(max_length=32, primary_key=True)
    user = pw.ForeignKeyField(User, backref="jobs", on_delete="RESTRICT")
    model = pw.CharField(max_length=32)
    provider = pw.CharField(max_length=16)
    provider_model = pw.CharField(max_length=96)
    prompt = pw.TextField()
    settings = pw.TextField(default="{}")
    ref_keys = pw.TextField(default="[]")
    count = pw.IntegerField()
    cost = pw.BigIntegerField()
    status = pw.CharField(max_length=12, default="queued")
    attempts = pw.IntegerField(default=0)
    max_attempts = pw.IntegerField(default=3)
    lease_until = pw.DateTimeField(null=True)
    not_before = pw.DateTimeField(null=True)
    deadline_at = pw.DateTimeField()
    worker = pw.CharField(max_length=64, null=True)
    error_kind = pw.CharField(max_length=24, null=True)
    error_detail = pw.TextField(null=True)
    result_keys = pw.TextField(default="[]")
    delivered = pw.IntegerField(default=0)
    chat_id = pw.BigIntegerField(null=True)
    source = pw.CharField(max_length=16, default="bot")
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)
    started_at = pw.DateTimeField(null=True)
    finished_at = pw.DateTimeField(null=True)
    hidden_at = pw.DateTimeField(null=True)  # deleted from the user's history (0010); the row stays

    class Meta:
        table_name = "jobs"

    @property
    def settings_dict(self) -> dict[str, Any]:
        return json.loads(self.settings or "{}")

    @property
    def refs(self) -> list[str]:
        return json.loads(self.ref_keys or "[]")

    @property
    def results(self) -> list[str]:
        return json.loads(self.result_keys or "[]")


class ModelSlot(BaseModel):
    model = pw.CharField(max_length=32, primary_key=True)
    running = pw.IntegerField(default=0)
    cap = pw.IntegerField(null=True)  # this model's own concurrency; NULL: limits.model_concurrency

    class Meta:
        table_name = "model_slots"


class Outbox(BaseModel):
    id = pw.BigAutoField()
    dedupe_key = pw.CharField(max_length=96, unique=True)
    job = pw.ForeignKeyField(Job, null=True, backref="outbox", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    chat_id = pw.BigIntegerField()
    kind = pw.CharField(max_length=24)
    payload = pw.TextField(default="{}")
    status = pw.CharField(max_length=12, default="pending")
    attempts = pw.IntegerField(default=0)
    next_try_at = pw.DateTimeField(default=utcnow)
    locked_until = pw.DateTimeField(null=True)
    sent_at = pw.DateTimeField(null=True)
    last_error = pw.TextField(null=True)
    parts_sent = pw.IntegerField(default=0)  # parts Telegram accepted; a retry resumes after them
    random_id = pw.BigIntegerField(null=True)  # base of its messages' random_ids, set at the first claim (migration 0019)
    broadcast_id = pw.BigIntegerField(null=True)  # a broadcast's recipient row (0014): sent after the others
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "outbox"

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload or "{}")
