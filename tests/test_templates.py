"""Templates and trending: the seeded starter set, browsing by category (one panel, preview photos),
picking a template fills the draft and its generation is counted, trending order, deep links, and
the admin service (role check, audit rows)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from PIL import Image
from telethon import functions

from bananapics.errors import InvalidInput, NotFound, PermissionDenied
from bananapics.models import AdminAction, Draft, Job, Template, TemplateCategory, TemplateUse, utcnow
from bananapics.models.templates import LANGS
from bananapics.services import ledger, pricing, settings, templates, users
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, new_user, scenario

ADMIN = Actor.operator("ops")
TITLES = {"uz": "Tog‘ manzarasi", "ru": "Горный пейзаж", "en": "Mountain view"}
PROMPTS = {"uz": "Qorli tog‘lar, tong", "ru": "Снежные горы на рассвете", "en": "Snowy mountains at dawn"}


def _jpeg(colour=(40, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(buf, "JPEG")
    return buf.getvalue()


def _by_title(title: str) -> Template:
    return Template.get(Template.title_en == title)


def _relax(bot) -> None:
    bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood


def test_seeded_starter_set(database):
    cats = list(TemplateCategory.select())
    seeded = list(Template.select())
    assert len(cats) == 4 and 8 <= len(seeded) <= 12
    assert {t.category_id for t in seeded} == {c.slug for c in cats}
    for template in seeded:
        for lang in LANGS:
            assert template.title(lang).strip() and len(template.prompt(lang)) > 40
        assert len({template.title(lang) for lang in LANGS}) >= 2  # really translated
        pricing.normalise(pricing.load_model(template.model), template.settings_dict)  # valid defaults
    assert [c.slug for c, n in templates.categories()] == ["portrait", "art", "business", "fun"]
    assert settings.get("trending.days") == 7


def test_browse_pick_generate_counts_a_use(database):
    async def body(tg, bot):
        _relax(bot)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        uid = users.get(ann.id).id
        await ann.press("Templates")
        panel = ann.panel
        assert "Templates. Choose a category" in panel.text and "🎨 Art styles · 3" in ann.buttons()
        await ann.press("Art styles")
        assert ann.panel.id == panel.id and "Art styles · 1/3" in ann.panel.text
        assert "Watercolour city" in ann.panel.text and "Model: SeeDream 4 · 10 tokens" in ann.panel.text
        assert "◀" not in ann.buttons()
        await ann.press("▶")
        assert "Art styles · 2/3" in ann.panel.text and "3D cartoon character" in ann.panel.text
        assert "Used" not in ann.panel.text
        await ann.press("Use")
        assert ann.panel.id == panel.id  # still one panel
        assert "Template “3D cartoon character” applied" in ann.panel.text and "Send up to 14 photos" in ann.panel.text
        draft = Draft.get(Draft.user == uid)
        template = _by_title("3D cartoon character")
        assert (draft.model, draft.prompt, draft.template_id) == ("nano-banana", template.prompt_en, template.id)
        assert json.loads(draft.settings) == {"aspect_ratio": "1:1"}
        await ann.press("Skip")
        await ann.press("Next")  # the settings step keeps the template's settings
        await ann.press("Generate — 15")
        job = Job.get()
        assert job.prompt == template.prompt_en and job.settings_dict["aspect_ratio"] == "1:1"
        assert [(u.template_id, u.job_id) for u in TemplateUse.select()] == [(template.id, job.id)]
        await ann.press("Menu")
        await ann.press("Trending")
        assert "📌 3D cartoon character · 1 use" in ann.panel.text
        await ann.press("3D cartoon character")
        assert "Used 1 time" in ann.panel.text
        assert ledger.balance(uid) == (35, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_pick_from_the_wizard_and_own_words_drop_the_template(database):
    async def body(tg, bot):
        _relax(bot)
        ann = SimUser(tg, "Ann", lang_code="ru")
        await ann.start()
        uid = users.get(ann.id).id
        await ann.send("/generate")
        await ann.press("GPT Image")
        await ann.press("Выбрать шаблон")
        assert "Шаблоны" in ann.panel.text
        await ann.press("Товары и реклама")
        await ann.press("▶")
        assert "Блюдо для меню" in ann.panel.text
        await ann.press("Использовать")
        draft = Draft.get(Draft.user == uid)
        assert draft.model == "gpt-image" and draft.prompt.startswith("Аппетитное фото")
        assert json.loads(draft.settings) == {"aspect_ratio": "3:2", "quality": "medium"}
        await ann.send("мой собственный текст")  # their own words: no longer the template's generation
        assert Draft.get(Draft.user == uid).template_id is None
        await ann.press("Пропустить")
        await ann.press("Далее")
        await ann.press("Создать — 11")
        assert Job.select().count() == 1 and TemplateUse.select().count() == 0
        assert_ledger_clean()

    scenario(database, body)


def test_preview_photos_keep_one_panel(database):
    async def body(tg, bot):
        _relax(bot)
        watercolour = _by_title("Watercolour city")
        templates.store_preview(bot.storage, watercolour.id, _jpeg(), actor=ADMIN)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Templates")
        await ann.press("Art styles")
        card = ann.panel
        assert card.media_kind == "photo" and "Watercolour city" in card.text  # the panel became a photo
        assert len(ann.messages) == 1
        uploads = len(tg.requests_of(functions.upload.SaveFilePartRequest))
        await ann.press("▶")  # no preview: a text panel replaces the photo one
        assert ann.panel.media_kind is None and "3D cartoon character" in ann.panel.text
        assert len(ann.messages) == 1 and ann.panel.id != card.id
        await ann.press("◀")  # text → photo in place, without a second upload
        assert ann.panel.media_kind == "photo" and len(ann.messages) == 1
        assert len(tg.requests_of(functions.upload.SaveFilePartRequest)) == uploads
        await ann.press("Menu")
        assert ann.panel.media_kind is None and "balance:" in ann.panel.text and len(ann.messages) == 1
        await ann.send("/templates")
        await ann.press("Art styles")
        await ann.send("a prompt typed while a photo card is the panel")
        assert ann.messages[-2].media_kind == "photo" and ann.messages[-2].buttons == []  # old panel: no buttons

    scenario(database, body)


def test_trending_order_window_and_pins(database):
    async def body(tg, bot):
        _relax(bot)
        for template in list(Template.select().where(Template.pinned == True)):  # noqa: E712
            templates.pin(template.id, actor=ADMIN, pinned=False)
        user = new_user()
        now = utcnow()
        portrait, poster, pet, anime = (_by_title(t) for t in ("Studio portrait", "Sale poster", "Astronaut pet",
                                                               "Anime landscape"))
        uses = [(poster, 1)] * 3 + [(pet, 2)] + [(pet, 12)] * 5 + [(anime, 20)]
        for n, (template, days_ago) in enumerate(uses):
            TemplateUse.create(template=template.id, user=user.id, job_id=f"{n:032x}",
                               created_at=now - dt.timedelta(days=days_ago))
        templates.pin(portrait.id, actor=ADMIN)
        assert [(t.title_en, n) for t, n in templates.trending()] == \
            [("Studio portrait", 0), ("Sale poster", 3), ("Astronaut pet", 1)]
        settings.set_value("trending.days", 30, actor=ADMIN)
        assert [t.title_en for t, _ in templates.trending()] == \
            ["Studio portrait", "Astronaut pet", "Sale poster", "Anime landscape"]
        settings.set_value("trending.days", 7, actor=ADMIN)
        templates.toggle(poster.id, actor=ADMIN)  # hidden templates never trend
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Trending")
        text = ann.panel.text
        assert "most used in the last 7 days" in text
        assert text.index("📌 Studio portrait") < text.index("Astronaut pet · 1 use")
        assert "Sale poster" not in text and "Anime landscape" not in text
        assert ann.buttons()[:2] == ["📌 Studio portrait", "2. Astronaut pet"]

    scenario(database, body)


def test_template_deep_link_opens_the_wizard(database):
    async def body(tg, bot):
        _relax(bot)
        template = _by_title("Business headshot")
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start(f"tpl_{template.id}")
        text = bob.panel.text
        assert "Welcome to BananaPics" in text and "Template “Business headshot” applied" in text
        assert "Send up to 14 photos" in text
        draft = Draft.get(Draft.user == users.get(bob.id).id)
        assert (draft.template_id, draft.model) == (template.id, "nano-banana-pro")
        for payload in ("tpl_99999", "tpl_abc", "tpl_"):
            await bob.start(payload)
            assert "This template is no longer available" in bob.panel.text
            assert "Choose a category" in bob.panel.text
        await bob.send("/templates")
        await bob.press("Portraits")
        await bob.press("▶")
        share = bob.panel.button("Share").url
        assert f"start%3Dtpl_{template.id}" in share

    scenario(database, body)


def test_hidden_template_buttons_and_forged_data(database):
    async def body(tg, bot):
        _relax(bot)
        template = _by_title("Sale poster")
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press_data(f"tpl:open:{template.id}".encode())
        assert "Sale poster" in ann.panel.text
        templates.toggle(template.id, actor=ADMIN)
        await ann.press("Use")
        assert "no longer available" in ann.panel.text and Draft.select().count() == 0
        await ann.press_data(b"tpl:cat:nosuchcat:0")
        assert "no longer available" in ann.panel.text
        for data in (b"tpl:use:0", b"tpl:cat:Bad:0", b"trend:page:-1"):
            assert (await ann.press_data(data)).message == "This button is outdated."

    scenario(database, body)


def test_admin_crud_with_audit_and_role_check(database):
    nobody = Actor(name="tg:1", role="user")
    support = Actor(name="tg:2", role="support")
    for actor in (nobody, support):
        with pytest.raises(PermissionDenied):
            templates.create(actor=actor, category="art", titles=TITLES, prompts=PROMPTS)
        with pytest.raises(PermissionDenied):
            templates.toggle(1, actor=actor)
        with pytest.raises(PermissionDenied):
            templates.delete(1, actor=actor, reason="x")
    assert Template.select().count() == 12  # nothing changed but one denial row per refused call
    assert [a.outcome for a in AdminAction.select()] == ["denied"] * 6

    with pytest.raises(InvalidInput):  # GPT Image has no resolution setting
        templates.create(actor=ADMIN, category="art", titles=TITLES, prompts=PROMPTS, model="gpt-image",
                         settings={"resolution": "4K"})
    with pytest.raises(InvalidInput):
        templates.create(actor=ADMIN, category="art", titles={"en": "Only English"}, prompts=PROMPTS)
    with pytest.raises(InvalidInput):
        templates.create(actor=ADMIN, category="nope", titles=TITLES, prompts=PROMPTS)
    assert Template.select().count() == 12 and AdminAction.select().count() == 6  # the six denials

    made = templates.create(actor=ADMIN, category="art", titles=TITLES, prompts=PROMPTS, model="seedream-4",
                            settings={"aspect_ratio": "16:9"}, sort=5, reason="winter set")
    assert made.active and not made.pinned and made.title("ru") == "Горный пейзаж"
    changed = templates.update(made.id, actor=ADMIN, titles={**TITLES, "en": "Mountains at dawn"}, sort=1)
    assert changed.title_en == "Mountains at dawn"
    assert not templates.toggle(made.id, actor=ADMIN).active
    with pytest.raises(NotFound):
        templates.get(made.id)
    assert templates.pin(made.id, actor=ADMIN).pinned
    with pytest.raises(InvalidInput):
        templates.delete(made.id, actor=ADMIN, reason=" ")
    TemplateUse.create(template=made.id, user=new_user().id, job_id="f" * 32)
    templates.delete(made.id, actor=ADMIN, reason="duplicate")
    assert Template.get_or_none(Template.id == made.id) is None and TemplateUse.select().count() == 0
    log = [(a.action, a.target, a.actor) for a in AdminAction.select().where(AdminAction.outcome == "ok").order_by(AdminAction.id)]
    target = f"template:{made.id}"
    assert log == [(action, target, "cli:ops") for action in
                   ("templates.create", "templates.update", "templates.toggle", "templates.pin", "templates.delete")]
    update = AdminAction.get(AdminAction.action == "templates.update")
    assert json.loads(update.before) == {"sort": 5, "title_en": "Mountain view"}
    assert json.loads(update.after) == {"sort": 1, "title_en": "Mountains at dawn"}
    assert AdminAction.get(AdminAction.action == "templates.delete").reason == "duplicate"

    category = templates.save_category("winter", names={"uz": "❄️ Qish", "ru": "❄️ Зима", "en": "❄️ Winter"},
                                       sort=50, actor=ADMIN)
    assert category.name("ru") == "❄️ Зима"
    with pytest.raises(InvalidInput):
        templates.save_category("Bad Slug", names={"uz": "a", "ru": "b", "en": "c"}, actor=ADMIN)
    assert AdminAction.select().where(AdminAction.action == "templates.category").count() == 1
    assert_ledger_clean()


def test_a_preview_gone_from_storage_shows_the_card_as_text(database):
    """Retention or a wiped disk took the preview image: the card still opens, as a text panel."""
    async def body(tg, bot):
        _relax(bot)
        watercolour = _by_title("Watercolour city")
        templates.store_preview(bot.storage, watercolour.id, _jpeg(), actor=ADMIN)
        bot.storage.delete(Template.get_by_id(watercolour.id).preview_key)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Templates")
        await ann.press("Art styles")
        assert ann.panel.media_kind is None and "Watercolour city" in ann.panel.text
        assert len(ann.messages) == 1

    scenario(database, body)


def test_again_on_a_templates_job_counts_one_more_use(database):
    """Again (drafts.repeat) of a job made from a template counts for the template like a confirm
    through the wizard does; a double tap (the same pressed message) counts once."""
    from bananapics.services import drafts, jobs

    user = new_user(100)
    settings.set_value("limits.user_parallel_jobs", 5, actor=Actor("cli:test", "admin"), reason="four jobs wait here")
    template = _by_title("3D cartoon character")
    first = jobs.submit(user.id, "nano-banana", template.prompt_en, {"aspect_ratio": "1:1"}, job_id="a" * 32)
    templates.record_use(template.id, user.id, first.id)
    again = drafts.repeat(user.id, first.id, chat_id=None, pressed=7)
    assert drafts.repeat(user.id, first.id, chat_id=None, pressed=7).id == again.id
    assert sorted(u.job_id for u in TemplateUse.select()) == sorted([first.id, again.id])
    plain = jobs.submit(user.id, "nano-banana", "no template", job_id="b" * 32)
    drafts.repeat(user.id, plain.id, chat_id=None, pressed=8)
    assert TemplateUse.select().count() == 2
    assert_ledger_clean()
