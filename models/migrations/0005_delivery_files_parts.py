"""Delivery mechanics: each stored image is uploaded to Telegram once, and a multi-part outbox row
resumes where it stopped.

* ``tg_files``: the Telegram file reference (photo or document id, access hash, file reference) of
  a storage key, so repeated sends and history re-sends reuse the upload.
* ``outbox.parts_sent``: how many parts (album of photos, album of files, the closing text) of a
  row Telegram has accepted; a FloodWait or a crash mid-row resumes from there.
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

    class TgFile(Base):
        id = pw.BigAutoField()
        storage_key = pw.CharField(max_length=255)
        kind = pw.CharField(max_length=8)
        media_id = pw.BigIntegerField()
        access_hash = pw.BigIntegerField()
        file_reference = pw.BlobField()
        created_at = pw.DateTimeField(default=_now)
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "tg_files"
            indexes = ((("storage_key", "kind"), True),)

    db.create_tables([TgFile])
    migrator.migrate(migrator.add_column("outbox", "parts_sent", pw.IntegerField(default=0)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("outbox", "parts_sent"))
    db.execute_sql('DROP TABLE IF EXISTS "tg_files"')
