"""Table cells from values: text from users (names, reasons, refs) is shown as typed, never read as
markup, with control and bidi characters escaped (:func:`~bananapics.text.safe_terminal`)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from bananapics.text import safe_terminal


def cell(value: Any, style: str = "") -> Text:
    if value is None:
        return Text("")
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(f"{value:,}", style=style, justify="right")
    return Text(safe_terminal(str(value)), style=style)


def cells(*values: Any) -> list[Text]:
    return [cell(v) for v in values]
