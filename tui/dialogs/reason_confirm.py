"""Ask why, show exactly what will change, then confirm: every admin change in the TUI goes through
this dialog. It dismisses with the reason (stripped, never empty) or None when cancelled."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen

from textual.widgets import Button, Input, Label, Static
from bananapics.tui.widgets.inputs import text_input


class ReasonConfirm(ModalScreen[str | None]):
    """A reason field, the effect in words, and Confirm/Cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "confirm", "Confirm")]

    def __init__(self, title: str, effect: str, *, confirm: str = "Confirm", danger: bool = False,
                 reason: str = "") -> None:
        super().__init__()
        self.title_text, self.effect, self.confirm_label, self.danger, self.initial = title, effect, confirm, danger, reason

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.effect, id="effect", classes="effect", markup=False)
            yield text_input(self.app, self.initial, placeholder="Reason (kept in the admin log)", id="reason")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_confirm() if event.button.id == "confirm" else self.action_cancel()

    def action_confirm(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#problem", Label).update("A reason is needed.")
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
