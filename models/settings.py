"""Typed key/value settings that admins change at run time (prices live in the catalog).

Each write bumps the row's ``version``; readers cache the whole table and reload when the sum of
versions changes, so a change reaches every bot and worker process within one cache check.
"""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel, utcnow


class Setting(BaseModel):
    key = pw.CharField(max_length=64, primary_key=True)
    type = pw.CharField(max_length=8)  # int | bool | str | float | json
    value = pw.TextField()  # JSON-encoded
    version = pw.IntegerField(default=1)
    updated_at = pw.DateTimeField(default=utcnow)
    updated_by = pw.CharField(max_length=96, default="system")

    class Meta:
        table_name = "settings"
