"""Rules (F7): the referral rule, feature toggles and maintenance, rate limits, and the other
settings, grouped by what they govern. Enter edits the selected value (a switch flips; a number or
text is typed and checked by the same rules the service applies); ``m`` switches maintenance with its
message. Every change asks for a reason and goes through services.settings / services.maintenance."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from bananapics.errors import BananaError
from bananapics.services import maintenance, settings
from bananapics.tui import data
from bananapics.tui.dialogs import AskValue, ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.listing import ListScreen
from bananapics.tui.widgets.cells import cell

# (section title, key prefixes) in the order shown; keys matching none go to "Other".
SECTIONS = (
    ("Referral rule", ("referral.",)),
    ("Toggles", ("features.",)),
    ("Maintenance", ("maintenance.",)),
    ("Rate limits", ("limits.",)),
)


def section_of(key: str) -> str:
    return next((title for title, prefixes in SECTIONS if key.startswith(prefixes)), "Other")


def shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "(built-in)" if value == "" else str(value)


def checker(key: str):
    def check(text: str) -> Any:
        try:
            return settings.coerce(key, text)
        except BananaError as exc:
            raise ValueError(exc.msg) from None
    return check


@register("rules", "Rules", "f7", "Referral rule, toggles and maintenance, rate limits and other settings")
class RulesScreen(ListScreen):
    COLUMNS = ("section", "setting", "value")
    BINDINGS = [
        Binding("e", "edit", "Edit"),
        Binding("m", "maintenance", "Maintenance"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = [
        ("Edit the selected setting", "Flip a switch or type a value, with a reason", "edit"),
        ("Switch maintenance mode", "Users get the maintenance message; admins and support pass", "maintenance"),
    ]
    DEFAULT_CSS = """
    RulesScreen #help { height: auto; max-height: 4; border: round $primary; padding: 0 1; }
    """

    def body(self) -> ComposeResult:
        yield Label("", id="status", classes="status")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="help", markup=False)

    def fetch(self) -> tuple:
        return data.settings_list, self.actor

    def show(self, rows: list[data.SettingRow]) -> None:
        order = [title for title, _ in SECTIONS] + ["Other"]
        rows = sorted(rows, key=lambda r: (order.index(section_of(r.key)), r.key))
        self.fill([(r.key, r, [cell(section_of(r.key)), cell(r.key), cell(shown(r.value))]) for r in rows])
        on = {r.key: r.value for r in rows}
        self.status(f"referral {on.get('referral.percent')}% on {on.get('referral.mode')} top-up · maintenance "
                    f"{'ON' if on.get('maintenance.enabled') else 'off'} · enter: edit")
        self._help()

    @on(DataTable.RowHighlighted, "#table")
    def _help(self) -> None:
        r = self.current()
        if r is not None:
            bounds = settings.bounds(r.key)
            self.query_one("#help", Static).update(
                f"{r.key} ({r.type}{f', {bounds[0]}–{bounds[1]}' if bounds else ''}): {r.help}")

    @on(DataTable.RowSelected, "#table")
    def _selected(self) -> None:
        self.action_edit()

    @work(exclusive=True, group="action")
    async def action_edit(self) -> None:
        r = self.selected()
        if r is None:
            return
        if r.type == "bool":
            value = not r.value
        else:
            value = await self.app.push_screen_wait(AskValue(
                f"Set {r.key}", f"{r.help} (now {shown(r.value)}):", checker(r.key), value=str(r.value)))
            if value is None:
                return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Change {r.key}", f"{r.key}: {shown(r.value)} → {shown(value)}\n{r.help}; every bot and worker "
            f"process reads it within a second.", confirm="Save", danger=r.key == "maintenance.enabled" and value))
        if reason is not None:
            await self.change(settings.set_value, r.key, value, actor=self.actor, reason=reason,
                              done=f"{r.key} = {shown(value)}")

    @work(exclusive=True, group="action")
    async def action_maintenance(self) -> None:
        on_now = bool(self.items.get("maintenance.enabled") and self.items["maintenance.enabled"].value)
        message = None
        if not on_now:
            message = await self.app.push_screen_wait(AskValue(
                "Maintenance on", "Message users get (English; empty keeps the current one):", str,
                placeholder="Back in 10 minutes"))
            if message is None:
                return
        effect = ("Users get the maintenance message and nothing else; admins and support pass." if not on_now
                  else "Users can use the bot again.")
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Maintenance {'off' if on_now else 'on'}", effect, confirm="Switch", danger=not on_now))
        if reason is not None:
            await self.change(maintenance.set_mode, not on_now, actor=self.actor,
                              messages={"en": message} if message else None, reason=reason,
                              done=f"maintenance {'off' if on_now else 'on'}")
