"""The whole template catalogue (categories and templates) as one JSON or TOML document, both ways.

Export writes every category and every template, hidden ones too::

    {"version": 1,
     "categories": [{"slug": "portraits", "names": {"uz": …, "ru": …, "en": …}, "sort": 10}],
     "templates": [{"id": 3, "category": "portraits", "titles": {…}, "prompts": {…}, "model": "nano-banana",
                    "settings": {"aspect_ratio": "3:4"}, "preview_key": null, "active": true,
                    "pinned": false, "sort": 0}]}

(TOML: the same as ``[[categories]]`` and ``[[templates]]`` tables; a null is left out.)

Import merges: a category is created or renamed by its slug; a template whose ``id`` exists is
updated, any other is created. The document is validated whole before anything is written (every
field by the same rules as a single edit, categories the file itself adds included): one bad entry
refuses the import and nothing changes. Then every change and its admin-log row, plus one
``templates.import`` row with what it did, commit in one transaction. Importing an export of the
same catalogue changes and logs nothing but that row.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from typing import Any

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput
from bananapics.models import Template, TemplateCategory
from bananapics.models.templates import LANGS
from bananapics.services import audit, templates
from bananapics.services.audit import Actor

VERSION = 1
FORMATS = ("json", "toml")
MAX_ENTRIES = 10_000
TEMPLATE_KEYS = {"id", "category", "titles", "prompts", "model", "settings", "preview_key", "active", "pinned", "sort"}
CATEGORY_KEYS = {"slug", "names", "sort"}


@dataclass
class ImportReport:
    categories_created: list[str] = field(default_factory=list)
    categories_updated: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"categories_created": self.categories_created, "categories_updated": self.categories_updated,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "dry_run": self.dry_run}


# ---------------------------------------------------------------- export

def _category_dict(row: TemplateCategory) -> dict[str, Any]:
    return {"slug": row.slug, "names": {lang: getattr(row, f"name_{lang}") for lang in LANGS}, "sort": row.sort}


def _template_dict(row: Template) -> dict[str, Any]:
    snap = templates.snapshot(row)
    return {"id": row.id, "category": snap["category"],
            "titles": {lang: snap[f"title_{lang}"] for lang in LANGS},
            "prompts": {lang: snap[f"prompt_{lang}"] for lang in LANGS},
            "model": snap["model"], "settings": snap["settings"], "preview_key": snap["preview_key"],
            "active": bool(snap["active"]), "pinned": bool(snap["pinned"]), "sort": snap["sort"]}


def export_catalogue(*, actor: Actor) -> dict[str, Any]:
    """Every category and template (hidden too) in display order."""
    audit.authorize(actor, "read", "templates")
    with connection():
        cats = [_category_dict(c) for c in TemplateCategory.select().order_by(TemplateCategory.sort,
                                                                              TemplateCategory.slug)]
        rows = [_template_dict(t) for t in Template.select().order_by(Template.category, Template.sort, Template.id)]
    return {"version": VERSION, "categories": cats, "templates": rows}


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def dumps(document: dict[str, Any], fmt: str) -> str:
    """The catalogue as text: ``json`` (nulls kept) or ``toml`` (nulls left out)."""
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if fmt == "toml":
        import tomli_w

        return tomli_w.dumps(_drop_none(document))
    raise InvalidInput(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")


def loads(text: str, fmt: str) -> dict[str, Any]:
    """Parse a catalogue document; a syntax error is one line naming where it is."""
    try:
        if fmt == "json":
            data = json.loads(text)
        elif fmt == "toml":
            data = tomllib.loads(text)
        else:
            raise InvalidInput(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"not valid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("the catalogue must be a table with 'categories' and 'templates'")
    return data


# ---------------------------------------------------------------- import

def _category_values(entry: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(entry, dict):
        raise InvalidInput("must be a table with slug, names and sort")
    unknown = set(entry) - CATEGORY_KEYS
    if unknown:
        raise InvalidInput(f"categories have no field {sorted(unknown)[0]!r}")
    slug = entry.get("slug")
    if not isinstance(slug, str) or not slug or len(slug) > 32 or not set(slug) <= templates.SLUG_CHARS \
            or not slug[0].isalnum():
        raise InvalidInput("a category id is 1-32 characters: a-z, 0-9, - and _")
    names = templates._per_language(entry.get("names"), "category name",
                                    lambda v, w: templates._text(v, w, templates.CATEGORY_NAME_MAX))
    sort = entry.get("sort", 0)
    if isinstance(sort, bool) or not isinstance(sort, int) or not -10**6 <= sort <= 10**6:
        raise InvalidInput("sort must be a whole number")
    return slug, {"names": names, "sort": sort}


def _template_fields(entry: Any, slugs: set[str]) -> tuple[int | None, dict[str, Any]]:
    """The fields to give :func:`templates.create` / :func:`templates.update`, validated by the
    same rules (the category may be one the document itself adds)."""
    if not isinstance(entry, dict):
        raise InvalidInput("must be a table")
    unknown = set(entry) - TEMPLATE_KEYS
    if unknown:
        raise InvalidInput(f"templates have no field {sorted(unknown)[0]!r}")
    for needed in ("category", "titles", "prompts"):
        if needed not in entry:
            raise InvalidInput(f"missing {needed!r}")
    template_id = entry.get("id")
    if template_id is not None and (isinstance(template_id, bool) or not isinstance(template_id, int)
                                    or template_id < 1):
        raise InvalidInput("id must be a positive whole number")
    fields = {k: v for k, v in entry.items() if k != "id"}
    fields.setdefault("model", None)
    fields.setdefault("settings", {})
    fields.setdefault("preview_key", None)
    for name, default in (("active", True), ("pinned", False), ("sort", 0)):
        fields.setdefault(name, default)
    if fields["category"] not in slugs:
        raise InvalidInput(f"no template category {fields['category']!r}")
    current = Template.get_or_none(Template.id == template_id) if template_id is not None else None
    check = {k: v for k, v in fields.items() if k != "category"}
    templates._clean(check, current)  # raises InvalidInput with the reason; writes nothing
    return (template_id if current is not None else None), fields


def _entries(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise InvalidInput(f"'{key}' must be a list")
    if len(value) > MAX_ENTRIES:
        raise InvalidInput(f"'{key}' holds {len(value)} entries; the limit is {MAX_ENTRIES}")
    return value


def import_catalogue(document: dict[str, Any], *, actor: Actor, reason: str | None = None,
                     dry_run: bool = False) -> ImportReport:
    """Validate the whole document, then (unless ``dry_run``) apply it in one transaction."""
    audit.authorize(actor, "templates.edit", "templates")
    unknown = set(document) - {"version", "categories", "templates"}
    if unknown:
        raise InvalidInput(f"the catalogue has no section {sorted(unknown)[0]!r}")
    if document.get("version", VERSION) != VERSION:
        raise InvalidInput(f"catalogue version {document.get('version')!r} is not {VERSION}")
    problems: list[str] = []
    categories: list[tuple[str, dict[str, Any]]] = []
    planned: list[tuple[int | None, dict[str, Any]]] = []
    with connection():
        for index, entry in enumerate(_entries(document, "categories")):
            try:
                categories.append(_category_values(entry))
            except InvalidInput as exc:
                problems.append(f"categories[{index}]: {exc.msg}")
        seen = [slug for slug, _ in categories]
        if len(set(seen)) != len(seen):
            problems.append("categories: a slug is given twice")
        slugs = set(seen) | {c.slug for c in TemplateCategory.select(TemplateCategory.slug)}
        ids: set[int] = set()
        for index, entry in enumerate(_entries(document, "templates")):
            try:
                template_id, fields = _template_fields(entry, slugs)
                if template_id is not None:
                    if template_id in ids:
                        raise InvalidInput(f"template id {template_id} is given twice")
                    ids.add(template_id)
                planned.append((template_id, fields))
            except InvalidInput as exc:
                label = f"templates[{index}]" + (f" (id {entry['id']})" if isinstance(entry, dict) and "id" in entry
                                                 else "")
                problems.append(f"{label}: {exc.msg}")
        existing = {c.slug: c for c in TemplateCategory.select()}
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        error = InvalidInput(f"nothing imported: {problems[0]}{more}")
        error.problems = problems  # type: ignore[attr-defined]
        raise error
    report = ImportReport(dry_run=dry_run)
    for slug, values in categories:
        row = existing.get(slug)
        if row is None:
            report.categories_created.append(slug)
        elif ({lang: getattr(row, f"name_{lang}") for lang in LANGS} != values["names"]
              or row.sort != values["sort"]):
            report.categories_updated.append(slug)
    try:
        return _apply(categories, planned, report, actor=actor, reason=reason, dry_run=dry_run)
    except _DryRun as done:
        return done.report


class _DryRun(Exception):
    """Rolls the import's transaction back: a dry run reports exactly what a real one would do."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


def _apply(categories: list[tuple[str, dict[str, Any]]], planned: list[tuple[int | None, dict[str, Any]]],
           report: ImportReport, *, actor: Actor, reason: str | None, dry_run: bool) -> ImportReport:
    with atomic():
        for slug, values in categories:
            if slug in report.categories_created or slug in report.categories_updated:
                templates.save_category(slug, names=values["names"], sort=values["sort"], actor=actor, reason=reason)
        for template_id, fields in planned:
            if template_id is None:
                report.created.append(templates.create(actor=actor, reason=reason, **fields).id)
                continue
            before = templates.snapshot(Template.get_by_id(template_id))
            after = templates.snapshot(templates.update(template_id, actor=actor, reason=reason, **fields))
            if after != before:
                report.updated.append(template_id)
            else:
                report.unchanged += 1
        audit.record(actor, "templates.import", "templates", after=report.as_dict(), reason=reason)
        if dry_run:
            raise _DryRun(report)
    return report
