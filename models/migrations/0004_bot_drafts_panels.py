"""Bot state that must survive restarts: the generate wizard's draft per user, each user's panel
message, and whether the user blocked the bot (delivery stops trying)."""

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

    class Draft(Base):
        user = pw.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
        model = pw.CharField(max_length=32, null=True)
        prompt = pw.TextField(null=True)
        template_id = pw.IntegerField(null=True)
        ref_keys = pw.TextField(default="[]")
        settings = pw.TextField(default="{}")
        step = pw.CharField(max_length=16, default="model")
        confirm_id = pw.CharField(max_length=32, null=True)
        version = pw.IntegerField(default=1)
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "drafts"

    class Panel(Base):
        user = pw.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
        chat_id = pw.BigIntegerField()
        message_id = pw.BigIntegerField()
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "panels"

    db.create_tables([Draft, Panel])
    migrator.migrate(
        migrator.add_column("users", "blocked_bot", pw.BooleanField(default=False)),
        migrator.add_column("users", "welcomed", pw.BooleanField(default=False)),
    )
