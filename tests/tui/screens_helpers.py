"""Small Pilot helpers the screen tests share (rows of the screen's table, answering dialogs)."""

from __future__ import annotations

from tests.tui.conftest import settle


def keys(app) -> list[str]:
    table = app.screen.query_one("#table")
    return [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]


async def go_to(pilot, key: str) -> None:
    """Put the table cursor on the row with this key."""
    await settle(pilot)
    table = pilot.app.screen.query_one("#table")
    table.move_cursor(row=keys(pilot.app).index(key))
    await pilot.pause()


async def answer(pilot, *keys_: str) -> None:
    await pilot.press(*keys_)
    await settle(pilot)


async def type_into(pilot, selector: str, text: str) -> None:
    box = pilot.app.screen.query_one(selector)
    box.value = ""
    box.focus()
    await pilot.press(*text, "enter")
    await settle(pilot)
