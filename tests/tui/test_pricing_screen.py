"""Pricing and models through Pilot: toggle a model (and refund its queued jobs), make one the
default, edit a base price and an extra with the example cost shown first; asserted on the database."""

from __future__ import annotations

import json

import pytest

from bananapics.models import AdminAction, AiModel, Job
from bananapics.tui.dialogs import AskValue, Choose, ReasonConfirm
from tests.tui.conftest import settle
from tests.tui.screens_helpers import answer, go_to, keys

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def test_lists_every_model_with_its_cheapest_request(world, make_app):
    async with make_app(start="pricing").run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert keys(pilot.app) == [m.id for m in AiModel.select().order_by(AiModel.sort, AiModel.id)]
        assert "cheapest request" in str(pilot.app.screen.query_one("#preview").render())


async def test_switch_off_with_refund_of_queued_jobs(world, make_app):
    async with make_app(start="pricing").run_test(size=(120, 36)) as pilot:
        await go_to(pilot, "nano-banana")
        await answer(pilot, "t")
        assert isinstance(pilot.app.screen, Choose)
        await answer(pilot, "down", "enter")  # switch off and refund queued jobs
        assert isinstance(pilot.app.screen, ReasonConfirm)
        await answer(pilot, *"provider outage", "enter")
    assert AiModel.get_by_id("nano-banana").enabled is False
    assert Job.get_by_id(world.job.id).status == "failed"
    row = AdminAction.select().where(AdminAction.action == "catalog.disable").get()
    assert row.reason == "provider outage" and json.loads(row.after)["refunded_jobs"] == [world.job.id]


async def test_cancel_changes_nothing_and_default_moves(world, make_app):
    async with make_app(start="pricing").run_test(size=(120, 36)) as pilot:
        await go_to(pilot, "seedream-4")
        await answer(pilot, "d")
        await answer(pilot, "escape")
        assert AiModel.get_by_id("seedream-4").is_default is False
        await answer(pilot, "d")
        await answer(pilot, *"try it", "enter")
    assert [m.id for m in AiModel.select().where(AiModel.is_default == True)] == ["seedream-4"]  # noqa: E712


async def test_edit_base_price_shows_the_example_cost_first(world, make_app):
    before = AiModel.get_by_id("nano-banana").base_price
    async with make_app(start="pricing").run_test(size=(120, 36)) as pilot:
        await go_to(pilot, "nano-banana")
        await answer(pilot, "e")
        assert isinstance(pilot.app.screen, AskValue)
        pilot.app.screen.query_one("#value").value = ""
        await answer(pilot, *"abc", "enter")
        assert "whole number" in str(pilot.app.screen.query_one("#problem").render())
        pilot.app.screen.query_one("#value").value = ""
        await answer(pilot, *str(before + 5), "enter")
        assert isinstance(pilot.app.screen, ReasonConfirm)
        effect = str(pilot.app.screen.query_one("#effect").render())
        assert f"{before} → {before + 5}" in effect and f"= {before + 5}" in effect
        await answer(pilot, *"new price", "enter")
        await settle(pilot)
        assert f"= {before + 5}" in str(pilot.app.screen.query_one("#preview").render())
    assert AiModel.get_by_id("nano-banana").base_price == before + 5
    assert AdminAction.select().where(AdminAction.action == "catalog.edit").get().reason == "new price"


async def test_edit_an_extra(world, make_app):
    model = next(m for m in AiModel.select() if m.limits_dict.get("resolutions"))
    option = model.limits_dict["resolutions"][-1]
    async with make_app(start="pricing").run_test(size=(120, 36)) as pilot:
        await go_to(pilot, model.id)
        await answer(pilot, "x")
        labels = [label for label, _ in pilot.app.screen.options]
        await answer(pilot, *["down"] * labels.index(next(l for l in labels if l.startswith(f"resolution {option}"))),
                     "enter")
        pilot.app.screen.query_one("#value").value = ""
        await answer(pilot, *"33", "enter")
        assert f"resolution {option} +33" in str(pilot.app.screen.query_one("#effect").render()) or \
            "33" in str(pilot.app.screen.query_one("#effect").render())
        await answer(pilot, *"4K costs more", "enter")
    assert json.loads(AiModel.get_by_id(model.id).pricing)["resolution"][option] == 33
