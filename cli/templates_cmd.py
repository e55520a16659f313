"""``bananapics templates …``: prompt templates, and the whole catalogue as JSON or TOML."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bananapics.cli.common import (AsOpt, JsonOpt, ReasonOpt, YesOpt, confirm, database, fields, group, operator,
                                   out, print_json, table)
from bananapics.errors import InvalidInput
from bananapics.services import console, templates, templates_io

app = group("Prompt templates: list, edit, hide, pin, delete, export/import.")

IdArg = Annotated[int, typer.Argument(help="Template id (see `templates list`).")]
LANGS = ("uz", "ru", "en")


def _print(row, as_json: bool, uses: int | None = None) -> None:
    data = console.template_dict(row, uses)
    if as_json:
        print_json(data)
        return
    flat = {k: v for k, v in data.items() if k not in ("titles", "prompts")}
    flat.update({f"title_{lang}": data["titles"][lang] for lang in LANGS})
    flat.update({f"prompt_{lang}": data["prompts"][lang] for lang in LANGS})
    fields(flat)


def _per_language(option: str, common: str | None, uz: str | None, ru: str | None, en: str | None) -> dict | None:
    given = {lang: text for lang, text in (("uz", uz), ("ru", ru), ("en", en)) if text is not None}
    if common is not None:
        given = {lang: given.get(lang, common) for lang in LANGS}
    if not given:
        return None
    if set(given) != set(LANGS):
        raise InvalidInput(f"{option} is needed in every language: give --{option} for all or "
                           f"--{option}-uz, --{option}-ru and --{option}-en")
    return given


def _settings(raw: str | None) -> dict | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--settings is not JSON: {exc.msg}") from None
    return value


Title = Annotated[str | None, typer.Option("--title", help="Title in every language (or --title-uz/-ru/-en).")]
TitleUz = Annotated[str | None, typer.Option("--title-uz", help="Uzbek title.")]
TitleRu = Annotated[str | None, typer.Option("--title-ru", help="Russian title.")]
TitleEn = Annotated[str | None, typer.Option("--title-en", help="English title.")]
Prompt = Annotated[str | None, typer.Option("--prompt", help="Prompt in every language (or --prompt-uz/-ru/-en).")]
PromptUz = Annotated[str | None, typer.Option("--prompt-uz", help="Uzbek prompt.")]
PromptRu = Annotated[str | None, typer.Option("--prompt-ru", help="Russian prompt.")]
PromptEn = Annotated[str | None, typer.Option("--prompt-en", help="English prompt.")]
Model = Annotated[str | None, typer.Option("--model", help="Default model id.")]
Settings = Annotated[str | None, typer.Option("--settings", help='Default settings as JSON, e.g. {"aspect_ratio": "3:4"}.')]
Sort = Annotated[int | None, typer.Option("--sort", help="Position in its category (smaller first).")]


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Every template, hidden ones too, with how often it was used.

    --json prints [{id, category, model, settings, preview_key, active, pinned, sort, titles, prompts, uses}].

    Example: bananapics templates list --json
    """
    database()
    rows = console.template_rows(actor=operator(None))
    if as_json:
        print_json([console.template_dict(t, n) for t, n in rows])
        return
    table(None, ["id", "category", "title (en)", "model", "shown", "pinned", "sort", "uses"],
          [[t.id, t.category_id, t.title_en, t.model or "", "yes" if t.active else "no", "yes" if t.pinned else "",
            t.sort, n] for t, n in rows])


@app.command()
def show(template_id: IdArg, as_json: JsonOpt = False) -> None:
    """One template with its titles and prompts in every language.

    Example: bananapics templates show 3 --json
    """
    database()
    _print(console.template(template_id, actor=operator(None)), as_json)


@app.command()
def add(category: Annotated[str, typer.Option("--category", help="Category slug.")],
        title: Title = None, title_uz: TitleUz = None, title_ru: TitleRu = None, title_en: TitleEn = None,
        prompt: Prompt = None, prompt_uz: PromptUz = None, prompt_ru: PromptRu = None, prompt_en: PromptEn = None,
        model: Model = None, settings: Settings = None, sort: Sort = None,
        hidden: Annotated[bool, typer.Option("--hidden", help="Create it hidden from users.")] = False,
        reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Create a template (title and prompt in uz, ru and en).

    Example: bananapics templates add --category portraits --title "Noir" --prompt "a film noir portrait" --model nano-banana
    """
    titles = _per_language("title", title, title_uz, title_ru, title_en)
    prompts = _per_language("prompt", prompt, prompt_uz, prompt_ru, prompt_en)
    if titles is None or prompts is None:
        raise typer.BadParameter("a new template needs a title and a prompt", param_hint="'--title'")
    actor = operator(as_)
    database()
    row = templates.create(actor=actor, category=category, titles=titles, prompts=prompts, model=model,
                           settings=_settings(settings), sort=sort or 0, active=not hidden, reason=reason)
    _print(row, as_json)


@app.command()
def edit(template_id: IdArg,
         category: Annotated[str | None, typer.Option("--category", help="Category slug.")] = None,
         title: Title = None, title_uz: TitleUz = None, title_ru: TitleRu = None, title_en: TitleEn = None,
         prompt: Prompt = None, prompt_uz: PromptUz = None, prompt_ru: PromptRu = None, prompt_en: PromptEn = None,
         model: Model = None, settings: Settings = None, sort: Sort = None,
         reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Change any of a template's category, titles, prompts, model, settings or position.

    Example: bananapics templates edit 3 --title-en "Film noir" --sort 5
    """
    actor = operator(as_)
    database()
    changes: dict = {}
    if title is not None or title_uz is not None or title_ru is not None or title_en is not None:
        current = console.template(template_id, actor=actor)
        base = {lang: getattr(current, f"title_{lang}") for lang in LANGS}
        changes["titles"] = {**base, **{k: v for k, v in (("uz", title_uz), ("ru", title_ru), ("en", title_en))
                                          if v is not None}} if title is None else \
            _per_language("title", title, title_uz, title_ru, title_en)
    if prompt is not None or prompt_uz is not None or prompt_ru is not None or prompt_en is not None:
        current = console.template(template_id, actor=actor)
        base = {lang: getattr(current, f"prompt_{lang}") for lang in LANGS}
        changes["prompts"] = {**base, **{k: v for k, v in (("uz", prompt_uz), ("ru", prompt_ru), ("en", prompt_en))
                                           if v is not None}} if prompt is None else \
            _per_language("prompt", prompt, prompt_uz, prompt_ru, prompt_en)
    for name, value in (("category", category), ("model", model), ("settings", _settings(settings)), ("sort", sort)):
        if value is not None:
            changes[name] = value
    if not changes:
        raise typer.BadParameter("nothing to change", param_hint="'--title'")
    _print(templates.update(template_id, actor=actor, reason=reason, **changes), as_json)


def _flag(template_id: int, as_: str | None, reason: str | None, as_json: bool, **change) -> None:
    actor = operator(as_)
    database()
    _print(templates.update(template_id, actor=actor, reason=reason, **change), as_json)


@app.command()
def hide(template_id: IdArg, reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Hide a template from users (its use counts stay).

    Example: bananapics templates hide 3
    """
    _flag(template_id, as_, reason, as_json, active=False)


@app.command()
def unhide(template_id: IdArg, reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Show a hidden template to users again.

    Example: bananapics templates unhide 3
    """
    _flag(template_id, as_, reason, as_json, active=True)


@app.command()
def pin(template_id: IdArg, reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Pin a template: always first in trending.

    Example: bananapics templates pin 3
    """
    _flag(template_id, as_, reason, as_json, pinned=True)


@app.command()
def unpin(template_id: IdArg, reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Unpin a template: trending ranks it by its uses again.

    Example: bananapics templates unpin 3
    """
    _flag(template_id, as_, reason, as_json, pinned=False)


@app.command()
def rm(template_id: IdArg,
       reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required, kept in the admin log).")],
       yes: YesOpt = False, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Delete a template and its use counts (hide keeps them).

    Example: bananapics templates rm 3 --reason "duplicate of 7" --yes
    """
    actor = operator(as_)
    database()
    console.template(template_id, actor=actor)  # an unknown id is "not found" before the question
    confirm(f"Delete template {template_id} and its use counts", yes)
    templates.delete(template_id, actor=actor, reason=reason)
    if as_json:
        print_json({"deleted": template_id})
    else:
        out.print(f"template {template_id} deleted")


def _format(path: Path | None, fmt: str | None) -> str:
    if fmt is None:
        fmt = "toml" if path is not None and path.suffix.lower() == ".toml" else "json"
    if fmt not in templates_io.FORMATS:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(templates_io.FORMATS)}", param_hint="'--format'")
    return fmt


FormatOpt = Annotated[str | None, typer.Option("--format", "-f", help="json or toml (default: from the file "
                                                                     "name, else json).")]


@app.command("export")
def export_(path: Annotated[Path | None, typer.Argument(help="File to write (default: stdout).")] = None,
            fmt: FormatOpt = None) -> None:
    """Write the whole catalogue (categories and templates, hidden too) as JSON or TOML.

    Example: bananapics templates export catalogue.toml
    """
    fmt = _format(path, fmt)
    database()
    text = templates_io.dumps(templates_io.export_catalogue(actor=operator(None)), fmt)
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    out.print(f"wrote {path}")


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="A catalogue file from `templates export`.")],
            fmt: FormatOpt = None,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing.")] = False,
            reason: ReasonOpt = None, yes: YesOpt = False, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Merge a catalogue file: categories by slug, templates by id (others are created). The whole
    file is validated before anything is written; one bad entry changes nothing.

    --json prints {categories_created, categories_updated, created, updated, unchanged, dry_run}.

    Example: bananapics templates import catalogue.toml --dry-run
    """
    fmt = _format(path, fmt)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {getattr(exc, 'strerror', None) or 'not UTF-8 text'}") from None
    document = templates_io.loads(text, fmt)
    actor = operator(as_)
    database()
    if not dry_run:
        confirm(f"Import {path} into the template catalogue", yes)
    report = templates_io.import_catalogue(document, actor=actor, reason=reason, dry_run=dry_run)
    data = report.as_dict()
    if as_json:
        print_json(data)
        return
    out.print(("would import" if dry_run else "imported") + f": {len(report.created)} template(s) created, "
              f"{len(report.updated)} updated, {report.unchanged} unchanged; categories "
              f"{len(report.categories_created)} created, {len(report.categories_updated)} updated")
