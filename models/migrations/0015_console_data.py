"""The operator console's data paths (issue 12): user search, the dashboard, exports.

* ``stat_counters`` (day, name, shard, value) kept by triggers on ``users`` and ``payments`` in the
  same transaction as the write: registrations, paid payments, their Stars and tokens per day. The
  dashboard then reads ~15 small rows instead of counting 1M users or summing every payment: an
  indexed aggregate would still grow with the data (users total), a counter does not. Triggers, not
  service code, so every writer (bot, CLI, reconcile, bulk loads) is counted and none can forget.
  Only these two low-rate tables are counted: a counter on ``transfers`` would put a hot row in every
  ledger transaction (the reason system accounts keep no cached balance). On Postgres the triggers
  are per statement (transition tables: a bulk insert is one upsert) and the row is sharded by
  backend pid so concurrent registrations do not wait on each other.
* ``users_username_c`` ((lower(username) COLLATE "C"), id): ``@prefix`` search as a range on this
  index, already in result order (alphabetical, then id), so any prefix is a short index walk and
  keyset paging continues from the last row. SQLite compares text bytewise, the same order.
  ``users_last_name_prefix``: a one- or two-letter search matches name starts (0001 indexes the
  first name's and the username's).
* The trigram GIN index on names/usernames (0001) is created here when 0001 could not create
  pg_trgm; ``jobs_status_finished`` serves "failed today" without scanning finished jobs.
  Jobs, payments and transfers by created_at are indexed since 0012 (exports and the series).
"""

import peewee as pw

# (counter, value of one payment row; {r} is the row prefix: "" or "NEW." / "OLD." in SQLite triggers)
COUNTED_PAYMENT = ("payments", "1"), ("stars", "{r}stars"), ("tokens", "{r}tokens + {r}bonus_tokens")

PG_UPSERT = ("ON CONFLICT (day, name, shard) DO UPDATE SET value = stat_counters.value + EXCLUDED.value")


def up(migrator, db):
    postgres = isinstance(db, pw.PostgresqlDatabase)
    db.execute_sql(
        "CREATE TABLE stat_counters (day DATE NOT NULL, name VARCHAR(16) NOT NULL, shard SMALLINT NOT NULL DEFAULT 0,"
        " value BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (day, name, shard))")
    db.execute_sql("CREATE INDEX jobs_status_finished ON jobs (status, finished_at)")
    if postgres:
        db.execute_sql('CREATE INDEX users_username_c ON users ((lower(username) COLLATE "C"), id)')
        db.execute_sql("CREATE INDEX users_last_name_prefix ON users (lower(last_name) text_pattern_ops)")
        _postgres_trigram(db)
        _postgres_triggers(db)
    else:
        db.execute_sql("CREATE INDEX users_username_sort ON users (lower(username), id)")
        _sqlite_triggers(db)
    backfill(db)


def backfill(db):
    """Recount every counter from the tables (the migration; bulk loads that bypassed the triggers)."""
    day = "created_at::date" if isinstance(db, pw.PostgresqlDatabase) else "date(created_at)"
    db.execute_sql("DELETE FROM stat_counters")
    db.execute_sql(f"INSERT INTO stat_counters (day, name, shard, value) "
                   f"SELECT {day}, 'users', 0, COUNT(*) FROM users GROUP BY {day}")
    for name, value in COUNTED_PAYMENT:
        db.execute_sql(f"INSERT INTO stat_counters (day, name, shard, value) SELECT {day}, '{name}', 0, "
                       f"SUM({value.format(r='')}) FROM payments WHERE status = 'paid' GROUP BY {day}")


def _postgres_trigram(db):
    exists = db.execute_sql("SELECT 1 FROM pg_indexes WHERE indexname = 'users_search_trgm'").fetchone()
    if exists:
        return
    db.execute_sql("SAVEPOINT trgm")
    try:
        db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        db.execute_sql("CREATE INDEX users_search_trgm ON users USING gin "
                       "((lower(coalesce(username, '') || ' ' || first_name || ' ' || last_name)) gin_trgm_ops)")
        db.execute_sql("RELEASE SAVEPOINT trgm")
    except pw.DatabaseError:  # no pg_trgm on this server: substring search scans (still capped)
        db.execute_sql("ROLLBACK TO SAVEPOINT trgm")


def _pg_rows(rows, sign):
    """SELECT (day, name, value) over a transition table for every counter, ``sign`` ±1."""
    parts = [f"SELECT created_at::date AS day, 'users' AS name, {sign} AS value FROM {rows}"] if rows.startswith("u") else [
        f"SELECT created_at::date AS day, '{name}' AS name, {sign} * ({value.format(r='')}) AS value FROM {rows} "
        "WHERE status = 'paid'" for name, value in COUNTED_PAYMENT]
    return " UNION ALL ".join(parts)


def _pg_bump(select):
    return (f"INSERT INTO stat_counters (day, name, shard, value) SELECT day, name, mod(pg_backend_pid(), 8), SUM(value) "
            f"FROM ({select}) d GROUP BY day, name HAVING SUM(value) <> 0 {PG_UPSERT};")


def _postgres_triggers(db):
    for table, prefix in (("users", "u"), ("payments", "p")):
        new, old = f"{prefix}_new", f"{prefix}_old"
        db.execute_sql(
            f"CREATE FUNCTION {table}_counted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN {_pg_bump(_pg_rows(new, 1))} "
            f"ELSIF TG_OP = 'DELETE' THEN {_pg_bump(_pg_rows(old, -1))} "
            f"ELSE {_pg_bump(_pg_rows(new, 1) + ' UNION ALL ' + _pg_rows(old, -1))} "
            "END IF; RETURN NULL; END $$")
        events = [("insert", f"NEW TABLE AS {new}"), ("delete", f"OLD TABLE AS {old}")]
        if table == "payments":  # a refund (status) or a corrected amount; users' updates change no counter
            events.append(("update", f"NEW TABLE AS {new} OLD TABLE AS {old}"))
        for event, referencing in events:
            db.execute_sql(f"CREATE TRIGGER {table}_counted_{event} AFTER {event.upper()} ON {table} "
                           f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {table}_counted()")


def _sqlite_bump(row, name, value, sign):
    return (f"INSERT INTO stat_counters (day, name, shard, value) VALUES (date({row}.created_at), '{name}', 0, "
            f"{sign} * ({value})) ON CONFLICT (day, name, shard) DO UPDATE SET value = value + excluded.value;")


def _sqlite_triggers(db):
    db.execute_sql(f"CREATE TRIGGER users_counted_insert AFTER INSERT ON users BEGIN "
                   f"{_sqlite_bump('NEW', 'users', '1', 1)} END")
    db.execute_sql(f"CREATE TRIGGER users_counted_delete AFTER DELETE ON users BEGIN "
                   f"{_sqlite_bump('OLD', 'users', '1', -1)} END")

    def payment_bumps(row, sign):
        return " ".join(_sqlite_bump(row, name, value.format(r=f"{row}."), sign)
                        for name, value in COUNTED_PAYMENT)

    db.execute_sql(f"CREATE TRIGGER payments_counted_insert AFTER INSERT ON payments WHEN NEW.status = 'paid' BEGIN "
                   f"{payment_bumps('NEW', 1)} END")
    db.execute_sql(f"CREATE TRIGGER payments_counted_delete AFTER DELETE ON payments WHEN OLD.status = 'paid' BEGIN "
                   f"{payment_bumps('OLD', -1)} END")
    db.execute_sql("CREATE TRIGGER payments_counted_unpaid AFTER UPDATE ON payments "
                   f"WHEN OLD.status = 'paid' BEGIN {payment_bumps('OLD', -1)} END")
    db.execute_sql("CREATE TRIGGER payments_counted_paid AFTER UPDATE ON payments "
                   f"WHEN NEW.status = 'paid' BEGIN {payment_bumps('NEW', 1)} END")


def down(migrator, db):
    postgres = isinstance(db, pw.PostgresqlDatabase)
    if postgres:
        for table in ("users", "payments"):
            db.execute_sql(f"DROP FUNCTION IF EXISTS {table}_counted() CASCADE")
        db.execute_sql("DROP INDEX IF EXISTS users_username_c")
        db.execute_sql("DROP INDEX IF EXISTS users_last_name_prefix")
    else:
        for trigger in ("users_counted_insert", "users_counted_delete", "payments_counted_insert",
                        "payments_counted_delete", "payments_counted_unpaid", "payments_counted_paid"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        db.execute_sql("DROP INDEX IF EXISTS users_username_sort")
    db.execute_sql("DROP INDEX IF EXISTS jobs_status_finished")
    db.execute_sql("DROP TABLE IF EXISTS stat_counters")
