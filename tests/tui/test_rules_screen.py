"""Rules through Pilot: the referral percent, a feature toggle, a rate limit (a bad value refused in
the dialog) and maintenance with its message; asserted on the settings table and the admin log."""

from __future__ import annotations

import pytest

from bananapics.models import AdminAction
from bananapics.services import referrals, settings, toggles, maintenance
from bananapics.tui.dialogs import ReasonConfirm
from tests.tui.conftest import settle
from tests.tui.screens_helpers import answer, go_to, keys

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def edit(pilot, key: str, value: str | None, reason: str) -> None:
    await go_to(pilot, key)
    await answer(pilot, "enter")
    if value is not None:
        pilot.app.screen.query_one("#value").value = ""
        await answer(pilot, *value, "enter")
    assert isinstance(pilot.app.screen, ReasonConfirm)
    await answer(pilot, *reason, "enter")


async def test_referral_toggle_and_limit(world, make_app):
    async with make_app(start="rules").run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert keys(pilot.app)[0].startswith("referral.") and "limits.user_burst" in keys(pilot.app)
        await edit(pilot, "referral.percent", "15", "spring promo")
        await edit(pilot, "features.templates", None, "fixing templates")
        await go_to(pilot, "limits.user_burst")
        await answer(pilot, "enter")
        pilot.app.screen.query_one("#value").value = ""
        await answer(pilot, *"99999", "enter")
        assert "between" in str(pilot.app.screen.query_one("#problem").render())
        pilot.app.screen.query_one("#value").value = ""
        await answer(pilot, *"30", "enter")
        await answer(pilot, *"bursty users", "enter")
    settings.clear_cache()
    assert referrals.rules().percent == 15
    assert toggles.is_on("templates") is False
    assert settings.get("limits.user_burst") == 30
    reasons = [a.reason for a in AdminAction.select().order_by(AdminAction.id)][-3:]
    assert reasons == ["spring promo", "fixing templates", "bursty users"]


async def test_maintenance_on_with_a_message_then_off(world, make_app):
    async with make_app(start="rules").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await answer(pilot, "m", *"Back soon", "enter")
        await answer(pilot, *"deploy", "enter")
        settings.clear_cache()
        assert maintenance.enabled() and maintenance.message("en") == "Back soon"
        await settle(pilot)
        await answer(pilot, "m")
        await answer(pilot, *"deployed", "enter")
    settings.clear_cache()
    assert not maintenance.enabled()
