"""Users: Telegram identity, role, ban state, referral link and cached balances.

``available``, ``held`` and ``debt`` are caches of the ledger (see ``bananapics.services.ledger``); they change
only through guarded UPDATEs in the same transaction as a transfer, and CHECK constraints forbid
negatives.
"""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel, utcnow

ROLES = ("user", "support", "admin")


class User(BaseModel):
    id = pw.BigAutoField()
    tg_id = pw.BigIntegerField(unique=True)
    username = pw.CharField(max_length=64, null=True)
    first_name = pw.CharField(max_length=128, default="")
    last_name = pw.CharField(max_length=128, default="")
    language = pw.CharField(max_length=8, default="uz")
    role = pw.CharField(max_length=16, default="user")
    banned = pw.BooleanField(default=False)
    ban_reason = pw.TextField(null=True)
    banned_at = pw.DateTimeField(null=True)
    referral_code = pw.CharField(max_length=16, unique=True)
    referrer = pw.ForeignKeyField("self", null=True, backref="referrals", on_delete="RESTRICT")
    referred_at = pw.DateTimeField(null=True)
    available = pw.BigIntegerField(default=0)
    held = pw.BigIntegerField(default=0)
    inflight = pw.IntegerField(default=0)  # non-terminal jobs (migration 0003)
    blocked_bot = pw.BooleanField(default=False)  # the user blocked the bot: stop sending (0004)
    welcomed = pw.BooleanField(default=False)  # first /start handled (0004)
    first_topup_at = pw.DateTimeField(null=True)
    debt = pw.BigIntegerField(default=0)  # tokens owed after a forced refund; blocks generation (0006)
    pref_model = pw.CharField(max_length=32, null=True)  # Settings → default model; NULL: the admin's (0009)
    pref_ratio = pw.CharField(max_length=8, null=True)  # Settings → default aspect ratio; NULL: the model's (0009)
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    # Not a column: True on the row ``users.register`` has just created (the update is the user's first).
    registered_now = False

    class Meta:
        table_name = "users"

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or (f"@{self.username}" if self.username else str(self.tg_id))
