"""Text inputs that follow the app's ``blink`` option (snapshot tests freeze the cursor)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input


def text_input(app: Any, value: str = "", **options: Any) -> Input:
    box = Input(value, **options)
    box.cursor_blink = getattr(app, "blink", True)
    return box
