"""Process health: one heartbeat row per worker process (``host:pid``), written every few seconds."""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel, utcnow


class WorkerHeartbeat(BaseModel):
    id = pw.CharField(max_length=128, primary_key=True)  # host:pid
    version = pw.CharField(max_length=32, default="")
    started_at = pw.DateTimeField(default=utcnow)
    last_seen = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "worker_heartbeats"
