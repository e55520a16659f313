"""Exactly-once sends across a crash (``outbox.random_id``): the base of the ``random_id`` every
message of the row is sent with, stored when the row is first claimed (before any send). A part
whose send may have reached Telegram before the bot died is sent again with the same ids after the
restart, and Telegram answers ``RANDOM_ID_DUPLICATE`` instead of showing it twice. NULL until the
row is claimed (rows queued before this migration get theirs then)."""

import peewee as pw


def up(migrator, db):
    migrator.migrate(migrator.add_column("outbox", "random_id", pw.BigIntegerField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("outbox", "random_id"))
