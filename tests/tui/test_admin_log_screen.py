"""Admin log through Pilot: filter by actor and by target (in the database), page with n/p, and
the selected row's before/after and reason."""

from __future__ import annotations

import pytest

from bananapics.models import AdminAction
from bananapics.services import settings
from bananapics.services.audit import Actor
from bananapics.tui import data
from tests.tui.conftest import OPERATOR, settle
from tests.tui.screens_helpers import keys, type_into

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def test_filter_by_actor_and_target_and_page(world, make_app, monkeypatch):
    other = Actor.operator("someone", channel="cli")
    for n in range(1, 6):
        settings.set_value("limits.user_burst", 20 + n, actor=other, reason=f"step {n}")
    monkeypatch.setattr(data, "PAGE", 3)
    async with make_app(start="admin_log").run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert len(keys(pilot.app)) == 3
        await type_into(pilot, "#actor", other.name)
        assert "3 of 5" in str(pilot.app.screen.query_one("#status").render())
        shown = {AdminAction.get_by_id(int(k)).actor for k in keys(pilot.app)}
        assert shown == {other.name}
        assert "reason: step 5" in str(pilot.app.screen.query_one("#change").render())
        await pilot.press("n")
        await settle(pilot)
        assert [AdminAction.get_by_id(int(k)).reason for k in keys(pilot.app)] == ["step 2", "step 1"]
        await pilot.press("p")
        await settle(pilot)
        assert len(keys(pilot.app)) == 3

        pilot.app.screen.query_one("#actor").value = ""
        await type_into(pilot, "#target", f"user:{world.carol.tg_id}")
        rows = [AdminAction.get_by_id(int(k)) for k in keys(pilot.app)]
        assert [(a.action, a.actor, a.reason) for a in rows] == [("users.ban", OPERATOR.name, "spam")]
        change = str(pilot.app.screen.query_one("#change").render())
        assert f"users.ban user:{world.carol.tg_id}" in change and "reason: spam" in change
