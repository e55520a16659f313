"""The admin panel's Pricing (models, packages), Referrals, Templates/Trending and System sections
through the simulated Telegram, as an admin, as support and as a plain user forging ``adm:`` buttons;
the database is checked after every action (state, admin log with before/after, the ledger)."""

from __future__ import annotations

import io
import json

from PIL import Image

from bananapics.models import ModelSlot, AdminAction, AiModel, Job, Package, Payment, Setting, Template, TemplateCategory
from bananapics.services import jobs, settings, users
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, scenario, to_confirm
from tests.test_admin_panel_ops import log_rows, staff
from tests.test_bot_wizard import roomy


def jpeg(color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), color).save(out, "JPEG")
    return out.getvalue()


async def typed(user: SimUser, *values: str) -> None:
    for value in values:
        await user.send(value)


async def bad_inputs(user: SimUser, cases) -> None:
    """Each typed value is refused with its message and the same question (✖ Cancel still there)."""
    for typed_value, says in cases:
        await user.send(typed_value)
        assert says in user.panel.text, (typed_value, user.panel.text)
        assert "✖ Cancel" in user.buttons()


NUMBER_CASES = (("ten", "not a number"), ("-5", "cannot be negative"), ("1" * 40, "Too long"),
                ("10000000000", "Too big"))


def test_price_edit_previews_the_cost_logs_it_and_changes_the_next_confirm_screen(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("💲 Pricing")
        assert "Models and prices" in boss.panel.text
        await boss.press("SeeDream 4")
        card = boss.panel.text
        assert "Base price: 10 tokens per image" in card and "Example, 1 image, default settings: base 10 = 10" in card
        await boss.press("💰 Base price")
        assert "new base price? Now: 10" in boss.panel.text
        await bad_inputs(boss, NUMBER_CASES)
        await boss.send("12")
        assert "✅ SeeDream 4: base price 10 → 12." in boss.panel.text
        assert "Example, 1 image, default settings: base 12 = 12 tokens" in boss.panel.text
        assert AiModel.get_by_id("seedream-4").base_price == 12
        [row] = log_rows("catalog.edit", "model:seedream-4")
        assert json.loads(row.before) == {"base_price": 10} and json.loads(row.after) == {"base_price": 12}
        assert row.actor == f"tg:{boss.id}"
        # a resolution extra, picked by its button
        await boss.press("+ 4K")
        await boss.send("9")
        assert "extra for 4K 6 → 9" in boss.panel.text
        assert json.loads(AiModel.get_by_id("seedream-4").pricing)["resolution"]["4K"] == 9
        await boss.press("🔢 Max images")
        await bad_inputs(boss, (("0", "Too small"), ("11", "Too big")))
        await boss.send("2")
        assert AiModel.get_by_id("seedream-4").limits_dict["max_count"] == 2
        # its own concurrency cap (0: back to the shared limit)
        await boss.press("⚙️ Concurrency")
        await bad_inputs(boss, (("1001", "Too big"), ("x", "not a number")))
        await boss.send("3")
        assert "concurrency (0 = the shared limit) 0 → 3" in boss.panel.text
        assert ModelSlot.get_by_id("seedream-4").cap == 3 and len(log_rows("catalog.concurrency", "model:seedream-4")) == 1
        # the user's next confirm screen charges the new price
        await to_confirm(ann, "SeeDream 4", "a lighthouse")
        assert "Generate — 12" in " ".join(ann.buttons())
        await ann.press("Generate — 12")
        [job] = Job.select()
        assert job.cost == 12 and users.get(ann.id).available == 50 - 12
        assert_ledger_clean()

    scenario(database, body)


def test_switching_a_model_off_refunds_its_queued_jobs_on_confirm_and_hides_it_from_the_wizard(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = users.get(ann.id)
        job = jobs.submit(me.id, "nano-banana", "waiting banana", chat_id=ann.id)  # never enqueued: queued
        assert users.get(ann.id).held == job.cost
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("💲 Pricing")
        await boss.press("✅ Nano Banana ·")
        await boss.press("⛔ Switch off")
        assert "Queued generations: 1" in boss.panel.text
        await boss.press("refund 1 queued")
        assert "Please confirm: switch Nano Banana off and refund its 1 queued" in boss.panel.text
        assert AiModel.get_by_id("nano-banana").enabled  # nothing yet
        await boss.press("✅ Yes")
        assert "Nano Banana is off. Refunded generations: 1" in boss.panel.text
        assert not AiModel.get_by_id("nano-banana").enabled
        assert Job.get_by_id(job.id).status == "failed" and users.get(ann.id).held == 0
        assert users.get(ann.id).available == 50
        [row] = log_rows("catalog.disable", "model:nano-banana")
        assert json.loads(row.after)["refunded_jobs"] == [job.id]
        await ann.send("/generate")
        assert not any(b.startswith("Nano Banana ·") for b in ann.buttons())
        # on again: at once, logged; then the default
        await boss.press("✅ Switch on")
        assert AiModel.get_by_id("nano-banana").enabled and len(log_rows("catalog.enable")) == 1
        await ann.send("/generate")
        assert any(b.startswith("Nano Banana ·") for b in ann.buttons())
        await boss.press_data(b"adm:model:nano-banana-pro")
        await boss.press("⭐ Make default")
        assert AiModel.get_by_id("nano-banana-pro").is_default and not AiModel.get_by_id("nano-banana").is_default
        assert len(log_rows("catalog.default", "model:nano-banana-pro")) == 1
        assert_ledger_clean()

    scenario(database, body)


def test_a_package_edit_changes_the_next_top_up_screen_but_not_an_invoice_already_sent(database):
    from tests.test_payments_bot import buy

    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        old_invoice = await buy(ann, "⭐ 50 →")
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("💲 Pricing")
        await boss.press("📦 Stars packages")
        await boss.press("⭐ 50 → 100")
        assert "Package #" in boss.panel.text and "on sale" in boss.panel.text
        await boss.press("🪙 Tokens")
        await bad_inputs(boss, NUMBER_CASES + (("0", "Too small"),))
        await boss.send("130")
        assert "tokens 100 → 130" in boss.panel.text
        package = Package.get(Package.stars == 50)
        assert package.tokens == 130
        [row] = log_rows("packages.edit", f"package:{package.id}")
        assert json.loads(row.before) == {"bonus_tokens": 0, "tokens": 100} or '"tokens": 100' in row.before
        # the next top-up screen shows the new terms; the invoice sent before keeps the old ones
        await ann.send("/balance")
        await ann.press("Top up")
        assert any("⭐ 50 → 130" in b for b in ann.buttons())
        await ann.pay(old_invoice)
        [payment] = Payment.select()
        assert payment.tokens == 100 and users.get(ann.id).available == 150
        # off sale, moved, a new package
        await boss.press("⛔ Take off sale")
        assert not Package.get_by_id(package.id).active and len(log_rows("packages.deactivate")) == 1
        await boss.press("⬇️")
        assert len(log_rows("packages.reorder")) == 1
        first = Package.select().order_by(Package.sort, Package.id).first()
        assert first.id != package.id
        await boss.press("Back")
        await boss.press("➕ New package")
        await bad_inputs(boss, (("abc", "not a number"), ("0", "Too small")))
        await typed(boss, "75", "160", "5")
        assert "Please confirm: add a package: ⭐ 75 → 160 tokens + 5% (8 bonus)" in boss.panel.text
        await boss.press("✅ Yes")
        assert Package.get(Package.stars == 75).tokens == 160 and len(log_rows("packages.create")) == 1
        assert_ledger_clean()

    scenario(database, body)


def test_referral_rule_and_the_cashback_figures(database):
    from tests.test_payments_bot import buy

    async def body(tg, bot):
        roomy(bot, tg)
        bob = SimUser(tg, "Bob", lang_code="en", username="bobby")
        await bob.start()
        code = users.get(bob.id).referral_code
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start(f"ref_{code}")
        await ann.pay(await buy(ann, "⭐ 50 →"))
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("👥 Referrals")
        text = boss.panel.text
        assert "Programme: on · cashback 10% of every top-up" in text
        assert "Cashback paid: 10 tokens in 7 days · 10 in 30 days" in text
        assert f"1. @bobby ({bob.id}) · 1 friends · 10 / 10 tokens" in text
        await boss.press("✏️ Percent")
        await bad_inputs(boss, (("101", "Too big"), ("-1", "cannot be negative"), ("x", "not a number")))
        await boss.send("15")
        assert "Cashback 10% → 15%" in boss.panel.text
        assert settings.get("referral.percent") == 15
        await boss.press("First top-up only")
        assert settings.get("referral.mode") == "first" and "✓ First top-up only" in boss.buttons()
        await boss.press("⛔ Turn off")
        assert settings.get("features.referrals") is False
        rows = [a.target for a in AdminAction.select().where(AdminAction.actor == f"tg:{boss.id}")
                .where(AdminAction.action.in_(("settings.set", "toggles.set")))]
        assert rows == ["setting:referral.percent", "setting:referral.mode", "setting:features.referrals"]
        assert_ledger_clean()

    scenario(database, body)


def test_templates_create_in_three_languages_with_a_preview_photo_then_edit_pin_hide_move_delete(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("🧩 Templates")
        assert "Templates (" in boss.panel.text and "1–8 of 12" in boss.panel.text
        await boss.press("➕ New template")
        category = TemplateCategory.select().order_by(TemplateCategory.sort).first()
        await boss.press(category.name_en)
        assert "Title in UZ" in boss.panel.text
        await bad_inputs(boss, (("x" * 65, "Too long"),))
        await typed(boss, "Tog‘", "Горы", "Mountains", "Tog‘lar", "Горы утром", "Mountains at dawn")
        assert "Default model id" in boss.panel.text
        await bad_inputs(boss, (("dall-e-9", "No such model"),))
        await boss.send("seedream-4")
        await bad_inputs(boss, (("aspect_ratio", "key=value"), ("colour=red", "key=value")))
        await boss.send("aspect_ratio=16:9")
        assert "Please confirm: add template “Mountains”" in boss.panel.text
        await boss.press("✅ Yes")
        template = Template.get(Template.title_en == "Mountains")
        assert template.title_ru == "Горы" and template.prompt_uz == "Tog‘lar" and template.model == "seedream-4"
        assert template.settings_dict == {"aspect_ratio": "16:9"} and template.active
        [row] = log_rows("templates.create", f"template:{template.id}")
        assert json.loads(row.after)["title_en"] == "Mountains"
        # the card, then a preview photo sent as a photo (typed text is asked again)
        await boss.press_data(f"adm:tpl:{template.id}".encode())
        await boss.press("🖼 Preview photo")
        await boss.send("here it comes")
        assert "Send the preview as a photo" in boss.panel.text
        await boss.send_photo(jpeg())
        template = Template.get_by_id(template.id)
        assert template.preview_key and bot.storage.get(template.preview_key)
        assert "Preview photo saved" in boss.panel.text and boss.panel.media_kind == "photo"
        # edit the prompts, pin, hide, move, each logged
        await boss.press("✏️ Prompts")
        await typed(boss, "Tog‘lar kechqurun", "Горы вечером", "Mountains at dusk")
        assert Template.get_by_id(template.id).prompt_en == "Mountains at dusk"
        await boss.press("📌 Pin")
        assert Template.get_by_id(template.id).pinned and "pinned to trending" in boss.panel.text
        await boss.press("🙈 Hide")
        assert not Template.get_by_id(template.id).active
        await boss.press("⬆️")
        assert len(log_rows("templates.reorder")) == 1
        # the trending window (a setting), with bad input
        await boss.press("Back")
        await boss.press("🔥 Trending window: 7 days")
        await bad_inputs(boss, (("0", "Too small"), ("400", "Too big")))
        await boss.send("14")
        assert settings.get("trending.days") == 14
        # delete: a reason, the exact effect, yes
        await boss.press_data(f"adm:tpl:{template.id}".encode())
        await boss.press("🗑 Delete")
        await boss.send("!")
        assert "short reason" in boss.panel.text
        await boss.send("duplicate")
        assert "Please confirm: delete template “Mountains”" in boss.panel.text
        await boss.press("✅ Yes")
        assert Template.get_or_none(Template.id == template.id) is None
        [row] = log_rows("templates.delete", f"template:{template.id}")
        assert row.reason == "duplicate" and json.loads(row.before)["title_en"] == "Mountains"
        # a category
        await boss.press("🗂 Categories")
        await boss.press("➕ New category")
        await bad_inputs(boss, (("Bad Slug!", "An id is"),))
        await typed(boss, "space", "Koinot", "Космос", "Space")
        assert TemplateCategory.get_by_id("space").name_ru == "Космос"
        assert_ledger_clean()

    scenario(database, body)


def test_system_toggles_maintenance_and_limits(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("🛠 System")
        text = boss.panel.text
        assert "Queue: 0 waiting" in text and "No worker heartbeat" in text
        assert "breaker closed" in text and "Features: templates on · referrals on · top-ups on" in text
        assert "Maintenance mode: off" in text
        await boss.press("✅ Top-ups")
        assert settings.get("features.topups") is False and "Top-ups: off" in boss.panel.text
        # maintenance on asks the message and a confirmation
        await boss.press("🛠 Maintenance on")
        await bad_inputs(boss, (("x" * 1001, "Too long"),))
        await boss.send("Back at five")
        assert "Please confirm: turn maintenance mode ON. Users get: “Back at five”" in boss.panel.text
        await boss.press("✅ Yes")
        assert settings.get("maintenance.enabled") is True
        await ann.send("/start")
        assert ann.last.text == "Back at five"
        await boss.send("/admin")  # admins pass
        assert boss.panel.text.startswith("🛠 Admin panel")
        await boss.press("🛠 System")
        await boss.press("✅ Maintenance off")
        assert settings.get("maintenance.enabled") is False
        # a limit, with bad input
        await boss.press("🧵 Parallel jobs")
        await bad_inputs(boss, (("0", "Too small"), ("21", "Too big"), ("two", "not a number")))
        await boss.send("3")
        assert settings.get("limits.user_parallel_jobs") == 3 and "parallel generations per user: 2 → 3" in boss.panel.text
        row = log_rows("settings.set", "setting:limits.user_parallel_jobs")[-1]
        assert json.loads(row.before) == {"limits.user_parallel_jobs": 2} and row.actor == f"tg:{boss.id}"
        # a model switched off from here too; a breaker shown open
        from bananapics.models import ModelBreaker, utcnow
        import datetime as dt
        ModelBreaker.create(model="gpt-image", state="open", failures=5, open_until=utcnow() + dt.timedelta(minutes=1),
                            last_error="provider_down")
        await boss.press("🔄 Refresh")
        assert "breaker ⚠️ open until" in boss.panel.text
        assert_ledger_clean()

    scenario(database, body)


def test_support_reads_but_cannot_change_and_a_user_forging_buttons_changes_nothing(database):
    async def body(tg, bot):
        roomy(bot, tg)
        sam = await staff(tg, "Sam", "support")
        await sam.send("/admin")
        for section in ("💲 Pricing", "👥 Referrals", "🧩 Templates", "🛠 System"):
            await sam.send("/admin")
            await sam.press(section)
        await sam.send("/admin")
        await sam.press("💲 Pricing")
        await sam.press("SeeDream 4")
        assert "Base price" in sam.panel.text and "💰 Base price" not in sam.buttons()
        template = Template.select().first()
        forged = (b"adm:mset:seedream-4:base", b"adm:moff:seedream-4:refund", b"adm:ptog:1", b"adm:refpct",
                  f"adm:tdel:{template.id}".encode(), b"adm:maint:on", b"adm:sset:limits.user_burst", b"adm:ftog:topups")
        for data in forged:
            await sam.press_data(data)
            assert "Your role does not allow this." in sam.panel.text, data
        denied = AdminAction.select().where((AdminAction.actor == f"tg:{sam.id}") & (AdminAction.outcome == "denied"))
        assert denied.count() == len(forged)
        assert AdminAction.select().where((AdminAction.actor == f"tg:{sam.id}") & (AdminAction.outcome == "ok")).count() == 0
        assert AiModel.get_by_id("seedream-4").enabled and Package.get_by_id(1).active
        assert Setting.get_or_none(Setting.key == "maintenance.enabled") is None or not settings.get("maintenance.enabled")
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        for data in (b"adm:models", b"adm:mset:seedream-4:base", b"adm:pkgs", b"adm:refs", b"adm:tpls:0",
                     f"adm:tedit:{template.id}:photo".encode(), b"adm:sys", b"adm:maint:on"):
            answer = await bob.press_data(data)
            assert answer.message == "This button is outdated.", data
        assert AdminAction.select().where((AdminAction.actor == f"tg:{bob.id}")
                                          & (AdminAction.outcome == "denied")).count() == 8
        assert Template.get_by_id(template.id).preview_key == template.preview_key
        assert_ledger_clean()

    scenario(database, body)
