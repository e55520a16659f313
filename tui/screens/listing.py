"""What the table-and-actions screens (pricing, packages, templates, settings, jobs, admin log,
broadcasts) share: one DataTable filled by a worker, a status line, the selected row, and
:meth:`ListScreen.change`, which runs one service call and reloads on success."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.widgets import DataTable, Label

from bananapics.tui import data
from bananapics.tui.screens.base import AdminScreen


class ListScreen(AdminScreen):
    COLUMNS: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Any] = {}  # row key → the row's value, as loaded
        self.loads = 0  # results rendered (tests and benchmarks wait on it)

    def table(self) -> DataTable:
        return self.query_one("#table", DataTable)

    def on_mount(self) -> None:
        self.table().add_columns(*self.COLUMNS)
        self.table().focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="load")
    async def reload(self) -> None:
        outcome = await self.call(*self.fetch())
        if outcome.ok:
            self.show(outcome.value)
            self.loads += 1

    def fetch(self) -> tuple:  # pragma: no cover - every screen overrides it
        raise NotImplementedError

    def show(self, value: Any) -> None:  # pragma: no cover - every screen overrides it
        raise NotImplementedError

    def fill(self, rows: list[tuple[str, Any, list]]) -> None:
        """Replace the rows (key, item, cells), keeping the cursor on the same row when it is still there."""
        table = self.table()
        keep = table.cursor_row
        table.clear()
        self.items = {}
        for key, item, row_cells in rows:
            self.items[key] = item
            table.add_row(*row_cells, key=key)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    def status(self, text: str) -> None:
        self.query_one("#status", Label).update(text)

    def selected(self) -> Any:
        """The item under the cursor, or None (with a hint)."""
        table = self.table()
        if not table.row_count:
            self.notify("Nothing to act on here.", severity="warning")
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.items.get(key)

    async def change(self, fn, *args: Any, done: str = "Done", **kwargs: Any) -> data.Outcome:
        outcome = await self.call(fn, *args, **kwargs)
        if outcome.ok:
            self.notify(done, title="Done", markup=False)
            self.reload()
        return outcome
