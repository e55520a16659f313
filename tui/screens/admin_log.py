"""Admin log (F9): every admin action newest first ("N of M"), filtered by actor (``cli:alice``,
``tui:bob``, ``tg:123``) and target (``user:123``, ``model:nano-banana``); the selected row's
before/after and reason below. Keyset pages (n/p); the filters run in the database."""

from __future__ import annotations

import json

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label, Static

from bananapics.tui import data
from bananapics.tui.screens import register
from bananapics.tui.screens.listing import PagedScreen
from bananapics.tui.widgets.cells import cell
from bananapics.tui.widgets.inputs import text_input


def compact(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@register("admin_log", "Admin log", "f9", "Every admin action, by actor and target, with before/after and reason")
class AdminLogScreen(PagedScreen):
    COLUMNS = ("time", "actor", "action", "target", "outcome", "reason")
    BINDINGS = [
        Binding("slash", "focus_actor", "Actor"),
        Binding("t", "focus_target", "Target"),
        Binding("n", "next_page", "Next"),
        Binding("p", "prev_page", "Prev"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = [
        ("Filter the admin log by actor", "e.g. cli:alice, tui:bob, tg:123", "focus_actor"),
        ("Filter the admin log by target", "e.g. user:123, model:nano-banana, setting:referral.percent", "focus_target"),
        ("Next page of the admin log", "Keyset paging", "next_page"),
        ("Previous page of the admin log", "Keyset paging", "prev_page"),
    ]
    DEFAULT_CSS = """
    AdminLogScreen #filters { height: 3; }
    AdminLogScreen #filters Input { width: 1fr; }
    AdminLogScreen #change { height: auto; max-height: 6; border: round $primary; padding: 0 1; }
    """

    def body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield text_input(self.app, placeholder="actor (exact): cli:alice, tg:123", id="actor")
            yield text_input(self.app, placeholder="target (exact): user:123, model:…", id="target")
        yield Label("", id="status", classes="status")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="change", markup=False)

    def fetch(self) -> tuple:
        return (data.admin_log_page, self.actor, self.query_one("#actor", Input).value.strip(),
                self.query_one("#target", Input).value.strip(), self.cursors[-1])

    def show(self, value) -> None:
        rows, total, self.next = value
        self.fill([(str(a["id"]), a, [cell(a["created_at"]), cell(a["actor"]), cell(a["action"]), cell(a["target"]),
                                      cell(a["outcome"], "red" if a["outcome"] != "ok" else ""), cell(a["reason"] or "")])
                   for a in rows])
        self.status(f"{len(rows)} of {total} actions · {self.page_label()}" if rows else "no actions match")
        self._change()

    @on(DataTable.RowHighlighted, "#table")
    def _change(self) -> None:
        a = self.current()
        if a is None:
            self.query_one("#change", Static).update("")
            return
        self.query_one("#change", Static).update(
            f"#{a['id']} {a['action']} {a['target']} by {a['actor']}\nbefore: {compact(a['before'])}\n"
            f"after:  {compact(a['after'])}\nreason: {a['reason'] or '—'}")

    @on(Input.Submitted)
    def _filter(self) -> None:
        self.restart()
        self.table().focus()

    def action_focus_actor(self) -> None:
        self.query_one("#actor", Input).focus()

    def action_focus_target(self) -> None:
        self.query_one("#target", Input).focus()

