"""Every screen is in the registry with its own function key, and every palette entry names an
action the screen has; a palette entry runs on its screen (here: the template import dialog)."""

from __future__ import annotations

import pytest

from bananapics.tui.dialogs import AskValue
from bananapics.tui.screens import screens
from tests.tui.conftest import settle

NEW = ("pricing", "packages", "templates", "rules", "jobs", "admin_log", "broadcasts")


def test_every_screen_and_action_is_registered():
    specs = {s.name: s for s in screens()}
    assert set(NEW) <= set(specs)
    assert len({s.key for s in specs.values()}) == len(specs)
    for name in NEW:
        spec = specs[name]
        assert spec.screen.PALETTE, name
        bound = {b.action for b in spec.screen.BINDINGS}
        for _title, _help, action in spec.screen.PALETTE:
            assert hasattr(spec.screen, f"action_{action}"), (name, action)
            assert action in bound, (name, action)  # and shown in the footer


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_palette_entry_runs_on_its_screen(world, make_app):
    async with make_app().run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in pilot.app.get_system_commands(pilot.app.screen)}
        assert "Jobs (F8)" in commands and "Broadcasts: Cancel the selected broadcast" in commands
        await commands["Templates: Import a template catalogue"].callback()
        await settle(pilot)
        assert pilot.app.current_mode == "templates" and isinstance(pilot.app.screen, AskValue)
