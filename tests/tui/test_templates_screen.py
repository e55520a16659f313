"""Templates through Pilot: hide, pin, reorder, delete, and import a catalogue file (dry-run report
first; a bad file writes nothing); asserted on the database."""

from __future__ import annotations

import json

import pytest

from bananapics.models import AdminAction, Template, TemplateCategory
from bananapics.services import templates_io
from bananapics.tui.dialogs import ReasonConfirm
from tests.tui.conftest import OPERATOR, settle
from tests.tui.screens_helpers import answer, go_to, keys, type_into

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def some(world):
    """At least two templates in one category (the seed may have none)."""
    if Template.select().count() < 2:
        cat = TemplateCategory.select().first()
        slug = cat.slug if cat else "fun"
        if cat is None:
            TemplateCategory.insert(slug=slug, name_uz="a", name_ru="a", name_en="Fun", sort=0).execute()
        for n in range(2):
            Template.insert(category=slug, title_uz=f"t{n}", title_ru=f"t{n}", title_en=f"Title {n}",
                            prompt_uz="p", prompt_ru="p", prompt_en="p", sort=n * 10).execute()
    return world


async def test_hide_pin_move_delete(some, make_app):
    first = Template.select().order_by(Template.category, Template.sort, Template.id).first()
    async with make_app(start="templates").run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert len(keys(pilot.app)) == Template.select().count()
        await go_to(pilot, str(first.id))
        await answer(pilot, "h")
        await answer(pilot, *"stale", "enter")
        assert Template.get_by_id(first.id).active is False
        await go_to(pilot, str(first.id))
        await answer(pilot, "p")
        await answer(pilot, *"promo", "enter")
        assert Template.get_by_id(first.id).pinned is True
        await go_to(pilot, str(first.id))
        await answer(pilot, "j")
        same = [t.id for t in Template.select().where(Template.category == first.category_id)
                .order_by(Template.sort, Template.id)]
        assert same.index(first.id) == 1
        await go_to(pilot, str(first.id))
        await answer(pilot, "delete")
        assert isinstance(pilot.app.screen, ReasonConfirm)
        await answer(pilot, *"gone", "enter")
    assert Template.get_or_none(Template.id == first.id) is None
    actions = [a.action for a in AdminAction.select().order_by(AdminAction.id)]
    assert actions[-4:] == ["templates.toggle", "templates.pin", "templates.reorder", "templates.delete"]


async def test_import_a_catalogue_file(some, make_app, tmp_path):
    document = templates_io.export_catalogue(actor=OPERATOR)
    document["categories"].append({"slug": "new-cat", "names": {"uz": "Yangi", "ru": "Новое", "en": "New"}, "sort": 99})
    document["templates"].append({"category": "new-cat", "titles": {"uz": "a", "ru": "б", "en": "Imported"},
                                  "prompts": {"uz": "p", "ru": "p", "en": "a cat in a hat"}})
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(document))
    count = Template.select().count()
    async with make_app(start="templates").run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await answer(pilot, "i")
        await type_into(pilot, "#value", str(path))
        assert isinstance(pilot.app.screen, ReasonConfirm)
        effect = str(pilot.app.screen.query_one("#effect").render())
        assert "categories: 1 (new-cat) new" in effect and "templates: 1" in effect
        assert Template.select().count() == count  # the dry run wrote nothing
        await answer(pilot, *"spring catalogue", "enter")
        await settle(pilot)
        assert len(keys(pilot.app)) == count + 1
    assert Template.get(Template.title_en == "Imported").category_id == "new-cat"


async def test_a_bad_catalogue_writes_nothing(some, make_app, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"templates": [{"category": "nope", "titles": {}, "prompts": {}}]}))
    count, logged = Template.select().count(), AdminAction.select().count()
    async with make_app(start="templates").run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await answer(pilot, "i")
        await type_into(pilot, "#value", str(path))
        assert not isinstance(pilot.app.screen, ReasonConfirm)
        await answer(pilot, "i")
        await type_into(pilot, "#value", str(tmp_path / "missing.json"))
        assert "no file" in str(pilot.app.screen.query_one("#problem").render())
    assert Template.select().count() == count and AdminAction.select().count() == logged
