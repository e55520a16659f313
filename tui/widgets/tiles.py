"""A counter tile: a title over a big number (the dashboard's live counters)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label


class Counter(Widget):
    DEFAULT_CSS = """
    Counter { height: 4; border: round $primary-darken-2; padding: 0 1; }
    Counter .title { color: $text-muted; width: 1fr; }
    Counter .value { text-style: bold; width: 1fr; }
    Counter.-alert .value { color: $error; }
    """
    value: reactive[str] = reactive("–")

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title

    def compose(self) -> ComposeResult:
        yield Label(self.title, classes="title")
        yield Label(self.value, classes="value")

    def watch_value(self, value: str) -> None:
        if self.is_mounted:
            self.query_one(".value", Label).update(value)

    def show(self, value: object, *, alert: bool = False) -> None:
        self.value = f"{value:,}" if isinstance(value, int) else str(value)
        self.set_class(alert, "-alert")
