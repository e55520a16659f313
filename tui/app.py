"""``bananapics admin``: the Textual operator console, built by :func:`create_app`.

Screens come from the registry (:mod:`bananapics.tui.screens`): each is a mode with a function key in
the footer and entries in the command palette (ctrl+p) for the screen and each of its actions. The
app holds the operator (:class:`~bananapics.services.audit.Actor` ``tui:<name>``), the Telegram
client factory refunds use, the clock the screens read (frozen in snapshot tests), and the
connection state: a lost database shows a banner on every screen and a worker pings until the
server answers, then the current screen reloads.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable, Iterable
from functools import partial

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from bananapics.errors import BananaError
from bananapics.models import utcnow
from bananapics.services.audit import Actor
from bananapics.services.stars import StarsApi
from bananapics.tui import data
from bananapics.tui.screens import screens

SCREENS = screens()


def _no_telegram() -> StarsApi:
    raise BananaError("refunds need the bot token (BANANAPICS_TELEGRAM__BOT_TOKEN): the TUI calls "
                           "Telegram's Bot API to return Stars")


class AdminApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "BananaPics admin"
    MODES = {spec.name: spec.screen for spec in SCREENS}
    # The function keys are listed on every screen's nav line; the footer keeps the screen's own keys.
    BINDINGS = [Binding(spec.key, f"switch_mode('{spec.name}')", spec.title, show=False) for spec in SCREENS] + [
        Binding("ctrl+r", "reload", "Reload", show=False),
    ]
    db_lost: reactive[str] = reactive("")  # the error line while the connection is lost, else ""

    def __init__(self, *, actor: Actor, telegram: Callable[[], StarsApi] | None = None,
                 provider_keys: dict[str, bool] | None = None, clock: Callable[[], dt.datetime] = utcnow,
                 refresh_s: float = 5.0, reconnect_s: float = 2.0, blink: bool = True, start: str = "dashboard",
                 enqueue: Callable[[str], object] | None = None) -> None:
        super().__init__()
        # hands a re-queued job to the workers at once (None: the sweeper picks it up within a minute)
        self.enqueue = enqueue
        self.actor, self.telegram = actor, telegram or _no_telegram
        self.provider_keys, self.clock = provider_keys, clock
        self.refresh_s, self.reconnect_s, self.blink, self.start = refresh_s, reconnect_s, blink, start
        self.sub_title = actor.name

    async def on_mount(self) -> None:
        await self.switch_mode(self.start)
        self.call_after_refresh(self._freeze_heap)

    def _freeze_heap(self) -> None:
        """Once the first screen is up, the ~100k objects the console starts with (modules, classes,
        the widgets) leave the cycle collector's view: its full passes walked all of them (50-150 ms,
        in the middle of whatever keystroke triggered one) to find the little garbage searches leave.
        Refcounting still frees them; only cycles among them wait for the exit (on_unmount)."""
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()  # tests run many apps in one process: hand this one's objects back to the collector

    # ---------------------------------------------------------------- palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in SCREENS:
            yield SystemCommand(f"{spec.title} ({spec.key.upper()})", spec.help, partial(self.switch_mode, spec.name))
        for spec in SCREENS:
            for title, help_text, action in spec.screen.PALETTE:
                yield SystemCommand(f"{spec.title}: {title}", help_text, partial(self.run_on, spec.name, action))

    async def run_on(self, mode: str, action: str) -> None:
        """Go to a screen and run one of its actions (a palette entry)."""
        if self.current_mode != mode:
            await self.switch_mode(mode)
        await self.screen.run_action(action)

    async def action_reload(self) -> None:
        if hasattr(self.screen, "action_reload"):
            await self.screen.run_action("reload")

    # ---------------------------------------------------------------- connection state

    def outcome_seen(self, outcome: data.Outcome) -> None:
        """Every worker's result passes here: a lost connection shows the banner, an error a toast."""
        if outcome.lost:
            if not self.db_lost:
                self.db_lost = outcome.error or "database connection lost"
                self.reconnect()
        elif outcome.error:
            self.notify(outcome.error, title="Refused", severity="error", markup=False)

    @work(thread=True, exclusive=True, group="reconnect")
    def reconnect(self) -> None:
        while not data.ping():
            time.sleep(self.reconnect_s)
        self.call_from_thread(self._reconnected)

    async def _reconnected(self) -> None:
        self.db_lost = ""
        self.notify("Database connection is back.", title="Reconnected")
        await self.action_reload()


def create_app(*, actor: Actor, **options) -> AdminApp:
    """The app for ``bananapics admin`` and tests; the database must already be connected."""
    return AdminApp(actor=actor, **options)
