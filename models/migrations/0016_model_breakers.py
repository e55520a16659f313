"""Per-model circuit breakers (services.breaker, issue 14): ``model_breakers``, one row per model
that has failed, shared by the bot and every worker. No foreign key to ``ai_models``: a row may
outlive a model an admin deletes, and nothing else refers to it."""

import datetime

import peewee as pw


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def up(migrator, db):
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class ModelBreaker(Base):
        model = pw.CharField(max_length=32, primary_key=True)
        state = pw.CharField(max_length=12, default="closed")
        failures = pw.IntegerField(default=0)
        open_until = pw.DateTimeField(null=True)
        probe_job = pw.CharField(max_length=32, null=True)
        probe_until = pw.DateTimeField(null=True)
        last_error = pw.CharField(max_length=24, null=True)
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "model_breakers"
            constraints = [pw.Check("state IN ('closed', 'open', 'half_open')"), pw.Check("failures >= 0")]

    db.create_tables([ModelBreaker])


def down(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS model_breakers")
