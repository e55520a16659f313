"""FastTable draws every line exactly as Textual's DataTable does: the same rows in both, side by
side, each line compared segment by segment (text and style, meta included) with the cursor on
several rows, hover, zebra stripes, a scrolled view, and cells the fast path hands back (styled,
spans, markup, cropped, wide and zero-width characters, newlines, a renderable that is not a Text)."""

from __future__ import annotations

import gc

import pytest
from rich.padding import Padding
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from bananapics.tui.widgets.cells import cell, cells
from bananapics.tui.widgets.table import FastTable

pytestmark = pytest.mark.anyio

ROWS = [
    cells(1_000_001, "@alice", "Alice Smith", "user", "", 1_500),
    cells(1_000_002, "", "Дилноза Каримова", "admin", "BANNED", 0),
    cells(1_000_003, "@bob_", "李小龙 🍌", "support", "", -20),
    cells(1_000_004, "@x", "", "user", "", None),
    [cell("styled", "bold red"), Text("spans", spans=[]), Text.from_markup("[b]bold[/b] and plain"), "[i]markup str[/i]",
     Text("two\nlines"), Text("centred", justify="center")],
    [Text("zero\u200bwidth"), Text("tab\there"), "a plain str", 42, 3.5, Text("right", justify="right")],
    [Padding("a padded renderable", (0, 2)), *cells(1, "x", "y", "z", 5)],  # not a Text: measured by DataTable
    *[cells(2_000_000 + i, f"@user{i}", f"Name{i} Surname{i}", "user", "", i * 7) for i in range(40)],
]


class Pair(App):
    AUTO_FOCUS = None

    def __init__(self, widths: list[int | None], zebra: bool) -> None:
        super().__init__()
        self.widths, self.zebra = widths, zebra

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="plain", cursor_type="row", zebra_stripes=self.zebra)
            yield FastTable(id="fast", cursor_type="row", zebra_stripes=self.zebra)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            for n, width in enumerate(self.widths):
                table.add_column(f"col{n}", width=width)
            for i, row in enumerate(ROWS):
                table.add_row(*row, key=str(i))


def lines(table: DataTable) -> list[list[tuple[str, object]]]:
    table._pseudo_class_state = table.get_pseudo_class_state()
    return [[(seg.text, seg.style) for seg in table.render_line(y)] for y in range(table.size.height)]


async def assert_same(pilot) -> None:
    """Both tables unfocused, then each with the focus (its cursor style changes)."""
    app = pilot.app
    plain, fast = app.query_one("#plain", DataTable), app.query_one("#fast", FastTable)
    app.set_focus(None)
    await pilot.pause()
    assert plain.size == fast.size and plain.size.height > 10
    assert lines(plain) == lines(fast)
    plain.focus()
    await pilot.pause()
    focused = lines(plain)
    fast.focus()
    await pilot.pause()
    assert focused == lines(fast)


@pytest.mark.parametrize("zebra", [True, False])
@pytest.mark.parametrize("widths", [[None] * 6, [4, 3, 8, 5, None, 6]], ids=["auto", "cropped"])
async def test_fast_table_draws_what_data_table_draws(widths, zebra, monkeypatch):
    slow: set[tuple[int, int]] = set()  # cells FastTable handed to DataTable's own path
    full_path = DataTable._render_cell

    def spy(table, row, column, *args, **kwargs):
        if isinstance(table, FastTable):
            slow.add((row, column))
        return full_path(table, row, column, *args, **kwargs)

    monkeypatch.setattr(DataTable, "_render_cell", spy)
    async with Pair(widths, zebra).run_test(size=(220, 30)) as pilot:
        await assert_same(pilot)
        for row in (1, 2, 4, 5, 20):
            for table in pilot.app.query(DataTable):
                table.move_cursor(row=row)
            await assert_same(pilot)
        for table in pilot.app.query(DataTable):
            table.hover_coordinate = Coordinate(3, 0)
            table._set_hover_cursor(True)
            table.scroll_to(y=15, animate=False)
        await assert_same(pilot)
        for table in pilot.app.query(DataTable):
            table.hover_coordinate = Coordinate(-1, 2)  # the mouse over a column label
        await assert_same(pilot)
    if widths[0] is None:  # every plain cell fits (the header's too): only the styled, marked-up,
        # multi-line, centred, control-character and non-Text cells go the slow way
        assert slow == {(4, 0), (4, 2), (4, 3), (4, 4), (4, 5), (5, 0), (5, 1), (6, 0)}
    else:  # and the cells (and column labels) cropped to the narrow columns
        assert (-1, 1) in slow and all(row < 7 or column in (0, 1, 2) for row, column in slow)


async def test_clearing_leaves_no_cyclic_garbage():
    """DataTable.clear() drops its LRUCache rings whole: cyclic garbage (the cached cells, rows and
    lines) for the collector each time; FastTable's clear leaves only the Strips that cache
    themselves (about a third here)."""
    async with Pair([None] * 6, True).run_test(size=(220, 30)) as pilot:
        await pilot.pause()
        found = {}
        gc.disable()
        try:
            for name in ("plain", "fast"):
                gc.collect()
                pilot.app.query_one(f"#{name}", DataTable).clear()
                found[name] = gc.collect()
        finally:
            gc.enable()
        assert found["plain"] > 1000 and found["fast"] < found["plain"] / 2, found


class One(App):
    AUTO_FOCUS = None
    CSS = "DataTable { height: 1fr; }"  # as in the console (an auto-height table shows every row: all go in at once)

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="plain", cursor_type="row", zebra_stripes=True)
            yield FastTable(id="fast", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_columns("id", "name", "balance")


def keyed(rows: list[list]) -> list[tuple[str, list]]:
    return [(f"k{i}", row) for i, row in enumerate(rows)]


async def test_replace_rows_shows_a_screenful_first_and_the_rest_after_the_frame():
    short = [cells(i, f"n{i}", i) for i in range(200)]
    wide = [cells(i, f"n{i}", i) for i in range(150)] + [cells(10**9, "a much longer name here", -5)] * 50
    wide = [(f"k{i}", row) for i, row in enumerate(wide)]
    async with One().run_test(size=(160, 20)) as pilot:
        await pilot.pause()
        plain, fast = pilot.app.query_one("#plain", DataTable), pilot.app.query_one("#fast", FastTable)
        view = fast.scrollable_content_region.height - fast.header_height
        assert view > 5
        held, add_rest = [], fast._add_rest
        fast._add_rest = lambda *args: held.append(args)
        fast.replace_rows(keyed(short))
        assert fast.row_count == view + 1  # one past the fold
        for key, row in wide:
            plain.add_row(*row, key=key)
        await pilot.pause()
        fast.replace_rows(wide)  # a newer result before the rest of the older one went in
        assert fast.row_count == view + 1
        await pilot.pause()
        await pilot.pause()
        assert fast.row_count == view + 1 and len(held) == 2  # the first frame: a screenful
        assert fast.virtual_size == plain.virtual_size  # the scrollbar as it will be with every row
        for args in held:
            add_rest(*args)  # the older rest is dropped, the newer goes in
        await pilot.pause()
        assert [fast.get_row_at(i) for i in range(fast.row_count)] == [row for _, row in wide]  # the older rest dropped
        # columns sized for the wide rows at the bottom from the start, as DataTable sizes them with all rows in
        assert [c.get_render_width(fast) for c in fast.ordered_columns] == \
            [c.get_render_width(plain) for c in plain.ordered_columns]
        assert lines(plain) == lines(fast)
        held.clear()
        fast._add_rest = lambda *args: held.append(args)
        fast.replace_rows(keyed(short))
        fast.clear()  # cleared before the rest went in: it never does
        await pilot.pause()
        await pilot.pause()
        add_rest(*held[0])
        assert fast.row_count == 0 and fast.virtual_size.height == fast.header_height
