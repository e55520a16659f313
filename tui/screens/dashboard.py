"""Dashboard (F1): live counters, jobs per minute and Stars per day, providers and workers.

A timer asks for a refresh every ``app.refresh_s`` seconds; the refresh is an exclusive worker (a
slow database never stacks refreshes up) and input is never blocked while it runs.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Label, Sparkline

from bananapics.tui import data
from bananapics.tui.screens import register
from bananapics.tui.screens.base import AdminScreen
from bananapics.tui.widgets.cells import cells
from bananapics.tui.widgets.tiles import Counter

TILES = (("users_today", "Users today"), ("users_total", "Users total"), ("queued", "Jobs queued"),
         ("running", "Jobs running"), ("failed", "Failed (1 h)"), ("stars_today", "Stars today"),
         ("tokens_today", "Tokens today"), ("workers", "Workers alive"))


@register("dashboard", "Dashboard", "f1", "Live counters, charts, providers and workers")
class DashboardScreen(AdminScreen):
    BINDINGS = [Binding("r", "reload", "Refresh")]
    PALETTE = [("Refresh now", "Reload the dashboard's counters", "reload")]
    DEFAULT_CSS = """
    DashboardScreen #tiles { grid-size: 4; grid-gutter: 0 1; height: auto; padding: 0 1; }
    DashboardScreen #charts { height: auto; padding: 0 1; }
    DashboardScreen #charts > Vertical { height: auto; width: 1fr; margin-right: 1; }
    DashboardScreen Sparkline { height: 3; }
    DashboardScreen #health { height: auto; padding: 0 1; }
    DashboardScreen #health DataTable { height: auto; max-height: 8; width: 1fr; margin-right: 1; }
    """

    def body(self) -> ComposeResult:
        with VerticalScroll():
            with Grid(id="tiles"):
                for key, title in TILES:
                    yield Counter(title, id=f"tile-{key}")
            with Horizontal(id="charts"):
                with Vertical():
                    yield Label("Jobs per minute (last hour)", classes="section", id="jobs-title")
                    yield Sparkline([], id="jobs-spark")
                with Vertical():
                    yield Label("Stars per day (last 14 days)", classes="section", id="stars-title")
                    yield Sparkline([], id="stars-spark")
            with Horizontal(id="health"):
                yield DataTable(id="providers", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="workers", cursor_type="row", zebra_stripes=True)
            yield Label("loading…", id="updated", classes="status")

    def on_mount(self) -> None:
        self.query_one("#providers", DataTable).add_columns("provider", "status")
        self.query_one("#workers", DataTable).add_columns("worker", "alive", "last seen")
        self.set_interval(self.app.refresh_s, self.action_reload)
        self.action_reload()

    def action_reload(self) -> None:
        self.refresh_data()

    @work(exclusive=True, group="dashboard")
    async def refresh_data(self) -> None:
        outcome = await self.call(data.dashboard, self.actor, keys=self.app.provider_keys, now=self.app.clock())
        if outcome.ok:
            self.show(outcome.value)

    def show(self, view: data.DashboardView) -> None:
        alive = sum(1 for _, ok, _ in view.workers if ok)
        for key, _ in TILES:
            tile = self.query_one(f"#tile-{key}", Counter)
            if key == "workers":
                tile.show(f"{alive} of {len(view.workers)}", alert=alive == 0)
            else:
                value = getattr(view, key)
                tile.show(value, alert=key == "failed" and value > 0)
        self.query_one("#jobs-spark", Sparkline).data = view.jobs_per_minute
        self.query_one("#stars-spark", Sparkline).data = view.stars_per_day
        self.query_one("#jobs-title", Label).update(
            f"Jobs/min, last hour: {sum(view.jobs_per_minute)}, peak {max(view.jobs_per_minute, default=0)}")
        self.query_one("#stars-title", Label).update(
            f"Stars/day, 14 days: {sum(view.stars_per_day):,} ⭐")
        providers = self.query_one("#providers", DataTable)
        providers.clear()
        for name, line in view.providers:
            providers.add_row(*cells(name, line))
        workers = self.query_one("#workers", DataTable)
        workers.clear()
        for worker_id, ok, seen in view.workers:
            workers.add_row(*cells(worker_id, "yes" if ok else "STALE", f"{seen:%H:%M:%S}"))
        if not view.workers:
            workers.add_row(*cells("no worker has reported", "", ""))
        self.query_one("#updated", Label).update(f"updated {view.at:%Y-%m-%d %H:%M:%S} UTC · r refreshes")
