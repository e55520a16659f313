"""SVG snapshots of the main admin screens at 80×24 and 160×48 (pytest-textual-snapshot).

SQLite only, every time and random value pinned (created_at, referral codes), the clock frozen and
the cursor not blinking, so a snapshot changes only when the layout does. Update them with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the report before committing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bananapics.models import Job, Payment, User
from bananapics.services import ledger
from tests.tui.conftest import NOW, World, settle

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SIZES = [(80, 24), (160, 48)]


@pytest.fixture
def pinned(database, tg, monkeypatch):
    """The seeded world with every time and random code fixed (transfers are append-only: their
    time is pinned while they are written)."""
    monkeypatch.setattr(ledger, "utcnow", lambda: NOW - dt.timedelta(hours=2))
    world = World(tg)
    monkeypatch.undo()
    User.update(created_at=NOW - dt.timedelta(hours=3)).execute()
    for n, user in enumerate(User.select().order_by(User.id)):
        User.update(referral_code=f"code{n:04d}").where(User.id == user.id).execute()
    Job.update(created_at=NOW - dt.timedelta(minutes=10)).execute()
    Payment.update(created_at=NOW - dt.timedelta(days=2)).execute()
    return world


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(pinned, make_app, snap_compare, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_users_with_detail(pinned, make_app, snap_compare, size):
    async def open_alice(pilot):
        await settle(pilot)
        await pilot.press(*"alice")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)

    assert snap_compare(make_app(start="users"), terminal_size=size, run_before=open_alice)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ledger_verify_with_a_breach(pinned, make_app, snap_compare, size):
    User.update(available=User.available + 7).where(User.id == pinned.alice.id).execute()

    async def verify(pilot):
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(make_app(start="ledger"), terminal_size=size, run_before=verify)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_adjust_dialog(pinned, make_app, snap_compare, size):
    async def dialog(pilot):
        await settle(pilot)
        await pilot.press(*"alice")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("a", *"50", "enter")
        await settle(pilot)

    assert snap_compare(make_app(start="users"), terminal_size=size, run_before=dialog)
