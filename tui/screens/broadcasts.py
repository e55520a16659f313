"""Broadcasts (F10): the newest broadcasts with live delivery counts (sent, blocked, failed,
queued, cancelled), a progress bar and the time left, refreshed every ``app.refresh_s`` seconds;
pause, resume and cancel (cancel drops every message not handed to Telegram yet, with a reason).
Broadcasts are written and started in the bot's panel or with ``bananapics broadcast create``."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from bananapics.services import broadcast
from bananapics.tui import data
from bananapics.tui.dialogs import ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.listing import ListScreen
from bananapics.tui.widgets.cells import cell

BAR = 12


def bar(done: int, total: int) -> str:
    filled = round(BAR * done / total) if total else 0
    return "█" * filled + "░" * (BAR - filled) + (f" {100 * done // total}%" if total else "")


def eta(seconds: int) -> str:
    if not seconds:
        return ""
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


@register("broadcasts", "Broadcasts", "f10", "Broadcast delivery status; pause, resume, cancel")
class BroadcastsScreen(ListScreen):
    COLUMNS = ("#", "status", "progress", "total", "sent", "blocked", "failed", "queued", "left", "by", "text")
    BINDINGS = [
        Binding("z", "pause_resume", "Pause/resume"),
        Binding("c", "cancel", "Cancel"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = [
        ("Pause or resume the selected broadcast", "Messages already handed to Telegram finish", "pause_resume"),
        ("Cancel the selected broadcast", "Nothing more is sent", "cancel"),
    ]
    DEFAULT_CSS = """
    BroadcastsScreen #message { height: auto; max-height: 8; border: round $primary; padding: 0 1; }
    """

    def body(self) -> ComposeResult:
        yield Label("", id="status", classes="status")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="message", markup=False)

    def on_mount(self) -> None:  # ListScreen.on_mount runs too (Textual calls each class's handler)
        self.set_interval(self.app.refresh_s, self.reload)

    def fetch(self) -> tuple:
        return data.broadcasts, self.actor

    def show(self, rows: list[dict]) -> None:
        self.fill([(str(b["id"]), b, [cell(b["id"]), cell(b["status"]),
                                      cell(bar(b["sent"] + b["blocked"] + b["failed"], b["total"])),
                                      cell(b["total"]), cell(b["sent"]), cell(b["blocked"]), cell(b["failed"]),
                                      cell(b["queued"]), cell(eta(b["eta_s"])), cell(b["created_by"]),
                                      cell(b["text"].replace("\n", " ")[:60])]) for b in rows])
        live = sum(b["status"] in ("starting", "running") for b in rows)
        self.status(f"{len(rows)} broadcasts · {live} sending" if rows else
                    "no broadcasts yet: write one in the bot's admin panel or with `bananapics broadcast create`")
        self._message()

    @on(DataTable.RowHighlighted, "#table")
    def _message(self) -> None:
        b = self.current()
        if b is None:
            return
        button = f"\nbutton: {b['button'][0]} → {b['button'][1]}" if b["button"] else ""
        self.query_one("#message", Static).update(
            f"#{b['id']} {b['status']} · created {b['created_at'] or ''} · started {b['started_at'] or '—'} · "
            f"finished {b['finished_at'] or '—'} · cancelled rows {b['cancelled']}{' · with photo' if b['photo'] else ''}"
            f"\n{b['text']}{button}")

    @work(exclusive=True, group="action")
    async def action_pause_resume(self) -> None:
        b = self.selected()
        if b is None:
            return
        if b["status"] == "paused":
            await self.change(broadcast.resume, b["id"], actor=self.actor, done=f"broadcast #{b['id']} resumed")
        else:
            await self.change(broadcast.pause, b["id"], actor=self.actor, done=f"broadcast #{b['id']} paused")

    @work(exclusive=True, group="action")
    async def action_cancel(self) -> None:
        b = self.selected()
        if b is None:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Cancel broadcast #{b['id']}", f"Nothing more is sent: the {b['queued']:,} messages still queued are "
            f"dropped; the {b['sent']:,} sent stay sent. This cannot be undone.", confirm="Cancel broadcast",
            danger=True))
        if reason is not None:
            await self.change(broadcast.cancel, b["id"], actor=self.actor, reason=reason,
                              done=f"broadcast #{b['id']} cancelled")
