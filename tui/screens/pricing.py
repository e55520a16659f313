"""Pricing and models (F4): every model with its base price, extras and the cost of its cheapest
request; switch a model on/off (off may refund its queued jobs), make it the default, edit the base
price or an extra. Each price edit shows the example cost before → after (services.catalog.preview)
in the confirm dialog; the service validates, saves and logs."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Static

from bananapics.services import catalog
from bananapics.tui import data
from bananapics.tui.dialogs import AskValue, Choose, ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.listing import ListScreen
from bananapics.tui.widgets.cells import cell, cells


def price(text: str) -> int:
    try:
        value = int(text.replace(" ", "").replace("_", ""))
    except ValueError:
        raise ValueError(f"a whole number of tokens from 0 to {catalog.MAX_PRICE}") from None
    if not 0 <= value <= catalog.MAX_PRICE:
        raise ValueError(f"a whole number of tokens from 0 to {catalog.MAX_PRICE}")
    return value


def extras_text(extras: dict) -> str:
    parts = []
    for kind, value in sorted(extras.items()):
        if isinstance(value, dict):
            parts += [f"{option} +{amount}" for option, amount in value.items() if amount]
        elif value:
            parts.append(f"ref +{value}")
    return ", ".join(parts)


@register("pricing", "Pricing", "f4", "Model prices and extras with an example cost; model on/off and default")
class PricingScreen(ListScreen):
    COLUMNS = ("model", "name", "on", "default", "base", "extras", "cheapest request")
    BINDINGS = [
        Binding("t", "toggle", "On/off"),
        Binding("d", "default", "Default"),
        Binding("e", "edit_price", "Base price"),
        Binding("x", "edit_extra", "Extra"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = [
        ("Switch the selected model on or off", "Off can refund its queued jobs", "toggle"),
        ("Make the selected model the default", "New drafts start with it", "default"),
        ("Edit the selected model's base price", "Tokens per image, with an example cost", "edit_price"),
        ("Edit an extra of the selected model", "Resolution, quality or per reference image", "edit_extra"),
    ]
    DEFAULT_CSS = """
    PricingScreen #table { height: 1fr; }
    PricingScreen #preview { height: auto; max-height: 6; border: round $primary; padding: 0 1; }
    """

    def body(self) -> ComposeResult:
        yield Label("", id="status", classes="status")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="preview", markup=False)

    def fetch(self) -> tuple:
        return data.models, self.actor

    def show(self, rows: list[data.ModelRow]) -> None:
        self.fill([(m.id, m, [cell(m.id), cell(m.name), cell("on" if m.enabled else "OFF", "" if m.enabled else "red"),
                              cell("★" if m.is_default else ""), cell(m.base_price), cell(extras_text(m.extras)),
                              cell(m.example)]) for m in rows])
        self.status(f"{len(rows)} models · {sum(m.enabled for m in rows)} on")
        self._preview()

    @on(DataTable.RowHighlighted, "#table")
    def _preview(self) -> None:
        m = self.current()
        if m is None:
            return
        options = "; ".join(f"{kind}: {', '.join(values)}" for kind, values in m.options.items()) or "no options"
        self.query_one("#preview", Static).update(
            f"{m.name} ({m.id}) · base {m.base_price} · extras: {extras_text(m.extras) or 'none'}\n"
            f"options {options}\ncheapest request: {m.example} tokens")

    # ---------------------------------------------------------------- actions

    def action_toggle(self) -> None:
        if self.selected():
            self.toggle_flow(self.selected())

    @work(exclusive=True, group="action")
    async def toggle_flow(self, m: data.ModelRow) -> None:
        refund = False
        if m.enabled:
            choice = await self.app.push_screen_wait(Choose(f"Switch {m.name} off", [
                ("Switch off; queued jobs still run", False),
                ("Switch off and refund its queued jobs (users are told)", True)]))
            if choice is None:
                return
            refund = choice
            effect = (f"{m.name} disappears from the model list; "
                      + ("every queued job of it fails and its tokens go back to the user." if refund
                         else "jobs already queued still run."))
        else:
            effect = f"{m.name} is offered to users again."
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Switch {m.name} {'off' if m.enabled else 'on'}", effect, confirm="Switch", danger=refund))
        if reason is None:
            return
        await self.change(catalog.set_enabled, m.id, not m.enabled, actor=self.actor, refund_queued=refund,
                          reason=reason, done=f"{m.name} switched {'off' if m.enabled else 'on'}")

    def action_default(self) -> None:
        if self.selected():
            self.default_flow(self.selected())

    @work(exclusive=True, group="action")
    async def default_flow(self, m: data.ModelRow) -> None:
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Make {m.name} the default", f"New drafts start with {m.name}; the previous default loses the flag.",
            confirm="Make default"))
        if reason is not None:
            await self.change(catalog.set_default, m.id, actor=self.actor, reason=reason,
                              done=f"{m.name} is the default")

    def action_edit_price(self) -> None:
        if self.selected():
            self.price_flow(self.selected())

    @work(exclusive=True, group="action")
    async def price_flow(self, m: data.ModelRow) -> None:
        value = await self.app.push_screen_wait(AskValue(
            f"Base price of {m.name}", f"Tokens per image (now {m.base_price}):", price, value=str(m.base_price)))
        if value is None:
            return
        await self._confirm_edit(m, f"base price {m.base_price} → {value}", base_price=value)

    def action_edit_extra(self) -> None:
        if self.selected():
            self.extra_flow(self.selected())

    @work(exclusive=True, group="action")
    async def extra_flow(self, m: data.ModelRow) -> None:
        options = [(f"{kind} {option} (now +{m.extras.get(kind, {}).get(option, 0)})", (kind, option))
                   for kind, values in m.options.items() for option in values]
        options.append((f"per reference image (now +{m.extras.get('per_reference', 0)})", ("per_reference", None)))
        picked = await self.app.push_screen_wait(Choose(f"Which extra of {m.name}?", options))
        if picked is None:
            return
        kind, option = picked
        now = m.extras.get(kind, 0) if option is None else m.extras.get(kind, {}).get(option, 0)
        value = await self.app.push_screen_wait(AskValue(
            f"Extra for {kind}{' ' + option if option else ''}", f"Tokens added per image (now {now}):", price,
            value=str(now)))
        if value is None:
            return
        extras = {kind: value} if option is None else {kind: {option: value}}
        choices = {"refs": 1} if option is None else {kind: option}  # an example that pays this extra
        await self._confirm_edit(m, f"{kind}{' ' + option if option else ''} extra {now} → {value}",
                                 extras=extras, choices=choices)

    async def _confirm_edit(self, m: data.ModelRow, what: str, *, base_price: int | None = None,
                            extras: dict | None = None, choices: dict | None = None) -> None:
        preview = await self.call(data.price_preview, self.actor, m.id, base_price=base_price, extras=extras,
                                  choices=choices)
        if not preview.ok and choices:
            preview = await self.call(data.price_preview, self.actor, m.id, base_price=base_price, extras=extras)
        if not preview.ok:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Change the price of {m.name}", f"{what}\n{preview.value}\nInvoices and jobs already made keep their price.",
            confirm="Save price"))
        if reason is not None:
            await self.change(catalog.edit, m.id, actor=self.actor, base_price=base_price, extras=extras,
                              reason=reason, done=f"{m.name}: {what}")
