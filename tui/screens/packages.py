"""Packages (F5): the Stars packages users buy, in the order they see them; add, edit stars/tokens/
bonus, put on sale or take off, move up/down. Every change asks for a reason (services.packages)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label

from bananapics.services import packages
from bananapics.tui import data
from bananapics.tui.dialogs import AskValue, ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.listing import ListScreen
from bananapics.tui.widgets.cells import cell


def terms(text: str) -> tuple[int, int, int]:
    """``stars tokens [bonus%]``, e.g. ``50 500 10``."""
    parts = text.replace(",", " ").split()
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ValueError("three whole numbers: stars tokens bonus%, e.g. 50 500 10") from None
    if len(values) not in (2, 3) or min(values) < 0:
        raise ValueError("three whole numbers: stars tokens bonus%, e.g. 50 500 10")
    return values[0], values[1], values[2] if len(values) == 3 else 0


@register("packages", "Packages", "f5", "Stars packages: add, edit, on sale or off, order")
class PackagesScreen(ListScreen):
    COLUMNS = ("#", "stars", "tokens", "bonus %", "bonus tokens", "on sale", "order")
    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("t", "toggle", "On/off"),
        Binding("u", "move_up", "Up"),
        Binding("j", "move_down", "Down"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = [
        ("Add a package", "Stars, tokens and bonus %", "add"),
        ("Edit the selected package", "Stars, tokens and bonus %", "edit"),
        ("Put the selected package on sale or take it off", "Unpaid invoices for it then fail", "toggle"),
        ("Move the selected package up", "The order users see", "move_up"),
        ("Move the selected package down", "The order users see", "move_down"),
    ]

    def body(self) -> ComposeResult:
        yield Label("", id="status", classes="status")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)

    def fetch(self) -> tuple:
        return data.packages_list, self.actor

    def show(self, rows: list[dict]) -> None:
        self.fill([(str(p["id"]), p, [cell(p["id"]), cell(p["stars"]), cell(p["tokens"]), cell(p["bonus_pct"]),
                                      cell(p["bonus_tokens"]), cell("yes" if p["active"] else "no"), cell(p["sort"])])
                   for p in rows])
        self.status(f"{len(rows)} packages · {sum(p['active'] for p in rows)} on sale")

    @work(exclusive=True, group="action")
    async def action_add(self) -> None:
        value = await self.app.push_screen_wait(AskValue("Add a package", "stars tokens bonus% (e.g. 50 500 10):", terms))
        if value is None:
            return
        stars, tokens, bonus = value
        reason = await self.app.push_screen_wait(ReasonConfirm(
            "Add a package", f"A new package on sale, last in the list: {stars} ⭐ → {tokens:,} tokens + {bonus}% bonus.",
            confirm="Add"))
        if reason is not None:
            await self.change(packages.create, stars=stars, tokens=tokens, bonus_pct=bonus, actor=self.actor,
                              reason=reason, done=f"package {stars} ⭐ added")

    @work(exclusive=True, group="action")
    async def action_edit(self) -> None:
        p = self.selected()
        if p is None:
            return
        value = await self.app.push_screen_wait(AskValue(
            f"Edit package #{p['id']}", "stars tokens bonus%:", terms, value=f"{p['stars']} {p['tokens']} {p['bonus_pct']}"))
        if value is None:
            return
        stars, tokens, bonus = value
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Edit package #{p['id']}", f"{p['stars']} ⭐ → {p['tokens']:,} tokens + {p['bonus_pct']}% becomes "
            f"{stars} ⭐ → {tokens:,} tokens + {bonus}%. Invoices already sent keep their terms.", confirm="Save"))
        if reason is not None:
            await self.change(packages.edit, p["id"], stars=stars, tokens=tokens, bonus_pct=bonus, actor=self.actor,
                              reason=reason, done=f"package #{p['id']} saved")

    @work(exclusive=True, group="action")
    async def action_toggle(self) -> None:
        p = self.selected()
        if p is None:
            return
        effect = ("Taken off sale: unpaid invoices for it fail at checkout." if p["active"]
                  else "Put on sale: users see it again.")
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Package #{p['id']} ({p['stars']} ⭐)", effect, confirm="Take off" if p["active"] else "Put on sale",
            danger=p["active"]))
        if reason is not None:
            await self.change(packages.set_active, p["id"], not p["active"], actor=self.actor, reason=reason,
                              done=f"package #{p['id']} {'off sale' if p['active'] else 'on sale'}")

    def action_move_up(self) -> None:
        self.move(-1)

    def action_move_down(self) -> None:
        self.move(1)

    @work(exclusive=True, group="action")
    async def move(self, step: int) -> None:
        p = self.selected()
        if p is None:
            return
        order = [item["id"] for item in self.items.values()]
        at = order.index(p["id"])
        if not 0 <= at + step < len(order):
            return
        order[at], order[at + step] = order[at + step], order[at]
        outcome = await self.change(packages.reorder, order, actor=self.actor, reason="reordered in the TUI",
                                    done=f"package #{p['id']} moved {'up' if step < 0 else 'down'}")
        if outcome.ok:
            self.table().move_cursor(row=at + step)
