"""A user can delete a generation from their history: ``jobs.hidden_at`` (NULL: listed).

The row stays (its hold, settle and refund transfers name it, and support may need it for a
dispute); the history stops listing it, its buttons become outdated and its images are deleted from
storage by ``services.history.delete``.
"""

import peewee as pw


def up(migrator, db):
    migrator.migrate(migrator.add_column("jobs", "hidden_at", pw.DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("jobs", "hidden_at"))
