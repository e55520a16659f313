"""A concurrency cap per model (``model_slots.cap``): NULL follows ``limits.model_concurrency`` (the
cap every model has), a number caps that model's provider calls across all workers — a slow or
rate-limited provider gets fewer slots than the others. The claim reads it inside its UPDATE."""

import peewee as pw


def up(migrator, db):
    migrator.migrate(migrator.add_column("model_slots", "cap", pw.IntegerField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("model_slots", "cap"))
