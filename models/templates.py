"""Prompt templates: categories, templates (title and prompt per language, model and settings
defaults, optional preview image) and one row per generation that used a template (trending).

A template's ``model`` and ``settings`` are defaults: the draft keeps the user's model when the
template names none or a disabled one, and drops settings the model does not support.
"""

from __future__ import annotations

import json
from typing import Any

import peewee as pw

from bananapics.models.base import BaseModel, utcnow
from bananapics.models.users import User

LANGS = ("uz", "ru", "en")


class TemplateCategory(BaseModel):
    slug = pw.CharField(max_length=32, primary_key=True)
    name_uz = pw.CharField(max_length=48)
    name_ru = pw.CharField(max_length=48)
    name_en = pw.CharField(max_length=48)
    sort = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "template_categories"

    def name(self, lang: str) -> str:
        return getattr(self, f"name_{lang}", None) or self.name_uz


class Template(BaseModel):
    id = pw.AutoField()
    category = pw.ForeignKeyField(TemplateCategory, column_name="category", backref="templates",
                                  on_delete="RESTRICT", on_update="CASCADE")
    title_uz = pw.CharField(max_length=64)
    title_ru = pw.CharField(max_length=64)
    title_en = pw.CharField(max_length=64)
    prompt_uz = pw.TextField()
    prompt_ru = pw.TextField()
    prompt_en = pw.TextField()
    model = pw.CharField(max_length=32, null=True)  # default model id; NULL keeps the user's
    settings = pw.TextField(default="{}")  # JSON defaults (aspect_ratio, resolution, quality, count…)
    preview_key = pw.CharField(max_length=255, null=True)  # storage key of the preview image
    active = pw.BooleanField(default=True)
    pinned = pw.BooleanField(default=False)
    sort = pw.IntegerField(default=0)
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "templates"
        indexes = ((("active", "category", "sort"), False),)

    def title(self, lang: str) -> str:
        return getattr(self, f"title_{lang}", None) or self.title_uz

    def prompt(self, lang: str) -> str:
        return getattr(self, f"prompt_{lang}", None) or self.prompt_uz

    @property
    def settings_dict(self) -> dict[str, Any]:
        return json.loads(self.settings or "{}")


class TemplateUse(BaseModel):
    """A generation submitted from a template (one per job: ``job_id`` is unique)."""

    id = pw.BigAutoField()
    template = pw.ForeignKeyField(Template, backref="uses", on_delete="CASCADE", index=False)
    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    job_id = pw.CharField(max_length=32, unique=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "template_uses"
        indexes = ((("template", "created_at"), False), (("created_at",), False))
