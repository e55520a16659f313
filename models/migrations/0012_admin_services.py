"""The admin service layer (issue 10): ``admin_actions.outcome`` (``ok``, or ``denied`` for a
refused call), the ``worker_heartbeats`` table (one row per worker process, ``host:pid``) and the
indexes the admin lists page through ((created_at, id) keysets) and the system snapshot reads
(per-provider stats over recent jobs). Feature toggles and maintenance mode are settings rows
(defaults in the settings registry), so they need no table."""

import datetime

import peewee as pw


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def up(migrator, db):
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class WorkerHeartbeat(Base):
        id = pw.CharField(max_length=128, primary_key=True)
        version = pw.CharField(max_length=32, default="")
        started_at = pw.DateTimeField(default=_now)
        last_seen = pw.DateTimeField(default=_now, index=True)

        class Meta:
            table_name = "worker_heartbeats"

    db.create_tables([WorkerHeartbeat])
    migrator.migrate(migrator.add_column("admin_actions", "outcome", pw.CharField(max_length=8, default="ok")))
    for sql in (
        "CREATE INDEX admin_actions_created_id ON admin_actions (created_at, id)",
        "CREATE INDEX admin_actions_actor ON admin_actions (actor, created_at)",
        "CREATE INDEX payments_created_id ON payments (created_at, id)",
        "CREATE INDEX jobs_created_id ON jobs (created_at, id)",
        "CREATE INDEX jobs_provider_finished ON jobs (provider, finished_at)",
        "CREATE INDEX transfers_created_id ON transfers (created_at, id)",
        "CREATE INDEX users_created_id ON users (created_at, id)",
    ):
        db.execute_sql(sql)


def down(migrator, db):
    for name in ("admin_actions_created_id", "admin_actions_actor", "payments_created_id", "jobs_created_id",
                 "jobs_provider_finished", "transfers_created_id", "users_created_id"):
        db.execute_sql(f"DROP INDEX {name}")
    migrator.migrate(migrator.drop_column("admin_actions", "outcome"))
    db.execute_sql("DROP TABLE worker_heartbeats")
