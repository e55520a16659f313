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

    def current(self) -> Any:
        """The item under the cursor, or None when the table is empty (no hint: for previews)."""
        table = self.table()
        if not table.row_count:
            return None
        return self.items.get(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def selected(self) -> Any:
        """The item under the cursor, or None (with a hint)."""
        item = self.current()
        if item is None:
            self.notify("Nothing to act on here.", severity="warning")
        return item

    async def change(self, fn, *args: Any, done: str = "Done", **kwargs: Any) -> data.Outcome:
        outcome = await self.call(fn, *args, **kwargs)
        if outcome.ok:
            self.notify(done, title="Done", markup=False)
            self.reload()
        return outcome


class PagedScreen(ListScreen):
    """A ListScreen whose rows come in keyset pages: ``self.cursors[-1]`` is where this page starts,
    ``self.next`` where the next one would (n/p move)."""

    def __init__(self) -> None:
        super().__init__()
        self.cursors: list[str | None] = [None]
        self.next: str | None = None

    def restart(self) -> None:
        """Back to the first page (a filter changed) and load it."""
        self.cursors = [None]
        self.reload()

    def page_label(self) -> str:
        return f"page {len(self.cursors)}" + (" · n: next page" if self.next else "")

    def action_next_page(self) -> None:
        if self.next is None:
            self.notify("This is the last page.")
            return
        self.cursors.append(self.next)
        self.reload()

    def action_prev_page(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self.reload()
