"""Broadcasts (issue 11): a message an admin sends to every user or a segment, through the outbox.

A broadcast is a text, optionally one photo (a storage key) and one URL button, and the segment it
goes to (JSON). Starting it freezes the recipient list: one outbox row per recipient, tagged with
``outbox.broadcast_id`` (0014); the delivery loop sends them at Telegram's pace after user-facing
rows, and only while the broadcast is ``running``. Progress is counted from those rows.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from bananapics.models.base import BaseModel, utcnow

STATUSES = ("draft", "starting", "running", "paused", "cancelled", "done")


class Broadcast(BaseModel):
    id = pw.BigAutoField()
    text = pw.TextField()
    photo_key = pw.CharField(max_length=255, null=True)
    button_label = pw.CharField(max_length=64, null=True)
    button_url = pw.CharField(max_length=512, null=True)
    segment = pw.TextField(default="{}")
    status = pw.CharField(max_length=12, default="draft")
    total = pw.IntegerField(default=0)  # recipients frozen at start
    created_by = pw.CharField(max_length=96)
    tested_at = pw.DateTimeField(null=True)  # the last test send to an admin
    created_at = pw.DateTimeField(default=utcnow)
    started_at = pw.DateTimeField(null=True)
    finished_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "broadcasts"

    @property
    def segment_dict(self) -> dict[str, Any]:
        return json.loads(self.segment or "{}")
