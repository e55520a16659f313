"""Templates and trending (F6): every template (hidden too) with its uses; show/hide, pin (first in
trending), move up/down in its category, delete, and import a whole catalogue file (.json or .toml,
as ``bananapics templates export`` writes it). An import is validated whole and dry-run first: the
dialog says what it would create and update, and nothing is written unless the operator confirms."""

from __future__ import annotations

import os

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label

from bananapics.services import templates
from bananapics.tui import data
from bananapics.tui.dialogs import AskValue, ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.listing import ListScreen
from bananapics.tui.widgets.cells import cell


def catalogue_path(text: str) -> str:
    path = os.path.expanduser(text.strip())
    if not path:
        raise ValueError("the path of a .json or .toml catalogue file")
    if not path.lower().endswith((".json", ".toml")):
        raise ValueError("a catalogue file ends in .json or .toml")
    if not os.path.isfile(path):
        raise ValueError(f"no file at {path}")
    return path


def report_text(report: dict) -> str:
    def some(items: list) -> str:
        return f"{len(items)}" + (f" ({', '.join(map(str, items[:8]))}{'…' if len(items) > 8 else ''})" if items else "")
    return (f"categories: {some(report['categories_created'])} new, {some(report['categories_updated'])} changed\n"
            f"templates: {some(report['created'])} new, {some(report['updated'])} changed, "
            f"{report['unchanged']} unchanged")


@register("templates", "Templates", "f6", "Templates and trending: show/hide, pin, order, delete, import a catalogue")
class TemplatesScreen(ListScreen):
    COLUMNS = ("#", "category", "title", "model", "shown", "pinned", "uses", "order")
    BINDINGS = [
        Binding("h", "toggle", "Show/hide"),
        Binding("p", "pin", "Pin"),
        Binding("u", "move_up", "Up"),
        Binding("j", "move_down", "Down"),
        Binding("delete", "delete", "Delete"),
        Binding("i", "import_file", "Import"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = [
        ("Show or hide the selected template", "Hidden templates keep their use counts", "toggle"),
        ("Pin or unpin the selected template", "Pinned templates come first in trending", "pin"),
        ("Move the selected template up", "In its category", "move_up"),
        ("Move the selected template down", "In its category", "move_down"),
        ("Delete the selected template", "With its use counts; hiding keeps them", "delete"),
        ("Import a template catalogue", "A .json or .toml file, validated whole, dry-run first", "import_file"),
    ]

    def body(self) -> ComposeResult:
        yield Label("", id="status", classes="status")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)

    def fetch(self) -> tuple:
        return data.templates_list, self.actor

    def show(self, rows: list[dict]) -> None:
        self.fill([(str(t["id"]), t, [cell(t["id"]), cell(t["category"]), cell(t["title_en"]), cell(t["model"] or ""),
                                      cell("yes" if t["active"] else "hidden", "" if t["active"] else "dim"),
                                      cell("📌" if t["pinned"] else ""), cell(t["uses"]), cell(t["sort"])])
                   for t in rows])
        self.status(f"{len(rows)} templates · {sum(bool(t['active']) for t in rows)} shown · "
                    f"{sum(bool(t['pinned']) for t in rows)} pinned")

    @work(exclusive=True, group="action")
    async def action_toggle(self) -> None:
        t = self.selected()
        if t is None:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"{'Hide' if t['active'] else 'Show'} template #{t['id']}",
            f"“{t['title_en']}” {'disappears from' if t['active'] else 'comes back to'} the template list and "
            f"trending; its {t['uses']} uses stay.", confirm="Hide" if t["active"] else "Show"))
        if reason is not None:
            await self.change(templates.toggle, t["id"], actor=self.actor, reason=reason,
                              done=f"template #{t['id']} {'hidden' if t['active'] else 'shown'}")

    @work(exclusive=True, group="action")
    async def action_pin(self) -> None:
        t = self.selected()
        if t is None:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"{'Unpin' if t['pinned'] else 'Pin'} template #{t['id']}",
            f"“{t['title_en']}” " + ("ranks by its uses again." if t["pinned"] else "comes first in trending."),
            confirm="Unpin" if t["pinned"] else "Pin"))
        if reason is not None:
            await self.change(templates.pin, t["id"], actor=self.actor, pinned=not t["pinned"], reason=reason,
                              done=f"template #{t['id']} {'unpinned' if t['pinned'] else 'pinned'}")

    def action_move_up(self) -> None:
        self.move(-1)

    def action_move_down(self) -> None:
        self.move(1)

    @work(exclusive=True, group="action")
    async def move(self, step: int) -> None:
        t = self.selected()
        if t is not None:
            await self.change(templates.move, t["id"], step, actor=self.actor, reason="reordered in the TUI",
                              done=f"template #{t['id']} moved {'up' if step < 0 else 'down'}")

    @work(exclusive=True, group="action")
    async def action_delete(self) -> None:
        t = self.selected()
        if t is None:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Delete template #{t['id']}", f"“{t['title_en']}” and its {t['uses']} use counts are deleted for good "
            "(hiding keeps them).", confirm="Delete", danger=True))
        if reason is not None:
            await self.change(templates.delete, t["id"], actor=self.actor, reason=reason,
                              done=f"template #{t['id']} deleted")

    @work(exclusive=True, group="action")
    async def action_import_file(self) -> None:
        path = await self.app.push_screen_wait(AskValue(
            "Import a template catalogue", "Path of a .json or .toml file (as `bananapics templates export` writes):",
            catalogue_path, placeholder="~/catalogue.json"))
        if path is None:
            return
        dry = await self.call(data.import_templates, self.actor, path, dry_run=True)
        if not dry.ok:
            return  # the notification names the first problem; nothing was written
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Import {os.path.basename(path)}", f"{report_text(dry.value)}\nAll of it in one transaction.",
            confirm="Import"))
        if reason is not None:
            await self.change(data.import_templates, self.actor, path, reason, dry_run=False,
                              done=f"{os.path.basename(path)} imported")
