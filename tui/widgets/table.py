"""A DataTable for result lists that change at every keystroke (the Users search).

Textual's DataTable renders every visible cell through ``Console.render_lines(Styled(Padding(Text)))``
each time its rows change (its caches are keyed by the table's update count, so a new result
re-renders every visible cell): about 70 % of the frame that shows a search result. A cell that is a
plain :class:`rich.text.Text` (no spans, no style of its own, one line of printable characters, left
or right justified, as :func:`~bananapics.tui.widgets.cells.cells` makes them) that fits its column
comes out of that pipeline as the text padded to the column width in one style: :class:`FastTable`
builds that segment directly, for body cells and column labels. It also measures such cells itself
(their widest line, as rich does), keeps the table's styles for the frame it draws, and breaks the
rings of its LRU caches when it clears them (left whole, they are cyclic garbage: long collector
passes). :meth:`FastTable.replace_rows` swaps in a new result: the rows the view shows first, the
rest after that frame.

Anything else (labelled rows, fixed rows and columns, taller rows, styled, marked-up, cropped or
multi-line cells, other renderables) goes DataTable's own way. These are overrides of DataTable
internals of Textual 8 (``_render_cell``, ``_update_dimensions``, ``_get_row_style``,
``_clear_caches``); tests/tui/test_table.py draws the same rows in both tables and compares every
line, so a Textual release that changes them fails there first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.widgets import DataTable

_PLAIN_STYLES = ("", None)
_CLEARED = ("_row_render_cache", "_cell_render_cache", "_row_renderable_cache", "_line_cache", "_offset_cache",
            "_ordered_row_cache")
_JUSTIFY = {None: False, "default": False, "left": False, "right": True}


def _width(text: Text) -> int:
    """What rich's measure() gives for a Text: the cells of its widest line."""
    return max((cell_len(line) for line in text.plain.splitlines()), default=0)


def _plain(cell: object) -> tuple[str, bool] | None:
    """(text, right-justified) of a cell the fast path can draw, else None."""
    if type(cell) is not Text or cell._spans or cell.style not in _PLAIN_STYLES or cell.justify not in _JUSTIFY:
        return None
    text = cell.plain
    if not text.isprintable():  # newlines, tabs and other controls: rich's wrapping and expansion decide
        return None
    return text, _JUSTIFY[cell.justify]


class FastTable(DataTable):
    _rows_version = 0  # bumped by clear(): the rest of an older replace_rows is dropped
    _coming = 0  # rows replace_rows has yet to add (after the first frame)
    _frame_style: Style | None = None  # the table's style while render_lines draws its lines
    _frame_row_styles: dict[tuple, Style]
    _frame_backgrounds = None  # and its background colors

    def render_lines(self, crop):
        # The table's style, row styles and background cannot change while one frame's lines are
        # drawn, but DataTable asks for them four times a line (each a walk of the CSS or of the
        # ancestors: a third of its time).
        self._frame_style, self._frame_row_styles = self.rich_style, {}
        self._frame_backgrounds = self.background_colors
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = self._frame_backgrounds = None

    @property
    def rich_style(self) -> Style:
        return self._frame_style if self._frame_style is not None else super().rich_style

    @property
    def background_colors(self):
        return self._frame_backgrounds if self._frame_backgrounds is not None else super().background_colors

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        if self._frame_style is None:
            return super()._get_row_style(row_index, base_style)
        if row_index == -1 or row_index < self.fixed_rows:
            key: tuple = (row_index == -1,)
        else:
            key = (None, row_index % 2 if self.zebra_stripes else base_style)
        style = self._frame_row_styles.get(key)
        if style is None:
            style = self._frame_row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def replace_rows(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """All rows anew, as (key, cells): the columns sized for all of them at once, the rows the
        view can show added now and the others once the screen has drawn those.

        Adding and measuring 200 rows (DataTable measures each new cell through rich when idle) took
        about as long as drawing them, for rows below the fold. Column widths come out as if every
        row had been added at once (DataTable's auto widths only grow: the widest cell or label
        seen so far), so the later rows never move a column; the virtual height counts them from
        the start, so the scrollbar's thumb has its final size in the first frame."""
        self.clear()
        self._fit_columns(rows)
        view = self.scrollable_content_region.height - (self.header_height if self.show_header else 0)
        now = len(rows) if view <= 0 else view + 1  # (no view yet, as on a screen not shown: all)
        self._coming = len(rows) - now if len(rows) > now else 0
        for key, row_cells in rows[:now]:
            self.add_row(*row_cells, key=key)
        if self._coming:
            # after the frame (and whatever else waits on it) has gone out: a message, not a callback
            self.call_after_refresh(self.call_later, self._add_rest, self._rows_version, rows[now:])

    def clear(self, columns: bool = False):
        self._rows_version += 1  # rows replace_rows had yet to add are dropped
        self._coming = 0
        return super().clear(columns)

    def _add_rest(self, version: int, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        if version == self._rows_version:
            self._coming = 0
            for key, row_cells in rows:
                self.add_row(*row_cells, key=key)

    def _fit_columns(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Grow auto-width columns to the widest Text in them, as DataTable's measure would."""
        for index, column in enumerate(self.ordered_columns):
            if not column.auto_width:
                continue
            widest = column.content_width
            for _key, row_cells in rows:
                value = row_cells[index] if index < len(row_cells) else None
                if type(value) is Text:
                    widest = max(widest, _width(value))
            column.content_width = widest

    def _update_dimensions(self, new_rows) -> None:
        # DataTable measures each new cell with rich's measure(), which builds the console's options
        # (a terminal-size system call) per cell; a Text's width is its widest line, measured here.
        # Rows with a label, an automatic height or a cell that is not a Text go DataTable's way.
        rest = []
        columns = self.ordered_columns
        for row_key in new_rows:
            row_index = self._row_locations.get(row_key)
            row = self.rows.get(row_key)
            if row_index is None or row is None:
                continue  # removed before the table went idle
            _label, row_cells = self._get_row_renderables(row_index)
            if row.label is not None or row.auto_height or any(type(c) is not Text for c in row_cells):
                rest.append(row_key)
                continue
            for column, value in zip(columns, row_cells):
                width = _width(value)
                if width > column.content_width:
                    column.content_width = width
        if rest:
            super()._update_dimensions(rest)
        # The virtual size as DataTable sets it, plus the one-line rows replace_rows adds after the
        # first frame, set once: a change is a layout of the whole screen (an equal one is not).
        width = sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, self._total_row_height + header + self._coming)

    def _clear_caches(self) -> None:
        # Textual's LRUCache keeps its entries in a ring of [prev, next, key, value] lists, and its
        # clear() drops the ring as it is: cyclic garbage, which refcounting never frees. A table
        # cleared for every search left ~13k such lists with the Strips, Segments and Texts they
        # cache to the cycle collector, whose full passes then took 50-250 ms (in the middle of a
        # keystroke's frame, one search in ten). Emptying each entry first breaks the ring.
        for name in _CLEARED:  # the LRUCaches DataTable._clear_caches clears (and only those)
            cache = getattr(self, name, None)
            entries = getattr(cache, "_cache", None) if isinstance(cache, LRUCache) else None
            if isinstance(entries, dict):
                for entry in entries.values():
                    if type(entry) is list:
                        entry.clear()
        super()._clear_caches()

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False):
        header = row_index == -1
        if column_index < 0 or (not header and (row_index < self.fixed_rows or column_index < self.fixed_columns)):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._header_row_key if header else self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state)
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        if header:
            if self.header_height != 1:
                return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        else:
            row = self.rows.get(row_key)
            if row is None or row.height != 1 or row.auto_height:
                return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        _label, row_cells = self._get_row_renderables(row_index)
        plain = _plain(row_cells[column_index]) if column_index < len(row_cells) else None
        padding = self.cell_padding
        room = width - 2 * padding
        if plain is None or room < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        text, right = plain
        gap = room - cell_len(text)
        if gap < 0:  # cropped: rich's overflow rules decide
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            header, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        style = (base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
                 + post_style)
        pad = " " * padding
        body = " " * gap + text if right else text + " " * gap
        lines = [[Segment(pad + body + pad, style)]]
        self._cell_render_cache[cache_key] = lines
        return lines
