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

    # --- hot reads without peewee's per-call SQL building ---------------------------------
    # Peewee renders a query's SQL on every execution: for a wide row that is ~100 node visits per
    # column, about half a millisecond, more than the query itself. The bot reads a few rows per
    # update (user, draft, panel, model), so those lookups use SQL rendered once per model, column
    # and engine, and build the instance from the row as peewee would.

    @classmethod
    def from_row(cls, row: tuple) -> "BaseModel":
        """An instance from a row of all columns in ``_meta.sorted_fields`` order (values converted)."""
        fields = cls._meta.sorted_fields
        instance = cls(**{f.name: f.python_value(v) for f, v in zip(fields, row)})
        instance._dirty.clear()
        return instance

    @classmethod
    def by(cls, field: pw.Field, value: object) -> "BaseModel | None":
        """``cls.get_or_none(field == value)`` for a unique column, with cached SQL."""
        param = db.obj.param
        key = (cls, field.name, param)
        sql = _BY_SQL.get(key)
        if sql is None:
            columns = ", ".join(f'"{f.column_name}"' for f in cls._meta.sorted_fields)
            sql = _BY_SQL[key] = (f'SELECT {columns} FROM "{cls._meta.table_name}" '
                                  f'WHERE "{field.column_name}" = {param} LIMIT 1')
        row = db.execute_sql(sql, (field.db_value(value),)).fetchone()
        return cls.from_row(row) if row is not None else None


_BY_SQL: dict[tuple, str] = {}
