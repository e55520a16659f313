"""One line under the header naming every registered screen with its function key, the current
one highlighted (the footer keeps the current screen's own keys)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ScreenNav(Static):
    DEFAULT_CSS = """
    ScreenNav { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def on_mount(self) -> None:
        from bananapics.tui.screens import screens

        line = Text()
        for spec in screens():
            style = "bold reverse" if spec.name == self.current else ""
            line.append(f" {spec.key.upper()} ", style="bold " + style).append(f"{spec.title} ", style=style)
        self.update(line)
