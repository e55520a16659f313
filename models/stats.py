"""Daily counters for the dashboard, kept by the database itself (migration 0015).

Triggers on ``users`` and ``payments`` add each insert, refund and delete to ``stat_counters`` in the
same transaction as the write, so the dashboard reads a few dozen small rows instead of counting a
million users or summing every payment. Names: ``users`` (registrations), ``payments``, ``stars``
and ``tokens`` (tokens + bonus) of payments that are paid (a refund takes them off the payment's
day). On Postgres each row is split into ``shard`` = backend pid % 8, so concurrent registrations do
not queue on one row; a figure is the sum over its shards. The table is written only by the triggers.
"""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel

COUNTERS = ("users", "payments", "stars", "tokens")


class StatCounter(BaseModel):
    day = pw.DateField()
    name = pw.CharField(max_length=16)
    shard = pw.SmallIntegerField(default=0)
    value = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "stat_counters"
        primary_key = pw.CompositeKey("day", "name", "shard")
