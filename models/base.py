"""The database proxy every model binds to, and the base model.

``db`` is a :class:`peewee.DatabaseProxy`; :func:`bananapics.db.connect` initialises it from the
configured URL (SQLite or Postgres), so models never know which engine they run on.
"""

from __future__ import annotations

import datetime as dt

import peewee as pw

db = pw.DatabaseProxy()


def utcnow() -> dt.datetime:
    """Naive UTC timestamps everywhere: the same on SQLite and Postgres."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False
