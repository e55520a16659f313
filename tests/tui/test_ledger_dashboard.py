"""The Dashboard and Ledger audit screens and the command palette through Pilot, on both engines."""

from __future__ import annotations

import pytest

from bananapics.models import Job, Payment, User
from bananapics.services import users
from bananapics.tui import data
from bananapics.tui.dialogs import ReasonConfirm
from bananapics.tui.screens import screens
from bananapics.tui.widgets.tiles import Counter
from tests.helpers import assert_ledger_clean
from tests.tui.conftest import settle

pytestmark = pytest.mark.anyio


def tile(app, key: str) -> str:
    return app.screen.query_one(f"#tile-{key}", Counter).value


def table_rows(app, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_dashboard_counters_charts_and_refresh(world, make_app):
    async with make_app().run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert tile(pilot.app, "users_total") == "3"
        assert tile(pilot.app, "queued") == "1"
        assert tile(pilot.app, "workers") == "0 of 0"
        providers = [row[0] for row in table_rows(pilot.app, "#providers")]
        assert providers == ["gemini", "openai", "ark", "fal", "local"]
        assert len(pilot.app.screen.query_one("#stars-spark").data) == 14
        users.register(4242, first_name="Dora")
        await pilot.press("r")
        await settle(pilot)
        assert tile(pilot.app, "users_total") == "4"


async def test_series_count_jobs_per_minute_and_stars_per_day(world, database):
    """The series from services.dashboard: jobs per minute by created_at around a fixed now (the last
    value is the current minute); Stars per day from the counters the payments' writes keep."""
    now = data.dt.datetime(2030, 1, 15, 12, 0, 0)
    Job.update(created_at=now - data.dt.timedelta(minutes=5, seconds=10)).execute()  # the 11:54 minute
    view = data.dashboard(data.Actor.operator("t", "tui"), now=now)
    assert sum(view.jobs_per_minute) == 1 and view.jobs_per_minute[-7] == 1
    paid = sum(p.stars for p in Payment.select())
    view = data.dashboard(data.Actor.operator("t", "tui"))
    assert paid > 0 and view.stars_per_day[-1] == paid and sum(view.stars_per_day) == paid


async def test_transfers_filter_by_user_with_running_totals(world, make_app):
    async with make_app(start="ledger").run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert len(table_rows(pilot.app, "#transfers-table")) == 2
        await pilot.click("#f-user")
        await pilot.press(*str(world.alice.tg_id), "enter")
        await settle(pilot)
        got = table_rows(pilot.app, "#transfers-table")
        assert [r[1] for r in got] == ["hold", "topup"]
        assert [r[3] for r in got] == ["+0", "+100"] and [r[4] for r in got] == ["0", "100"]
        assert "net for the user +100" in str(pilot.app.screen.query_one("#transfers-status").render())
        await pilot.click("#f-kind")
        await pilot.press(*"topup", "enter")
        await settle(pilot)
        assert [r[1] for r in table_rows(pilot.app, "#transfers-table")] == ["topup"]
        await pilot.click("#f-since")
        await pilot.press(*"yesterday", "enter")
        await settle(pilot)
        assert any("since: a date" in n.message for n in pilot.app._notifications)


async def test_verify_highlights_breaches_and_links_to_their_rows(world, make_app):
    async with make_app(start="ledger").run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert "ledger OK" in str(pilot.app.screen.query_one("#verify-status").render())
        User.update(available=User.available + 7).where(User.id == world.alice.id).execute()  # a cache gone wrong
        await pilot.press("v")
        await settle(pilot)
        breaches = pilot.app.screen.breaches
        assert {b.check for b in breaches} >= {"cache_matches_ledger", "sum_is_zero"}
        linked = next(i for i, b in enumerate(breaches) if b.check == "cache_matches_ledger")
        assert breaches[linked].link == ("user", str(world.alice.tg_id))
        table = pilot.app.screen.query_one("#breaches")
        table.focus()
        table.move_cursor(row=linked)
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen.query_one("#ledger-tabs").active == "transfers"
        assert pilot.app.screen.query_one("#f-user").value == str(world.alice.tg_id)
        assert {r[1] for r in table_rows(pilot.app, "#transfers-table")} == {"hold", "topup"}


def test_breach_links():
    assert data.breach_link("user 5: negative balance available=-1 held=0 debt=0") == ("user", "5")
    assert data.breach_link("hold abc (closed): recorded settle/refund 1/2 but transfers say 1/1") == ("ref", "abc")
    assert data.breach_link("charge ch_1: 2 top-up transfer(s) for 10 tokens, expected one for 5") == ("ref", "ch_1")
    assert data.breach_link("top-up transfer for charge ch_9 without a payment row") == ("ref", "ch_9")
    assert data.breach_link("user balances 5 + system accounts 0 ≠ 0 ({})") is None


async def test_payments_tab_refunds_the_selected_payment(world, make_app):
    async with make_app(start="ledger").run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert [r[6] for r in table_rows(pilot.app, "#payments-table")] == [world.charge]
        pilot.app.screen.query_one("#payments-table").focus()
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReasonConfirm)
        await pilot.press(*"duplicate purchase", "enter")
        await settle(pilot)
        assert "refunded" in table_rows(pilot.app, "#payments-table")[0][5]
    payment = Payment.get(Payment.charge_id == world.charge)
    assert payment.status == "refunded" and payment.refund_reason == "duplicate purchase"
    assert_ledger_clean()


async def test_function_keys_and_palette_reach_every_screen_and_action(world, make_app):
    specs = screens()
    async with make_app().run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        titles = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        for spec in specs:
            assert any(t.startswith(spec.title) for t in titles)
            for title, _, _ in spec.screen.PALETTE:
                assert f"{spec.title}: {title}" in titles
            await pilot.press(spec.key)
            await settle(pilot)
            assert pilot.app.current_mode == spec.name
        command = next(c for c in pilot.app.get_system_commands(pilot.app.screen) if c.title == "Ledger audit: Verify the ledger")
        await pilot.press("f1")
        await command.callback()
        await settle(pilot)
        assert pilot.app.current_mode == "ledger"
        assert "ledger OK" in str(pilot.app.screen.query_one("#verify-status").render())
