"""A user's own defaults (Settings → default model, default aspect ratio): the model a new draft
starts with and the aspect ratio it starts with when the model offers it. NULL = none chosen (the
admin's default model; the model's own default ratio)."""

import peewee as pw


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("users", "pref_model", pw.CharField(max_length=32, null=True)),
        migrator.add_column("users", "pref_ratio", pw.CharField(max_length=8, null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("users", "pref_model"),
        migrator.drop_column("users", "pref_ratio"),
    )
