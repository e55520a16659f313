"""Generation jobs, model concurrency slots, the delivery outbox, and users.inflight.

``users.inflight`` counts a user's non-terminal jobs so the per-user cap is a guarded UPDATE
(``… WHERE inflight < cap``) instead of a racy count. ``model_slots.running`` does the same for the
per-model concurrency cap across every worker.
"""

import datetime

import peewee as pw


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def up(migrator, db):
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        id = pw.BigAutoField()

        class Meta:
            table_name = "users"

    class Job(Base):
        id = pw.CharField(max_length=32, primary_key=True)
        user = pw.ForeignKeyField(User, on_delete="RESTRICT", index=False)
        model = pw.CharField(max_length=32)
        provider = pw.CharField(max_length=16)
        provider_model = pw.CharField(max_length=96)
        prompt = pw.TextField()
        settings = pw.TextField(default="{}")
        ref_keys = pw.TextField(default="[]")
        count = pw.IntegerField()
        cost = pw.BigIntegerField()
        status = pw.CharField(max_length=12, default="queued")
        attempts = pw.IntegerField(default=0)
        max_attempts = pw.IntegerField(default=3)
        lease_until = pw.DateTimeField(null=True)
        not_before = pw.DateTimeField(null=True)
        deadline_at = pw.DateTimeField()
        worker = pw.CharField(max_length=64, null=True)
        error_kind = pw.CharField(max_length=24, null=True)
        error_detail = pw.TextField(null=True)
        result_keys = pw.TextField(default="[]")
        delivered = pw.IntegerField(default=0)
        chat_id = pw.BigIntegerField(null=True)
        source = pw.CharField(max_length=16, default="bot")
        created_at = pw.DateTimeField(default=_now)
        updated_at = pw.DateTimeField(default=_now)
        started_at = pw.DateTimeField(null=True)
        finished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "jobs"
            indexes = (
                (("user", "created_at"), False),
                (("status", "updated_at"), False),
                (("model", "status"), False),
            )
            constraints = [
                pw.Check("status IN ('queued', 'running', 'succeeded', 'partial', 'failed')"),
                pw.Check("count BETWEEN 1 AND 10"),
                pw.Check("cost >= 0"),
                pw.Check("delivered BETWEEN 0 AND count"),
            ]

    class ModelSlot(Base):
        model = pw.CharField(max_length=32, primary_key=True)
        running = pw.IntegerField(default=0)

        class Meta:
            table_name = "model_slots"
            constraints = [pw.Check("running >= 0")]

    class Outbox(Base):
        id = pw.BigAutoField()
        dedupe_key = pw.CharField(max_length=96, unique=True)
        job = pw.ForeignKeyField(Job, null=True, on_delete="RESTRICT")
        user = pw.ForeignKeyField(User, on_delete="RESTRICT", index=False)
        chat_id = pw.BigIntegerField()
        kind = pw.CharField(max_length=24)
        payload = pw.TextField(default="{}")
        status = pw.CharField(max_length=12, default="pending")
        attempts = pw.IntegerField(default=0)
        next_try_at = pw.DateTimeField(default=_now)
        locked_until = pw.DateTimeField(null=True)
        sent_at = pw.DateTimeField(null=True)
        last_error = pw.TextField(null=True)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "outbox"
            indexes = ((("status", "next_try_at"), False),)
            constraints = [pw.Check("status IN ('pending', 'sending', 'sent', 'dead')")]

    db.create_tables([Job, ModelSlot, Outbox])
    migrator.migrate(migrator.add_column("users", "inflight", pw.IntegerField(default=0)))
    if isinstance(db, pw.PostgresqlDatabase):
        db.execute_sql("ALTER TABLE users ADD CONSTRAINT users_inflight_check CHECK (inflight >= 0)")
    p = db.param
    for model_id in [row[0] for row in db.execute_sql("SELECT id FROM ai_models")]:
        db.execute_sql(f"INSERT INTO model_slots (model, running) VALUES ({p}, 0)", (model_id,))
    db.execute_sql(
        "INSERT INTO settings (key, type, value, version, updated_at, updated_by) VALUES "
        f"('limits.user_parallel_jobs', 'int', '2', 1, {p}, 'migration'), "
        f"('limits.model_concurrency', 'int', '16', 1, {p}, 'migration'), "
        f"('jobs.max_attempts', 'int', '3', 1, {p}, 'migration')",
        (_now(), _now(), _now()),
    )
