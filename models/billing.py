"""Top-up packages, invoice intents and Stars payments."""

from __future__ import annotations

import peewee as pw

from bananapics.models.base import BaseModel, utcnow
from bananapics.models.users import User


class Package(BaseModel):
    id = pw.AutoField()
    stars = pw.IntegerField()
    tokens = pw.IntegerField()
    bonus_pct = pw.IntegerField(default=0)
    active = pw.BooleanField(default=True)
    sort = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "packages"

    @property
    def bonus_tokens(self) -> int:
        return self.tokens * self.bonus_pct // 100


class InvoiceIntent(BaseModel):
    id = pw.BigAutoField()
    payload = pw.CharField(max_length=64, unique=True)
    user = pw.ForeignKeyField(User, backref="invoices", on_delete="RESTRICT")
    package = pw.ForeignKeyField(Package, backref="+", on_delete="RESTRICT")
    stars = pw.IntegerField()
    tokens = pw.IntegerField()
    bonus_tokens = pw.IntegerField(default=0)
    status = pw.CharField(max_length=12, default="open")  # open | paid | expired
    expires_at = pw.DateTimeField()
    created_at = pw.DateTimeField(default=utcnow)
    paid_at = pw.DateTimeField(null=True)
    charge_id = pw.CharField(max_length=255, null=True)

    class Meta:
        table_name = "invoice_intents"


class Payment(BaseModel):
    id = pw.BigAutoField()
    charge_id = pw.CharField(max_length=255, unique=True)
    provider_charge_id = pw.CharField(max_length=255, default="")
    user = pw.ForeignKeyField(User, backref="payments", on_delete="RESTRICT")
    intent = pw.ForeignKeyField(InvoiceIntent, null=True, backref="+", on_delete="RESTRICT")
    stars = pw.IntegerField()
    tokens = pw.IntegerField()
    bonus_tokens = pw.IntegerField(default=0)
    status = pw.CharField(max_length=12, default="paid")  # paid | refunded
    created_at = pw.DateTimeField(default=utcnow)
    refunded_at = pw.DateTimeField(null=True)
    refund_reason = pw.TextField(null=True)
    # 0006: where the charge was learnt from, who refunded it, what the refund left as debt
    source = pw.CharField(max_length=12, default="bot")  # bot | reconcile
    refunded_by = pw.CharField(max_length=96, null=True)
    refund_debt = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "payments"
