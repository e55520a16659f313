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
            sql = _BY_SQL[key] = (f'SELECT {_columns(cls)} FROM "{cls._meta.table_name}" '
                                  f'WHERE "{field.column_name}" = {param} LIMIT 1')
        row = db.execute_sql(sql, (field.db_value(value),)).fetchone()
        return cls.from_row(row) if row is not None else None


    @classmethod
    def all_by(cls, field: pw.Field, value: object, order: pw.Field) -> list["BaseModel"]:
        """``list(cls.select().where(field == value).order_by(order))`` with cached SQL."""
        param = db.obj.param
        key = (cls, "all", field.name, order.name, param)
        sql = _BY_SQL.get(key)
        if sql is None:
            sql = _BY_SQL[key] = (f'SELECT {_columns(cls)} FROM "{cls._meta.table_name}" '
                                  f'WHERE "{field.column_name}" = {param} ORDER BY "{order.column_name}"')
        return [cls.from_row(row) for row in db.execute_sql(sql, (field.db_value(value),)).fetchall()]

    @classmethod
    def update_by(cls, field: pw.Field, value: object, changes: dict[str, object], *,
                  bump: str | None = None) -> "BaseModel | None":
        """``UPDATE … SET changes[, bump = bump + 1] WHERE field = value RETURNING *`` for a unique
        column, with SQL cached per set of changed fields: the changed row, or None when no row matched."""
        param = db.obj.param
        fields = cls._meta.fields
        key = (cls, "update", field.name, tuple(changes), bump, param)
        sql = _BY_SQL.get(key)
        if sql is None:
            sets = [f'"{fields[name].column_name}" = {param}' for name in changes]
            if bump:
                column = fields[bump].column_name
                sets.append(f'"{column}" = "{column}" + 1')
            sql = _BY_SQL[key] = (f'UPDATE "{cls._meta.table_name}" SET {", ".join(sets)} '
                                  f'WHERE "{field.column_name}" = {param} RETURNING {_columns(cls)}')
        params = [fields[name].db_value(v) for name, v in changes.items()] + [field.db_value(value)]
        row = db.execute_sql(sql, params).fetchone()
        return cls.from_row(row) if row is not None else None

    @classmethod
    def upsert(cls, conflict: pw.Field, values: dict[str, object]) -> None:
        """``INSERT … ON CONFLICT (conflict) DO UPDATE`` every other given column, with cached SQL."""
        param = db.obj.param
        fields = cls._meta.fields
        key = (cls, "upsert", conflict.name, tuple(values), param)
        sql = _BY_SQL.get(key)
        if sql is None:
            columns = [f'"{fields[name].column_name}"' for name in values]
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != f'"{conflict.column_name}"')
            sql = _BY_SQL[key] = (
                f'INSERT INTO "{cls._meta.table_name}" ({", ".join(columns)}) VALUES ({", ".join([param] * len(columns))}) '
                f'ON CONFLICT ("{conflict.column_name}") DO UPDATE SET {updates}')
        db.execute_sql(sql, [fields[name].db_value(v) for name, v in values.items()])


def _columns(cls: type[BaseModel]) -> str:
    return ", ".join(f'"{f.column_name}"' for f in cls._meta.sorted_fields)


_BY_SQL: dict[tuple, str] = {}
