"""Payments: refund bookkeeping, reconciled charges and the user debt a forced refund leaves.

* ``users.debt``: tokens the user owes after an admin forced a refund of tokens they had already
  spent (or Telegram refunded a charge outside the bot): the shortfall is lent from the new system
  account ``debt`` (kind ``debt``) and repaid from the next top-up (kind ``debt_repay``). Never
  negative; while it is above zero the user cannot start a generation.
* ``payments.source``: ``bot`` (the successful-payment update) or ``reconcile`` (found later in
  ``payments.getStarsTransactions``).
* ``payments.refunded_by`` (who: ``cli:alice``, ``telegram``…) and ``payments.refund_debt`` (tokens
  the refund could not take back and left as debt).
"""


def up(migrator, db):
    db.execute_sql("ALTER TABLE users ADD COLUMN debt BIGINT NOT NULL DEFAULT 0 CHECK (debt >= 0)")
    db.execute_sql("ALTER TABLE payments ADD COLUMN source VARCHAR(12) NOT NULL DEFAULT 'bot'")
    db.execute_sql("ALTER TABLE payments ADD COLUMN refunded_by VARCHAR(96)")
    db.execute_sql("ALTER TABLE payments ADD COLUMN refund_debt BIGINT NOT NULL DEFAULT 0 CHECK (refund_debt >= 0)")
    db.execute_sql(
        f"INSERT INTO system_accounts (name, description) VALUES ({db.param}, {db.param})",
        ("debt", "tokens lent to users whose refund took back more than they had; repaid from their next top-ups (source)"),
    )
