"""What every admin screen shares: header, connection banner, footer, and :meth:`AdminScreen.call`,
the only way a screen reaches the database (a worker thread running ``data.load``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header

from bananapics.tui import data
from bananapics.tui.widgets.banner import ConnectionBanner
from bananapics.tui.widgets.nav import ScreenNav


class AdminScreen(Screen):
    # (title, help, action) for the command palette; the app adds one entry per row.
    PALETTE: ClassVar[list[tuple[str, str, str]]] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="🍌")
        yield ScreenNav(getattr(self, "mode_name", ""))
        yield ConnectionBanner()
        with Vertical(classes="main"):
            yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:  # pragma: no cover - every screen overrides it
        yield from ()

    @property
    def actor(self):
        return self.app.actor

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> data.Outcome:
        """Run ``fn`` (a tui.data function) in a thread; errors become a notification or the banner."""
        outcome = await asyncio.to_thread(data.load, fn, *args, **kwargs)
        self.app.outcome_seen(outcome)
        return outcome
