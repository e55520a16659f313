"""Packages through Pilot: add, edit, take off sale, reorder; asserted on the database."""

from __future__ import annotations

import pytest

from bananapics.models import AdminAction, Package
from tests.tui.conftest import settle
from tests.tui.screens_helpers import answer, go_to, keys

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def order() -> list[int]:
    return [p.id for p in Package.select().order_by(Package.sort, Package.id)]


async def test_add_edit_toggle_and_reorder(world, make_app):
    first, second = order()[:2]
    async with make_app(start="packages").run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert keys(pilot.app) == [str(i) for i in order()]
        await answer(pilot, "a", *"77 770 5", "enter")
        await answer(pilot, *"promo", "enter")
        added = Package.get(Package.stars == 77)
        assert (added.tokens, added.bonus_pct, added.active) == (770, 5, True)

        await go_to(pilot, str(added.id))
        await answer(pilot, "e")
        pilot.app.screen.query_one("#value").value = ""
        await answer(pilot, *"78 800 0", "enter")
        assert "78 ⭐" in str(pilot.app.screen.query_one("#effect").render())
        await answer(pilot, *"fix", "enter")
        assert (Package.get_by_id(added.id).stars, Package.get_by_id(added.id).tokens) == (78, 800)

        await go_to(pilot, str(first))
        await answer(pilot, "t")
        await answer(pilot, *"old offer", "enter")
        assert Package.get_by_id(first).active is False

        await go_to(pilot, str(second))
        await answer(pilot, "u")
        await settle(pilot)
    assert order()[:2] == [second, first]
    actions = [a.action for a in AdminAction.select().order_by(AdminAction.id)]
    assert actions[-4:] == ["packages.create", "packages.edit", "packages.deactivate", "packages.reorder"]


async def test_bad_terms_are_refused_in_the_dialog(world, make_app):
    count = Package.select().count()
    async with make_app(start="packages").run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await answer(pilot, "a", *"fifty", "enter")
        assert "three whole numbers" in str(pilot.app.screen.query_one("#problem").render())
        await answer(pilot, "escape")
    assert Package.select().count() == count
