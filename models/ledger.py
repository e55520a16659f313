"""Ledger tables: append-only transfers, open/closed holds, the system account catalogue.

A transfer moves ``amount`` tokens from a debit account to a credit account. An account is either a
user's ``available``/``held`` (``*_user`` set) or a system account (``*_user`` NULL, ``*_account`` the
system account name). ``UNIQUE(kind, ref)`` makes every movement idempotent.

System accounts keep no cached balance on purpose: every settle would otherwise update one hot row
(``revenue``) and serialise all workers. Their balances are aggregates over the transfers.
"""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel, utcnow
from bananapics.models.users import User

USER_ACCOUNTS = ("available", "held")
SYSTEM_ACCOUNTS = {
    "stars_in": "tokens bought with Telegram Stars (source)",
    "bonus": "tokens given away: package bonuses, welcome grants (source)",
    "referral": "referral cashback paid to referrers (source)",
    "adjustment": "manual admin adjustments (source or sink)",
    "revenue": "tokens spent on generations (sink)",
    "debt": "tokens lent to users whose refund took back more than they had; repaid from their next top-ups (source)",
}


class SystemAccount(BaseModel):
    name = pw.CharField(max_length=32, primary_key=True)
    description = pw.TextField(default="")

    class Meta:
        table_name = "system_accounts"


class Transfer(BaseModel):
    id = pw.BigAutoField()
    kind = pw.CharField(max_length=24)
    ref = pw.CharField(max_length=255)
    amount = pw.BigIntegerField()
    debit_user = pw.ForeignKeyField(User, null=True, column_name="debit_user_id", backref="+", on_delete="RESTRICT")
    debit_account = pw.CharField(max_length=32)
    credit_user = pw.ForeignKeyField(User, null=True, column_name="credit_user_id", backref="+", on_delete="RESTRICT")
    credit_account = pw.CharField(max_length=32)
    actor = pw.CharField(max_length=96, default="system")
    reason = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "transfers"


class Hold(BaseModel):
    """A pending transfer: tokens moved available → held, resolved once by settle and/or refund."""

    ref = pw.CharField(max_length=255, primary_key=True)
    user = pw.ForeignKeyField(User, backref="holds", on_delete="RESTRICT")
    amount = pw.BigIntegerField()
    status = pw.CharField(max_length=12, default="open")  # open | closed
    settled = pw.BigIntegerField(default=0)
    refunded = pw.BigIntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)
    closed_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "holds"
