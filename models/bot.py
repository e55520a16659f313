"""Bot state kept in the database: the wizard draft, the panel message and the conversation step
(what a typed message answers) of each user, and the Telegram file reference of every image already
uploaded."""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from bananapics.models.base import BaseModel, utcnow
from bananapics.models.users import User


class Draft(BaseModel):
    user = pw.ForeignKeyField(User, primary_key=True, backref="+", on_delete="CASCADE")
    model = pw.CharField(max_length=32, null=True)
    prompt = pw.TextField(null=True)
    template_id = pw.IntegerField(null=True)
    ref_keys = pw.TextField(default="[]")
    settings = pw.TextField(default="{}")
    step = pw.CharField(max_length=16, default="model")
    confirm_id = pw.CharField(max_length=32, null=True)
    version = pw.IntegerField(default=1)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "drafts"

    @property
    def refs(self) -> list[str]:
        return json.loads(self.ref_keys or "[]")

    @property
    def settings_dict(self) -> dict[str, Any]:
        return json.loads(self.settings or "{}")


class Panel(BaseModel):
    user = pw.ForeignKeyField(User, primary_key=True, backref="+", on_delete="CASCADE")
    chat_id = pw.BigIntegerField()
    message_id = pw.BigIntegerField()
    media = pw.BooleanField(default=False)  # a photo panel: text screens replace it (0007)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "panels"


class Conversation(BaseModel):
    """The text step a user's next typed message goes to (an admin's amount, a search…), until it
    expires. No row: the wizard's prompt (0013)."""

    user = pw.ForeignKeyField(User, primary_key=True, backref="+", on_delete="CASCADE")
    step = pw.CharField(max_length=32)
    data = pw.TextField(default="{}")
    expires_at = pw.DateTimeField()
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "conversations"

    @property
    def data_dict(self) -> dict[str, Any]:
        return json.loads(self.data or "{}")


class TgFile(BaseModel):
    """A stored image as Telegram knows it after one upload (``kind`` "photo" or "document")."""

    id = pw.BigAutoField()
    storage_key = pw.CharField(max_length=255)
    kind = pw.CharField(max_length=8)
    media_id = pw.BigIntegerField()
    access_hash = pw.BigIntegerField()
    file_reference = pw.BlobField()
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "tg_files"
        indexes = ((("storage_key", "kind"), True),)
