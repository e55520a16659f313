"""Broadcasts (issue 11): the ``broadcasts`` table and ``outbox.broadcast_id``, which tags the frozen
recipient rows of a broadcast (delivery sends untagged, user-facing rows first and skips the rows of
a paused broadcast; progress is counted per broadcast and status)."""

import datetime

import peewee as pw


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def up(migrator, db):
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Broadcast(Base):
        id = pw.BigAutoField()
        text = pw.TextField()
        photo_key = pw.CharField(max_length=255, null=True)
        button_label = pw.CharField(max_length=64, null=True)
        button_url = pw.CharField(max_length=512, null=True)
        segment = pw.TextField(default="{}")
        status = pw.CharField(max_length=12, default="draft")
        total = pw.IntegerField(default=0)
        created_by = pw.CharField(max_length=96)
        tested_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField(default=_now)
        started_at = pw.DateTimeField(null=True)
        finished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "broadcasts"
            constraints = [pw.Check("status IN ('draft', 'starting', 'running', 'paused', 'cancelled', 'done')"),
                           pw.Check("total >= 0")]

    db.create_tables([Broadcast])
    migrator.migrate(migrator.add_column("outbox", "broadcast_id", pw.BigIntegerField(null=True)))
    db.execute_sql("CREATE INDEX outbox_broadcast_status ON outbox (broadcast_id, status)")


def down(migrator, db):
    db.execute_sql("DROP INDEX outbox_broadcast_status")
    migrator.migrate(migrator.drop_column("outbox", "broadcast_id"))
    db.execute_sql("DROP TABLE IF EXISTS broadcasts")
