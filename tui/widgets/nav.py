"""One line under the header naming every registered screen with its function key, the current
one highlighted (the footer keeps the current screen's own keys)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ScreenNav(Static):
    DEFAULT_CSS = """
    ScreenNav { height: auto; max-height: 2; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        """Every screen's key and title; on a narrow terminal the line breaks between entries, never
        inside one."""
        from bananapics.tui.screens import screens

        width = max(self.content_size.width, 20)
        line, used = Text(), 0
        for spec in screens():
            style = "bold reverse" if spec.name == self.current else ""
            entry = Text.assemble((f" {spec.key.upper()} ", "bold " + style), (f"{spec.title} ", style))
            if used and used + len(entry) > width:
                line.append("\n")
                used = 0
            line.append_text(entry)
            used += len(entry)
        self.update(line)
