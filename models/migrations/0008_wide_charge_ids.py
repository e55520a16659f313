"""Room for long Telegram charge ids: 128 → 255 characters.

A Stars ``telegram_payment_charge_id`` is about 110 characters today and Telegram does not promise a
length; at 128 a longer one could never be recorded (the payer charged, the credit refused). Every
column a charge id lands in widens: ``payments.charge_id`` and ``provider_charge_id``,
``invoice_intents.charge_id``, ``transfers.ref`` and ``holds.ref`` (ledger idempotency keys are charge
ids for payments), ``admin_actions.target`` (``charge:<id>``).

Postgres widens the types (no table rewrite for a longer varchar). SQLite does not enforce VARCHAR
lengths, so there is nothing to change there; the services check the lengths on both engines.
"""

import peewee as pw

COLUMNS = (("payments", "charge_id"), ("payments", "provider_charge_id"), ("invoice_intents", "charge_id"),
           ("transfers", "ref"), ("holds", "ref"), ("admin_actions", "target"))


def _set_width(db, width: int) -> None:
    if not isinstance(db, pw.PostgresqlDatabase):
        return
    for table, column in COLUMNS:
        db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE VARCHAR({width})')


def up(migrator, db):
    _set_width(db, 255)


def down(migrator, db):
    _set_width(db, 128)
