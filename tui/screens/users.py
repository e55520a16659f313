"""Users (F2): search as you type, a detail pane, and ban/unban, role, adjust and refund.

The search runs in the database, never in the widget: a page of at most ``data.PAGE`` rows ("N of
M"), keyset paging with n/p. Typing starts an exclusive worker, so a newer keystroke cancels the
older search; a keystroke after a quiet spell searches at once, quicker ones are coalesced to one
search per ``DEBOUNCE_S``; a result for text no longer in the box is dropped. A result goes on the
screen as soon as its page is read: the rows the table shows first (the rest of the page after that
frame, :meth:`FastTable.replace_rows`), and the "of M" of a result with more pages from a count
worker right after ("200 of …", then "200 of 1000+"). Every change opens a dialog that asks for a
reason and says exactly what will happen; the service decides and logs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from textual.widgets import DataTable, Input, Label

from bananapics.tui import data
from bananapics.tui.dialogs import AskValue, Choose, ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.base import AdminScreen
from bananapics.tui.widgets.cells import cells
from bananapics.tui.widgets.user_detail import UserDetailPane
from bananapics.tui.widgets.inputs import text_input
from bananapics.tui.widgets.table import FastTable

# At most one search per 0.1 s: keys typed 0.1 s or more apart (10 a second) each search at once,
# faster bursts are coalesced. At 0.15 s the last key of a word typed at 8 keys a second waited for
# its turn (last key → results p50 158 ms against 95 ms at 0.1 s, measured on a busy machine).
DEBOUNCE_S = 0.1
ROLES = ("user", "support", "admin")


def _amount(text: str) -> int:
    try:
        value = int(text.replace(" ", "").replace("_", ""))
    except ValueError:
        raise ValueError("a whole number of tokens, e.g. 50 or -50") from None
    if value == 0:
        raise ValueError("zero changes nothing")
    return value


@register("users", "Users", "f2", "Search users; ban, role, adjust tokens, refund a payment")
class UsersScreen(AdminScreen):
    BINDINGS = [
        Binding("slash", "focus_search", "Search"),
        Binding("b", "ban", "Ban"),
        Binding("o", "role", "Role"),
        Binding("a", "adjust", "Adjust"),
        Binding("f", "refund", "Refund"),
        Binding("n", "next_page", "Next"),
        Binding("p", "prev_page", "Prev"),
    ]
    PALETTE = [
        ("Search", "Focus the search box", "focus_search"),
        ("Ban or unban the selected user", "With a reason; the bot stops answering a banned user", "ban"),
        ("Change the selected user's role", "user, support or admin", "role"),
        ("Adjust the selected user's tokens", "Add or remove tokens with a reason", "adjust"),
        ("Refund a payment of the selected user", "Telegram returns the Stars, the ledger takes the tokens back", "refund"),
        ("Next page of results", "Keyset paging", "next_page"),
        ("Previous page of results", "Keyset paging", "prev_page"),
    ]
    DEFAULT_CSS = """
    UsersScreen #search { margin: 0 1; }
    UsersScreen #results { width: 1fr; }
    UsersScreen #body { height: 1fr; }
    UsersScreen #count { width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.hits: data.Hits | None = None
        self.cursors: list[str | None] = [None]  # the cursor each visited page started after
        self.detail: data.UserDetail | None = None
        self._last_search = 0.0
        self.searches = 0  # results rendered (the benchmark waits on it)

    def body(self) -> ComposeResult:
        yield text_input(self.app, placeholder="Search: Telegram id, @username prefix or any part of a name", id="search")
        yield Label("", id="count", classes="status")
        with Horizontal(id="body"):
            with Vertical(id="results"):
                yield FastTable(id="users", cursor_type="row", zebra_stripes=True)
            yield UserDetailPane(id="detail")

    def on_mount(self) -> None:
        self.query_one("#users", DataTable).add_columns("tg id", "username", "name", "role", "ban", "balance")
        self.query_one("#search", Input).focus()
        self.search("")

    # ---------------------------------------------------------------- search

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        self.cursors = [None]
        self.search(event.value)

    @on(Input.Submitted, "#search")
    def _go_to_table(self) -> None:
        self.query_one("#users", DataTable).focus()

    @work(exclusive=True, group="search")
    async def search(self, query: str, after: str | None = None) -> None:
        wait = self._last_search + DEBOUNCE_S - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # a newer keystroke cancels this worker right here
        self._last_search = time.monotonic()
        outcome = await self.call(data.search_users, self.actor, query, after=after)
        if query != self.query_one("#search", Input).value or not outcome.ok:
            return  # stale: the box says something else by now
        self.show_hits(outcome.value)
        if not outcome.value.counted:
            self.count_hits(query, outcome.value)

    @work(exclusive=True, group="count")
    async def count_hits(self, query: str, hits: data.Hits) -> None:
        """The "of M" of a result with more pages, once its rows are on the screen."""
        outcome = await self.call(data.count_users, self.actor, query)
        if outcome.ok and self.hits is hits:  # still the rows on the screen
            total, capped = outcome.value
            self.hits = dataclasses.replace(hits, total=total, total_capped=capped, counted=True)
            self._show_count()

    def show_hits(self, hits: data.Hits) -> None:
        self.hits = hits
        self.query_one("#users", FastTable).replace_rows([
            (str(u.tg_id), cells(str(u.tg_id), f"@{u.username}" if u.username else "", u.name, u.role,
                                 "BANNED" if u.banned else "", u.available)) for u in hits.rows])
        self._show_count()
        self.searches += 1

    def _show_count(self) -> None:
        hits = self.hits
        page = f"page {len(self.cursors)}" + (" · n: next page" if hits.next else "")
        self.query_one("#count", Label).update(f"{hits.label} users · {page}" if hits.rows else "no users match",
                                               layout=False)  # one line the width of the screen: no layout

    def reload_results(self) -> None:
        self.search(self.query_one("#search", Input).value, self.cursors[-1])

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_next_page(self) -> None:
        if self.hits is None or self.hits.next is None:
            self.notify("This is the last page.")
            return
        self.cursors.append(self.hits.next)
        self.reload_results()

    def action_prev_page(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self.reload_results()

    def action_reload(self) -> None:
        self.reload_results()
        if self.detail is not None:
            self.open_user(self.detail.user.tg_id)

    # ---------------------------------------------------------------- detail

    @on(DataTable.RowSelected, "#users")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.open_user(int(event.row_key.value))

    @work(exclusive=True, group="detail")
    async def open_user(self, tg_id: int) -> None:
        outcome = await self.call(data.user_detail, self.actor, tg_id)
        if outcome.ok:
            self.detail = outcome.value
            self.query_one(UserDetailPane).show(outcome.value)

    def _selected_user(self) -> data.UserDetail | None:
        if self.detail is None:
            self.notify("Open a user first: select a row and press enter.", severity="warning")
        return self.detail

    async def _after_change(self, outcome: data.Outcome, done: str) -> None:
        if outcome.ok:
            self.notify(done, title="Done", markup=False)
            self.reload_results()
            self.open_user(self.detail.user.tg_id)

    # ---------------------------------------------------------------- actions

    def action_ban(self) -> None:
        if self._selected_user():
            self.ban_flow()

    @work(exclusive=True, group="action")
    async def ban_flow(self) -> None:
        u = self.detail.user
        who = f"user {u.tg_id}" + (f" (@{u.username})" if u.username else "")
        if u.banned:
            dialog = ReasonConfirm(f"Unban {who}", f"{who} can use the bot again. They were banned for: "
                                   f"{self.detail.ban_reason or '(no reason)'}", confirm="Unban")
        else:
            dialog = ReasonConfirm(f"Ban {who}", f"The bot answers {who} with one short message and nothing else. "
                                   f"Their balance ({u.available:,} available, {u.held:,} held) stays.",
                                   confirm="Ban", danger=True)
        reason = await self.app.push_screen_wait(dialog)
        if reason is None:
            return
        fn = data.unban if u.banned else data.ban
        outcome = await self.call(fn, self.actor, u.tg_id, reason)
        await self._after_change(outcome, f"{who} {'unbanned' if u.banned else 'banned'}")

    def action_role(self) -> None:
        if self._selected_user():
            self.role_flow()

    @work(exclusive=True, group="action")
    async def role_flow(self) -> None:
        u = self.detail.user
        role = await self.app.push_screen_wait(
            Choose(f"Role of user {u.tg_id} (now {u.role})", [(r, r) for r in ROLES if r != u.role]))
        if role is None:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Change the role of user {u.tg_id}", f"role {u.role} → {role}; it applies to their very next action.",
            confirm="Change role", danger=role == "admin"))
        if reason is None:
            return
        outcome = await self.call(data.set_role, self.actor, u.tg_id, role, reason)
        await self._after_change(outcome, f"user {u.tg_id} is now {role}")

    def action_adjust(self) -> None:
        if self._selected_user():
            self.adjust_flow()

    @work(exclusive=True, group="action")
    async def adjust_flow(self) -> None:
        u = self.detail.user
        amount = await self.app.push_screen_wait(AskValue(
            f"Adjust the tokens of user {u.tg_id}", f"Available now: {u.available:,}. Tokens to add (50) or remove (-50):",
            _amount, placeholder="e.g. 50 or -50"))
        if amount is None:
            return
        after = u.available + amount
        effect = f"available {u.available:,} → {after:,} ({amount:+,} tokens), a ledger adjustment logged with your reason"
        if after < 0:
            effect += f".\nThey have only {u.available:,} available: the ledger will refuse to go below zero"
        reason = await self.app.push_screen_wait(ReasonConfirm(f"Adjust user {u.tg_id}", effect, confirm="Adjust"))
        if reason is None:
            return
        outcome = await self.call(data.adjust, self.actor, u.tg_id, amount, reason)
        await self._after_change(outcome, f"{amount:+,} tokens for user {u.tg_id}; available now "
                                          f"{outcome.value if outcome.ok else '?'}")

    def action_refund(self) -> None:
        if self._selected_user():
            self.refund_flow()

    @work(exclusive=True, group="action")
    async def refund_flow(self) -> None:
        u, paid = self.detail.user, [p for p in self.detail.payments if p["status"] == "paid"]
        if not paid:
            self.notify(f"User {u.tg_id} has no paid payment to refund (among the latest {data.DETAIL_ROWS}).",
                        severity="warning")
            return
        payment = await self.app.push_screen_wait(Choose(
            f"Refund which payment of user {u.tg_id}?",
            [(f"{p['created_at']:%Y-%m-%d %H:%M}  {p['stars']} ⭐  {p['tokens']} tokens  {p['charge_id']}", p)
             for p in paid]))
        if payment is None:
            return
        effect = data.describe_refund(payment, u.available)
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Refund {payment['stars']} ⭐ to user {u.tg_id}", effect.text,
            confirm="Refund", danger=True))
        if reason is None:
            return
        outcome = await self.call(data.refund, self.actor, payment["charge_id"], reason, self.app.telegram,
                                  force=effect.force)
        await self._after_change(outcome, outcome.value or "")
