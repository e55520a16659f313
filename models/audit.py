"""Admin action log: who changed what, before and after, and why. Written in the change's transaction."""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel, utcnow


class AdminAction(BaseModel):
    id = pw.BigAutoField()
    actor = pw.CharField(max_length=96)
    action = pw.CharField(max_length=48)
    target = pw.CharField(max_length=255, default="")
    before = pw.TextField(null=True)  # JSON
    after = pw.TextField(null=True)  # JSON
    reason = pw.TextField(null=True)
    outcome = pw.CharField(max_length=8, default="ok")  # ok | denied (0012)
    created_at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "admin_actions"
