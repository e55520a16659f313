"""Broadcast status through Pilot: live counts of a started broadcast, pause, resume and cancel (the
queued messages dropped); asserted on the broadcast and outbox rows and the admin log."""

from __future__ import annotations

import pytest

from bananapics.models import AdminAction, Broadcast, Outbox
from bananapics.services import broadcast
from bananapics.tui.dialogs import ReasonConfirm
from tests.tui.conftest import OPERATOR, settle
from tests.tui.screens_helpers import answer, go_to, keys

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def test_counts_pause_resume_cancel(world, make_app):
    b = broadcast.create("Spring sale: 20% more tokens", actor=OPERATOR)
    broadcast.start(b.id, actor=OPERATOR)
    total = Outbox.select().where(Outbox.broadcast_id == b.id).count()
    assert total >= 2
    async with make_app(start="broadcasts").run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert keys(pilot.app) == [str(b.id)]
        row = pilot.app.screen.items[str(b.id)]
        assert (row["status"], row["total"], row["queued"], row["sent"]) == ("running", total, total, 0)
        assert "Spring sale" in str(pilot.app.screen.query_one("#message").render())

        await go_to(pilot, str(b.id))
        await answer(pilot, "z")
        assert Broadcast.get_by_id(b.id).status == "paused"
        await answer(pilot, "z")
        assert Broadcast.get_by_id(b.id).status == "running"
        await answer(pilot, "c")
        assert isinstance(pilot.app.screen, ReasonConfirm)
        await answer(pilot, *"typo in the text", "enter")
        await settle(pilot)
        assert pilot.app.screen.items[str(b.id)]["status"] == "cancelled"
    assert Broadcast.get_by_id(b.id).status == "cancelled"
    assert Outbox.select().where((Outbox.broadcast_id == b.id) & (Outbox.status == "pending")).count() == 0
    actions = [a.action for a in AdminAction.select().order_by(AdminAction.id)][-3:]
    assert actions == ["broadcast.pause", "broadcast.resume", "broadcast.cancel"]


async def test_no_broadcasts_says_where_to_write_one(world, make_app):
    async with make_app(start="broadcasts").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "no broadcasts yet" in str(pilot.app.screen.query_one("#status").render())
        await answer(pilot, "c")
        assert not isinstance(pilot.app.screen, ReasonConfirm)
