"""Jobs (F8): generation jobs newest first, filtered by status (s cycles: all, queued, running,
failed, succeeded, partial) with their age, attempts and error; retry a stuck job (re-queued, one
extra attempt when it has used them all) or refund it now (the job fails as "took too long", its
hold goes back, the user is told). Keyset pages of ``data.PAGE`` rows (n/p)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label

from bananapics.tui import data
from bananapics.tui.dialogs import Choose, ReasonConfirm
from bananapics.tui.screens import register
from bananapics.tui.screens.listing import PagedScreen
from bananapics.tui.widgets.cells import cell

STATUSES = (None, "queued", "running", "failed", "succeeded", "partial")


def age(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h" if seconds < 172800 else f"{seconds // 86400}d"


@register("jobs", "Jobs", "f8", "Generation jobs by status; retry or refund a stuck one")
class JobsScreen(PagedScreen):
    COLUMNS = ("job", "user", "model", "status", "age", "attempts", "cost", "error")
    BINDINGS = [
        Binding("s", "status_filter", "Status"),
        Binding("y", "retry", "Retry"),
        Binding("f", "refund", "Refund"),
        Binding("n", "next_page", "Next"),
        Binding("p", "prev_page", "Prev"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = [
        ("Filter jobs by status", "all, queued, running, failed, succeeded, partial", "status_filter"),
        ("Retry the selected job", "Re-queue a stuck queued or running job", "retry"),
        ("Refund the selected job", "Fail it now and return its tokens", "refund"),
        ("Next page of jobs", "Keyset paging", "next_page"),
        ("Previous page of jobs", "Keyset paging", "prev_page"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None

    def body(self) -> ComposeResult:
        yield Label("", id="status", classes="status")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)

    def fetch(self) -> tuple:
        return data.jobs_page, self.actor, self.status_filter, self.cursors[-1]

    def show(self, value) -> None:
        rows, self.next = value
        now = self.app.clock()
        self.fill([(j["id"], j, [cell(j["id"][:8]), cell(str(j["user"])), cell(j["model"]),
                                 cell(j["status"], "red" if j["status"] == "failed" else ""),
                                 cell(age((now - j["created_at"]).total_seconds())), cell(j["attempts"]),
                                 cell(j["cost"]), cell(j["error"])]) for j in rows])
        self.status(f"{len(rows)} jobs · status {self.status_filter or 'all'} (s) · {self.page_label()}")

    def action_status_filter(self) -> None:
        self.status_filter = STATUSES[(STATUSES.index(self.status_filter) + 1) % len(STATUSES)]
        self.restart()

    @work(exclusive=True, group="action")
    async def action_retry(self) -> None:
        j = self.selected()
        if j is None:
            return
        done, tries = (int(x) for x in j["attempts"].split("/"))
        extra = False
        if done >= tries:
            extra = await self.app.push_screen_wait(Choose(
                f"Job {j['id']} has used all {tries} attempts", [("Grant one more attempt and retry (admin)", True)]))
            if extra is None:
                return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Retry job {j['id']}", f"The {j['status']} job of user {j['user']} ({j['model']}, {j['cost']} tokens held) "
            f"goes back to the queue{' with one extra attempt' if extra else ''}; its hold stays.", confirm="Retry"))
        if reason is not None:
            await self.change(data.retry_job, self.actor, j["id"], reason, extra_attempt=extra,
                              enqueue=getattr(self.app, "enqueue", None), done=f"job {j['id']} re-queued")

    @work(exclusive=True, group="action")
    async def action_refund(self) -> None:
        j = self.selected()
        if j is None:
            return
        reason = await self.app.push_screen_wait(ReasonConfirm(
            f"Refund job {j['id']}", f"The {j['status']} job of user {j['user']} fails now as \"took too long\"; "
            f"its {j['cost']} held tokens go back to them and they are told.", confirm="Refund", danger=True))
        if reason is not None:
            await self.change(data.refund_job, self.actor, j["id"], reason, done=f"job {j['id']} refunded")
