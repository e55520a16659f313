"""A red line across the top of every screen while the database connection is lost. It follows the
app's ``db_lost`` reactive; the app keeps pinging and hides it once the server answers."""

from __future__ import annotations

from textual.widgets import Static


class ConnectionBanner(Static):
    DEFAULT_CSS = """
    ConnectionBanner { display: none; height: 1; background: $error; color: $text; text-style: bold; padding: 0 1; }
    ConnectionBanner.-lost { display: block; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "db_lost", self._follow, init=True)

    def _follow(self, lost: str) -> None:
        self.set_class(bool(lost), "-lost")
        self.update(f"Database connection lost ({lost}); reconnecting… the screen keeps its last data." if lost else "")
