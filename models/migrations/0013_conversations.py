"""The conversation step of each user: which text step their next typed message answers (an admin's
amount or search…) and until when; no row means the wizard's prompt. In the database, so a step
survives a bot restart."""

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

    class Conversation(Base):
        user = pw.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
        step = pw.CharField(max_length=32)
        data = pw.TextField(default="{}")
        expires_at = pw.DateTimeField()
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "conversations"

    db.create_tables([Conversation])


def down(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS conversations")
