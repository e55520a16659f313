"""Ask for one value (an amount, a Telegram id). ``check`` turns the text into the value or raises
ValueError with the message to show; the dialog dismisses with the value or None."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen

from textual.widgets import Button, Input, Label
from bananapics.tui.widgets.inputs import text_input


class AskValue(ModalScreen[Any]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, check: Callable[[str], Any] = str, *, value: str = "",
                 placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.prompt, self.check, self.initial, self.placeholder = title, prompt, check, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.prompt, markup=False)
            yield text_input(self.app, self.initial, placeholder=self.placeholder, id="value")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#value", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_ok()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_ok() if event.button.id == "ok" else self.action_cancel()

    def action_ok(self) -> None:
        try:
            value = self.check(self.query_one("#value", Input).value.strip())
        except ValueError as exc:
            self.query_one("#problem", Label).update(str(exc) or "not a valid value")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
