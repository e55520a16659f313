"""The Users screen through Pilot, on SQLite and Postgres: search as you type, the detail pane, and
ban/unban, role, adjust and refund, each through its reason dialog; asserted on the database."""

from __future__ import annotations

import asyncio

import peewee as pw
import pytest

from bananapics.models import AdminAction, Payment, User
from bananapics.services import lists
from bananapics.services.audit import Actor
from bananapics.tui.dialogs import AskValue, Choose, ReasonConfirm
from bananapics.tui.screens.users import UsersScreen
from bananapics.tui.widgets.banner import ConnectionBanner
from tests.helpers import assert_ledger_clean
from tests.tui.conftest import settle

pytestmark = pytest.mark.anyio


def rows(app) -> list[str]:
    table = app.screen.query_one("#users")
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def search(pilot, query: str) -> None:
    await pilot.click("#search")
    pilot.app.screen.query_one("#search").value = ""
    await pilot.press(*query)
    await settle(pilot)


async def open_user(pilot, query: str) -> None:
    await search(pilot, query)
    await pilot.press("enter", "enter")  # submit: focus the table; enter: open the row
    await settle(pilot)


async def answer(pilot, *keys: str) -> None:
    await pilot.press(*keys, "enter")
    await settle(pilot)


async def test_search_as_you_type_shows_matches_and_count(world, make_app):
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert len(rows(pilot.app)) == 3
        await search(pilot, "ali")
        assert rows(pilot.app) == [str(world.alice.tg_id)]
        assert "1 of 1" in text(pilot.app, "#count")
        await search(pilot, "@bob")
        assert rows(pilot.app) == [str(world.bob.tg_id)]
        await search(pilot, str(world.carol.tg_id))
        assert rows(pilot.app) == [str(world.carol.tg_id)]
        await search(pilot, "nobody-like-this")
        assert rows(pilot.app) == [] and "no users match" in text(pilot.app, "#count")


async def test_a_stale_result_is_dropped(world, make_app, monkeypatch):
    """Typing fast: only the text in the box when results arrive is shown, never an older search."""
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = pilot.app.screen.searches
        await pilot.click("#search")
        box = pilot.app.screen.query_one("#search")
        for key in "carol":  # one burst (pilot.press waits for the app to go idle after each key, ~0.1 s
            box.insert_text_at_cursor(key)  # on a busy machine: typing, not a burst, next to DEBOUNCE_S)
            await asyncio.sleep(0.01)  # earlier searches are cancelled or dropped
        await settle(pilot)
        assert rows(pilot.app) == [str(world.carol.tg_id)]
        assert pilot.app.screen.searches - shown < len("carol")  # coalesced, not one rendering per key


async def test_pages_hold_at_most_a_page_and_n_goes_on(database, tg, make_app, monkeypatch):
    from tests.tui.conftest import World
    from bananapics.tui import data

    monkeypatch.setattr(data, "PAGE", 10)
    World(tg, fillers=15)
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await search(pilot, "filler")
        first = rows(pilot.app)
        assert len(first) == 10 and "10 of 15" in text(pilot.app, "#count")  # services.search counts the matches
        await pilot.press("enter", "n")
        await settle(pilot)
        second = rows(pilot.app)
        assert len(second) == 5 and not set(first) & set(second)
        await pilot.press("p")
        await settle(pilot)
        assert rows(pilot.app) == first


async def test_rows_come_first_and_the_count_right_after(database, tg, make_app, monkeypatch):
    """A result with more pages shows its rows at once and "of …" until the count worker has counted."""
    import threading

    from tests.tui.conftest import World
    from bananapics.tui import data

    monkeypatch.setattr(data, "PAGE", 10)
    World(tg, fillers=15)
    gate, counting = threading.Event(), data.count_users

    def held_count(*args, **kwargs):
        gate.wait(10)
        return counting(*args, **kwargs)

    monkeypatch.setattr(data, "count_users", held_count)
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        while pilot.app.screen.searches == 0:
            await pilot.pause(0.01)
        assert len(rows(pilot.app)) == 10 and "10 of … users" in text(pilot.app, "#count")  # every user: 18
        gate.set()
        await settle(pilot)
        assert "10 of 18 users" in text(pilot.app, "#count")
        gate.clear()
        await pilot.click("#search")
        await pilot.press(*"filler")
        while rows(pilot.app)[0] != str(10_000_014):
            await pilot.pause(0.01)
        assert len(rows(pilot.app)) == 10 and "10 of … users" in text(pilot.app, "#count")
        gate.set()
        await settle(pilot)
        assert "10 of 15 users" in text(pilot.app, "#count")
        await search(pilot, "filler01")  # one page holds every match: counted with the rows, no worker
        assert len(rows(pilot.app)) == 5 and "5 of 5 users" in text(pilot.app, "#count")


async def test_detail_pane_shows_balance_role_and_history(world, make_app):
    async with make_app(start="users").run_test(size=(160, 48)) as pilot:
        await open_user(pilot, "alice")
        summary = text(pilot.app, "#summary")
        alice = User.get_by_id(world.alice.id)
        assert f"balance {alice.available:,}" in summary and f"held {alice.held:,}" in summary
        assert "role user" in summary and "not banned" in summary
        assert pilot.app.screen.query_one("#detail-ledger").row_count == 2  # top-up and the job's hold
        assert pilot.app.screen.query_one("#detail-payments").row_count == 1
        assert pilot.app.screen.query_one("#detail-jobs").row_count == 1


async def test_adjust_with_a_reason(world, make_app):
    before = User.get_by_id(world.alice.id).available
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await open_user(pilot, "alice")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AskValue)
        await answer(pilot, *"50")
        assert isinstance(pilot.app.screen, ReasonConfirm)
        assert f"available {before:,} → {before + 50:,} (+50 tokens)" in str(pilot.app.screen.query_one("#effect").render())
        await answer(pilot)  # no reason: the dialog stays and says so
        assert isinstance(pilot.app.screen, ReasonConfirm)
        await answer(pilot, *"goodwill")
        assert isinstance(pilot.app.screen, UsersScreen)
        assert "balance" in text(pilot.app, "#summary") and f"{before + 50:,}" in text(pilot.app, "#summary")
    assert User.get_by_id(world.alice.id).available == before + 50
    log = AdminAction.get(AdminAction.action == "ledger.adjust")
    assert log.actor == "tui:tester" and log.reason == "goodwill"
    assert_ledger_clean()


async def test_cancel_changes_nothing(world, make_app):
    before = User.get_by_id(world.alice.id).available
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await open_user(pilot, "alice")
        await pilot.press("a")
        await settle(pilot)
        await answer(pilot, *"-5")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, UsersScreen)
    assert User.get_by_id(world.alice.id).available == before
    assert not AdminAction.select().where(AdminAction.action == "ledger.adjust").exists()


async def test_ban_and_unban(world, make_app):
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await open_user(pilot, "bobby")
        await pilot.press("b")
        await settle(pilot)
        assert "one short message" in str(pilot.app.screen.query_one("#effect").render())
        await answer(pilot, *"scam links")
        assert "BANNED: scam links" in text(pilot.app, "#summary")
        await open_user(pilot, "carol")
        await pilot.press("b")
        await settle(pilot)
        assert "banned for: spam" in str(pilot.app.screen.query_one("#effect").render())
        await answer(pilot, *"appeal accepted")
    bob, carol = User.get_by_id(world.bob.id), User.get_by_id(world.carol.id)
    assert bob.banned and bob.ban_reason == "scam links"
    assert not carol.banned
    assert AdminAction.get(AdminAction.action == "users.unban").reason == "appeal accepted"


async def test_role_change(world, make_app):
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await open_user(pilot, "bobby")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(pilot.app.screen, Choose)
        await answer(pilot)  # the first choice: support
        assert "role user → support" in str(pilot.app.screen.query_one("#effect").render())
        await answer(pilot, *"helps with refunds")
    assert User.get_by_id(world.bob.id).role == "support"
    assert AdminAction.get(AdminAction.action == "users.role").actor == "tui:tester"


async def test_refund_through_telegram(world, make_app, tg):
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await open_user(pilot, "alice")
        await pilot.press("f")
        await settle(pilot)
        await answer(pilot)  # the only paid payment
        effect = str(pilot.app.screen.query_one("#effect").render())
        assert "Telegram returns 50 ⭐" in effect and "FORCES" in effect  # 15 of her tokens are held by a job
        await answer(pilot, *"asked nicely")
        assert isinstance(pilot.app.screen, UsersScreen)
    payment = Payment.get(Payment.charge_id == world.charge)
    assert payment.status == "refunded" and payment.refunded_by == "tui:tester" and payment.refund_reason == "asked nicely"
    assert User.get_by_id(world.alice.id).debt > 0
    assert_ledger_clean()


async def test_a_refused_action_is_a_notice_and_changes_nothing(world, make_app):
    """Support may not adjust: the service refuses, the TUI shows it, the database keeps the balance."""
    User.update(role="support").where(User.id == world.bob.id).execute()
    before = User.get_by_id(world.alice.id).available
    app = make_app(start="users", actor=Actor.for_user(world.bob.id))
    async with app.run_test(size=(120, 36)) as pilot:
        await open_user(pilot, "alice")
        await pilot.press("a")
        await settle(pilot)
        await answer(pilot, *"50")
        await answer(pilot, *"why not")
        assert any("not allowed for the support role" in n.message for n in app._notifications)
    assert User.get_by_id(world.alice.id).available == before
    assert AdminAction.get(AdminAction.action == "ledger.adjust").outcome == "denied"


async def test_a_lost_connection_shows_a_banner_and_recovers(world, make_app, monkeypatch):
    from bananapics.services import search as search_service

    calls: list = []

    def flaky(real):  # the newest-users list and the search share one call count: the 2nd call fails
        def call(*args, **kwargs):
            calls.append(kwargs)
            if len(calls) == 2:
                raise pw.OperationalError("server closed the connection unexpectedly")
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(lists, "users", flaky(lists.users))
    monkeypatch.setattr(search_service, "users", flaky(search_service.users))
    async with make_app(start="users").run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await search(pilot, "a")
        banner = pilot.app.screen.query_one(ConnectionBanner)
        # the reconnect worker pings, finds the server, hides the banner and reloads the screen
        await settle(pilot)
        assert pilot.app.db_lost == "" and not banner.has_class("-lost")
        assert len(calls) >= 3
        await search(pilot, "alice")
        assert rows(pilot.app) == [str(world.alice.tg_id)]
