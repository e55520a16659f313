"""SVG snapshots of the pricing, packages, templates, rules, jobs, admin-log and broadcast screens
at 80×24 and 160×48, on the pinned world of test_snapshots (SQLite, frozen clock and values).
Update with ``pytest tests/tui/test_snapshots_more.py --snapshot-update`` and look at the report."""

from __future__ import annotations

import datetime as dt

import pytest

from bananapics.models import AdminAction, Broadcast, Job
from bananapics.services import broadcast
from tests.tui.conftest import NOW, OPERATOR, settle
from tests.tui.test_snapshots import pinned  # noqa: F401 - the fixture

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SIZES = [(80, 24), (160, 48)]
SCREENS = ["pricing", "packages", "templates", "rules", "jobs", "admin_log", "broadcasts"]


@pytest.fixture
def world_more(pinned):  # noqa: F811
    b = broadcast.create("Spring sale: 20% more tokens this week", actor=OPERATOR)
    broadcast.start(b.id, actor=OPERATOR)
    Broadcast.update(created_at=NOW - dt.timedelta(hours=1), started_at=NOW - dt.timedelta(minutes=50)).execute()
    AdminAction.update(created_at=NOW - dt.timedelta(hours=1)).execute()
    Job.update(id="0badcafe" * 4).where(Job.id == pinned.job.id).execute()  # ids are random
    return pinned


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screen(world_more, make_app, snap_compare, size, screen):
    assert snap_compare(make_app(start=screen), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_price_confirm_with_preview(world_more, make_app, snap_compare, size):
    async def dialog(pilot):
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        pilot.app.screen.query_one("#value").value = ""
        await pilot.press(*"12", "enter")
        await settle(pilot)

    assert snap_compare(make_app(start="pricing"), terminal_size=size, run_before=dialog)
