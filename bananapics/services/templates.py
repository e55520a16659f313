"""Prompt templates: browsing by category, trending, use counting and the admin CRUD.

* Users see active templates only, by category in the admin's order.
* A use is recorded when a generation is *submitted* from a draft filled by a template (in the
  job's transaction, one row per job), so trending counts real generations, not clicks.
* Trending = pinned templates first, then the templates most used in the last ``trending.days``
  days (an admin setting); uses older than the window do not count.
* Every admin change needs the admin role and writes an admin-log row (before/after) in the same
  transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import peewee as pw

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel, Template, TemplateCategory, TemplateUse, utcnow
from bananapics.models.templates import LANGS
from bananapics.services import audit, jobs, pricing, settings
from bananapics.services.audit import Actor

TITLE_MAX = 64
CATEGORY_NAME_MAX = 48
TRENDING_MAX = 40
SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
PREVIEW_PREFIX = "templates/"


def _unavailable(template_id: Any) -> NotFound:
    return NotFound(f"template {template_id} is not available", title="template_unavailable")


# ---------------------------------------------------------------- reading (users)

def categories() -> list[tuple[TemplateCategory, int]]:
    """Categories that have active templates, in order, with how many each has."""
    count = pw.fn.COUNT(Template.id)
    with connection():
        rows = (TemplateCategory.select(TemplateCategory, count.alias("n"))
                .join(Template, on=(Template.category == TemplateCategory.slug))
                .where(Template.active == True)  # noqa: E712
                .group_by(TemplateCategory.slug)
                .order_by(TemplateCategory.sort, TemplateCategory.slug))
        return [(row, int(row.n)) for row in rows]


def category(slug: str) -> TemplateCategory:
    with connection():
        row = TemplateCategory.get_or_none(TemplateCategory.slug == slug)
    if row is None:
        raise NotFound(f"no template category {slug!r}", title="template_unavailable")
    return row


def _active_in(slug: str) -> pw.ModelSelect:
    return (Template.select().where((Template.category == slug) & (Template.active == True))  # noqa: E712
            .order_by(Template.sort, Template.id))


def at(slug: str, index: int) -> tuple[Template, int, int]:
    """The category's template at ``index`` (clamped into range), the index used and the total."""
    with connection():
        total = _active_in(slug).count()
        if total == 0:
            raise _unavailable(slug)
        index = min(max(index, 0), total - 1)
        return list(_active_in(slug).offset(index).limit(1))[0], index, total


def position(template: Template) -> int:
    """Where an active template stands in its category's order (for the carousel)."""
    with connection():
        ids = [t.id for t in _active_in(template.category_id).select(Template.id)]
    return ids.index(template.id) if template.id in ids else 0


def get(template_id: int, *, active_only: bool = True) -> Template:
    with connection():
        template = Template.get_or_none(Template.id == template_id)
    if template is None or (active_only and not template.active):
        raise _unavailable(template_id)
    return template


def uses(template_id: int, days: int | None = None, now: dt.datetime | None = None) -> int:
    """How often a template was used to generate (in the last ``days`` days, or ever)."""
    query = TemplateUse.select().where(TemplateUse.template == template_id)
    if days is not None:
        query = query.where(TemplateUse.created_at >= (now or utcnow()) - dt.timedelta(days=days))
    with connection():
        return query.count()


def trending_days() -> int:
    return int(settings.get("trending.days"))


def trending(limit: int = TRENDING_MAX, now: dt.datetime | None = None) -> list[tuple[Template, int]]:
    """Pinned templates first, then by uses in the window; templates never used in it are left out."""
    cutoff = (now or utcnow()) - dt.timedelta(days=trending_days())
    count = pw.fn.COUNT(TemplateUse.id)
    with connection():
        rows = (Template.select(Template, count.alias("n"))
                .join(TemplateUse, pw.JOIN.LEFT_OUTER,
                      on=((TemplateUse.template == Template.id) & (TemplateUse.created_at >= cutoff)))
                .where(Template.active == True)  # noqa: E712
                .group_by(Template.id)
                .having((Template.pinned == True) | (count > 0))  # noqa: E712
                .order_by(Template.pinned.desc(), count.desc(), Template.sort, Template.id)
                .limit(limit))
        return [(row, int(row.n)) for row in rows]


def record_use(template_id: int | None, user_id: int, job_id: str) -> bool:
    """Count one generation from a template (call inside the job's transaction); replays count once."""
    if not template_id:
        return False
    with atomic():
        if Template.get_or_none(Template.id == template_id) is None:
            return False  # deleted since the draft was filled
        TemplateUse.insert(template=template_id, user=user_id, job_id=job_id).on_conflict_ignore().execute()
    return True


def of_job(job_id: str) -> int | None:
    """The template a job was generated from, if any (regenerating it counts as another use)."""
    with connection():
        row = TemplateUse.get_or_none(TemplateUse.job_id == job_id)
    return row.template_id if row else None


# ---------------------------------------------------------------- admin

def _text(value: Any, what: str, limit: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > limit:
        raise InvalidInput(f"{what} is {len(text)} characters; the limit is {limit}")
    return text


def _per_language(values: Any, what: str, clean) -> dict[str, str]:
    if not isinstance(values, dict) or set(values) != set(LANGS):
        raise InvalidInput(f"{what} must be given in every language: {', '.join(LANGS)}")
    return {lang: clean(values[lang], f"{what} ({lang})") for lang in LANGS}


def _prompt(value: Any, what: str) -> str:
    try:
        return jobs.clean_prompt(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc.msg}") from None


def _check_settings(model_id: str | None, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("settings must be a mapping such as {\"aspect_ratio\": \"16:9\"}")
    if "refs" in value:
        raise InvalidInput("references are the user's photos, not a template setting")
    if model_id:
        pricing.normalise(pricing.load_model(model_id), value)  # raises InvalidInput with the reason
    else:
        unknown = set(value) - set(pricing.OPTION_KEYS) - {"count"}
        if unknown:
            raise InvalidInput(f"unknown setting {sorted(unknown)[0]!r}")
    return dict(value)


def _clean(fields: dict[str, Any], current: Template | None = None) -> dict[str, Any]:
    """Validate the given fields; returns the column values to write."""
    out: dict[str, Any] = {}
    if "titles" in fields:
        for lang, text in _per_language(fields.pop("titles"), "title", lambda v, w: _text(v, w, TITLE_MAX)).items():
            out[f"title_{lang}"] = text
    if "prompts" in fields:
        for lang, text in _per_language(fields.pop("prompts"), "prompt", _prompt).items():
            out[f"prompt_{lang}"] = text
    if "category" in fields:
        slug = fields.pop("category")
        if TemplateCategory.get_or_none(TemplateCategory.slug == slug) is None:
            raise InvalidInput(f"no template category {slug!r}")
        out["category"] = slug
    model_given = "model" in fields
    model_id = fields.pop("model") if model_given else (current.model if current else None)
    if model_id is not None and AiModel.get_or_none(AiModel.id == model_id) is None:
        raise InvalidInput(f"unknown model {model_id!r}")
    if model_given:
        out["model"] = model_id
    if "settings" in fields or model_given:  # a new model re-checks the settings it would run with
        raw = fields.pop("settings") if "settings" in fields else (current.settings_dict if current else {})
        out["settings"] = json.dumps(_check_settings(model_id, raw), sort_keys=True)
    if "preview_key" in fields:
        key = fields.pop("preview_key")
        if key is not None:
            from bananapics.storage import validate_key

            validate_key(key)
        out["preview_key"] = key
    for name in ("active", "pinned"):
        if name in fields:
            value = fields.pop(name)
            if not isinstance(value, bool):
                raise InvalidInput(f"{name} must be true or false")
            out[name] = value
    if "sort" in fields:
        value = fields.pop("sort")
        if isinstance(value, bool) or not isinstance(value, int) or not -10**6 <= value <= 10**6:
            raise InvalidInput("sort must be a whole number")
        out["sort"] = value
    if fields:
        raise InvalidInput(f"templates have no field {sorted(fields)[0]!r}")
    return out


def snapshot(template: Template) -> dict[str, Any]:
    """A template as plain values (the admin log's before/after, the CLI's --json)."""
    data = {name: getattr(template, name) for name in (
        "id", "model", "preview_key", "active", "pinned", "sort")}
    data["category"] = template.category_id
    data["settings"] = template.settings_dict
    for lang in LANGS:
        data[f"title_{lang}"] = getattr(template, f"title_{lang}")
        data[f"prompt_{lang}"] = getattr(template, f"prompt_{lang}")
    return data


def create(*, actor: Actor, category: str, titles: dict[str, str], prompts: dict[str, str],
           model: str | None = None, settings: dict[str, Any] | None = None, preview_key: str | None = None,
           sort: int = 0, pinned: bool = False, active: bool = True, reason: str | None = None) -> Template:
    audit.authorize(actor, "templates.edit", "template:new")
    with atomic():
        values = _clean({"category": category, "titles": titles, "prompts": prompts, "model": model,
                         "settings": settings, "preview_key": preview_key, "sort": sort, "pinned": pinned,
                         "active": active})
        template = Template.create(**values)
        template = Template.get_by_id(template.id)
        audit.record(actor, "templates.create", f"template:{template.id}", after=snapshot(template), reason=reason)
    return template


def _change(template_id: int, actor: Actor, action: str, reason: str | None, **fields: Any) -> Template:
    with atomic():
        template = Template.get_or_none(Template.id == template_id)
        if template is None:
            raise NotFound(f"template {template_id} not found")
        before = snapshot(template)
        values = _clean(dict(fields), template)
        if not values:
            return template
        Template.update(**values, updated_at=utcnow()).where(Template.id == template_id).execute()
        template = Template.get_by_id(template_id)
        after = snapshot(template)
        changed = {k for k in after if after[k] != before[k]}
        if changed:
            audit.record(actor, action, f"template:{template_id}", before={k: before[k] for k in sorted(changed)},
                         after={k: after[k] for k in sorted(changed)}, reason=reason)
    return template


def update(template_id: int, *, actor: Actor, reason: str | None = None, **fields: Any) -> Template:
    """Change any of: titles, prompts (both per language), category, model, settings, preview_key,
    sort, active, pinned."""
    audit.authorize(actor, "templates.edit", f"template:{template_id}")
    return _change(template_id, actor, "templates.update", reason, **fields)


def toggle(template_id: int, *, actor: Actor, reason: str | None = None) -> Template:
    """Show or hide a template."""
    audit.authorize(actor, "templates.edit", f"template:{template_id}")
    with atomic():
        return _change(template_id, actor, "templates.toggle", reason, active=not get(template_id, active_only=False).active)


def pin(template_id: int, *, actor: Actor, pinned: bool | None = None, reason: str | None = None) -> Template:
    """Pin (always first in trending) or unpin; ``pinned=None`` flips."""
    audit.authorize(actor, "templates.edit", f"template:{template_id}")
    with atomic():
        flag = (not get(template_id, active_only=False).pinned) if pinned is None else pinned
        return _change(template_id, actor, "templates.pin", reason, pinned=flag)


def delete(template_id: int, *, actor: Actor, reason: str) -> None:
    """Delete a template and its use counts (hiding keeps them: prefer :func:`toggle`)."""
    audit.authorize(actor, "templates.edit", f"template:{template_id}")
    if not reason or not reason.strip():
        raise InvalidInput("deleting a template needs a reason")
    with atomic():
        template = Template.get_or_none(Template.id == template_id)
        if template is None:
            raise NotFound(f"template {template_id} not found")
        before = snapshot(template)
        TemplateUse.delete().where(TemplateUse.template == template_id).execute()
        Template.delete().where(Template.id == template_id).execute()
        audit.record(actor, "templates.delete", f"template:{template_id}", before=before, reason=reason.strip())


def store_preview(storage, template_id: int, data: bytes, *, actor: Actor) -> Template:
    """Validate and re-encode a preview image, store it and point the template at it."""
    from bananapics.images import thumbnail

    audit.authorize(actor, "templates.edit", f"template:{template_id}")
    get(template_id, active_only=False)
    image = thumbnail(data, side=1280)
    key = f"{PREVIEW_PREFIX}{template_id}-{hashlib.sha256(image.data).hexdigest()[:16]}.{image.ext}"
    storage.put(key, image.data, image.mime)
    return update(template_id, actor=actor, preview_key=key, reason="new preview image")


def save_category(slug: str, *, names: dict[str, str], sort: int = 0, actor: Actor,
                  reason: str | None = None) -> TemplateCategory:
    """Create or rename a category (``slug`` is its permanent id: a-z, 0-9, - and _)."""
    audit.authorize(actor, "templates.edit", f"category:{slug}")
    if not slug or len(slug) > 32 or not set(slug) <= SLUG_CHARS or not slug[0].isalnum():
        raise InvalidInput("a category id is 1-32 characters: a-z, 0-9, - and _")
    clean = _per_language(names, "category name", lambda v, w: _text(v, w, CATEGORY_NAME_MAX))
    values = {f"name_{lang}": clean[lang] for lang in LANGS} | {"sort": int(sort)}
    with atomic():
        row = TemplateCategory.get_or_none(TemplateCategory.slug == slug)
        before = None if row is None else {k: getattr(row, k) for k in values}
        if row is None:
            TemplateCategory.insert(slug=slug, **values).execute()
        else:
            TemplateCategory.update(**values).where(TemplateCategory.slug == slug).execute()
        audit.record(actor, "templates.category", f"category:{slug}", before=before, after=values, reason=reason)
    return TemplateCategory.get_by_id(slug)


def admin_list() -> list[tuple[Template, int]]:
    """Every template (hidden ones too) with its total use count, in display order."""
    count = pw.fn.COUNT(TemplateUse.id)
    with connection():
        rows = (Template.select(Template, count.alias("n"))
                .join(TemplateUse, pw.JOIN.LEFT_OUTER, on=(TemplateUse.template == Template.id))
                .group_by(Template.id)
                .order_by(Template.category, Template.sort, Template.id))
        return [(row, int(row.n)) for row in rows]


def move(template_id: int, step: int, *, actor: Actor, reason: str | None = None) -> Template:
    """Move a template one place up (``step`` -1) or down (+1) in its category: the order is
    renumbered 10, 20, … in one transaction with one audit row (before/after: the category's order).
    At either end nothing changes."""
    audit.authorize(actor, "templates.edit", f"template:{template_id}")
    if step not in (-1, 1):
        raise InvalidInput("a template moves one place up (-1) or down (+1)")
    with atomic():
        template = Template.get_or_none(Template.id == template_id)
        if template is None:
            raise NotFound(f"template {template_id} not found")
        ids = [t.id for t in Template.select(Template.id).where(Template.category == template.category_id)
               .order_by(Template.sort, Template.id)]
        at_ = ids.index(template_id)
        other = at_ + step
        if not 0 <= other < len(ids):
            return template
        order = list(ids)
        order[at_], order[other] = order[other], order[at_]
        for position, tid in enumerate(order):
            Template.update(sort=(position + 1) * 10).where(Template.id == tid).execute()
        audit.record(actor, "templates.reorder", f"category:{template.category_id}", before={"order": ids},
                     after={"order": order}, reason=reason)
        return Template.get_by_id(template_id)
