"""The admin's switches as users meet them in the bot, through the simulated Telegram: maintenance
mode (users get the message, staff pass, payments in flight still credit), templates / top-ups /
referrals switched off, and catalog and settings changes made by another process reaching the
running bot at its next update."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

from telethon.tl import functions

from bananapics import i18n
from bananapics.models import Job, Payment
from bananapics.services import jobs, ledger, maintenance, templates, toggles, users
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from bananapics.simtg.server import Limits
from tests.helpers import assert_ledger_clean, scenario, to_confirm
from tests.test_bot_wizard import account, roomy

ADMIN = Actor.operator("ops")
EN_OFF = "This feature is switched off right now."
UZ_OFF = "Bu funksiya hozir o‘chirilgan."


def bot_texts(user: SimUser) -> list[str]:
    return [m.text for m in user.messages if m.from_bot]


# ---------------------------------------------------------------- maintenance mode

def test_maintenance_answers_users_once_per_burst_and_lets_staff_pass(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann, aziz = SimUser(tg, "Ann", lang_code="en"), SimUser(tg, "Aziz", lang_code="uz")
        helper, boss = SimUser(tg, "Helper", lang_code="en"), SimUser(tg, "Boss", lang_code="en")
        for sim in (ann, aziz, helper, boss):
            await sim.start()
        users.set_role(helper.id, "support", actor=ADMIN)
        users.set_role(boss.id, "admin", actor=ADMIN)
        panel = ann.panel
        maintenance.set_mode(True, messages={"en": "Back at 15:00"}, actor=ADMIN)

        before = len(bot_texts(ann))
        for text in ("/start", "/balance", "a cat on the moon", "/generate"):
            await ann.send(text)
        assert bot_texts(ann)[before:] == ["Back at 15:00"]  # one answer for the burst, nothing else ran
        assert Job.select().count() == 0
        press = await ann.press("Balance", message=panel)  # a button: an alert, the panel stays as it was
        assert press.alert and press.message == "Back at 15:00"
        assert ann.panel.id == panel.id and not ann.panel.edited and "Balance" in " ".join(ann.buttons())
        tg.clock.advance(60)  # a later message is told again
        await ann.send("/start")
        assert bot_texts(ann)[before:] == ["Back at 15:00", "Back at 15:00"]

        await aziz.send("/start")  # no Uzbek text given: the built-in one, in Uzbek
        assert aziz.messages[-1].text == i18n.t("uz", "maintenance-default")

        # the texts the maintenance answer points to still answer
        for command, key in (("/support", "support-text"), ("/terms", "terms-text"), ("/privacy", "privacy-text")):
            await ann.send(command)
            assert ann.messages[-1].text == i18n.t("en", key, contact=bot.config.telegram.support_contact)
        await ann.send("/paysupport")
        assert ann.panel.text.startswith(i18n.t("en", "paysupport-text", contact=bot.config.telegram.support_contact))

        for staff in (helper, boss):  # admins and support pass
            await staff.send("/balance")
            assert staff.panel.text.startswith("💰 Balance: 50 tokens")

        maintenance.set_mode(False, actor=ADMIN)
        await ann.send("/balance")
        assert ann.panel.text.startswith("💰 Balance: 50 tokens")

    scenario(database, body)


def test_an_invoice_sent_before_maintenance_is_paid_and_credited_during_it(database):
    async def body(tg, bot):
        roomy(bot, tg)
        for lang, thanks in (("en", "✅ +100 tokens. Balance: 150"), ("uz", "✅ +100 token. Balans: 150")):
            sim = SimUser(tg, "Payer", lang_code=lang)
            await sim.start()
            await sim.press(i18n.t(lang, "btn-balance"))
            await sim.press(i18n.t(lang, "btn-topup"))
            await sim.press(next(b for b in sim.buttons() if b.startswith("⭐ 50 →")))
            invoice = sim.messages[-1]
            maintenance.set_mode(True, actor=ADMIN)
            result = await sim.pay(invoice)
            assert result.ok, result.error
            assert Payment.get(Payment.charge_id == result.charge_id).tokens == 100
            assert users.get(sim.id).available == 150
            assert sim.panel.text.splitlines()[0] == thanks
            await sim.send("/balance")  # anything else is still closed
            assert sim.messages[-1].text == i18n.t(lang, "maintenance-default")
            maintenance.set_mode(False, actor=ADMIN)

    scenario(database, body)
    assert_ledger_clean()


# ---------------------------------------------------------------- feature toggles

def test_templates_switched_off_everywhere_a_user_meets_them(database):
    template = templates.admin_list()[0][0]

    async def body(tg, bot):
        roomy(bot, tg)
        for lang, off in (("en", EN_OFF), ("uz", UZ_OFF)):
            sim = SimUser(tg, "Tom", lang_code=lang)
            await sim.start()
            menu = sim.panel
            assert i18n.t(lang, "btn-templates") in sim.buttons()
            toggles.set_feature("templates", False, actor=ADMIN)
            await sim.press(i18n.t(lang, "btn-templates"), message=menu)  # a menu shown before the switch
            assert off in sim.panel.text
            assert i18n.t(lang, "btn-templates") not in sim.buttons()  # the menu has no templates buttons now
            assert i18n.t(lang, "btn-trending") not in sim.buttons()
            for command in ("/templates", "/trending"):
                await sim.send(command)
                assert off in sim.panel.text and i18n.t(lang, "btn-templates") not in sim.buttons()
            await sim.press_data(f"tpl:use:{template.id}")  # a card shown before the switch
            assert off in sim.panel.text
            await sim.send(f"/start tpl_{template.id}")
            assert off in sim.panel.text
            assert sim.record and jobs_draft_template(sim) is None
            await sim.send("/generate")  # the wizard offers no templates either
            await sim.press(sim.buttons()[0])
            assert i18n.t(lang, "btn-pick-template") not in sim.buttons()
            toggles.set_feature("templates", True, actor=ADMIN)
            await sim.send("/templates")
            assert off not in sim.panel.text

    scenario(database, body)


def jobs_draft_template(sim: SimUser):
    from bananapics.services import drafts

    return drafts.get(account(sim).id).template_id


def test_topups_paused_but_an_invoice_sent_before_still_credits(database):
    async def body(tg, bot):
        roomy(bot, tg)
        for lang in ("en", "uz"):
            sim = SimUser(tg, "Payer", lang_code=lang)
            await sim.start()
            await sim.press(i18n.t(lang, "btn-balance"))
            await sim.press(i18n.t(lang, "btn-topup"))
            panel = sim.panel
            await sim.press(next(b for b in sim.buttons() if b.startswith("⭐ 50 →")))
            invoice = sim.messages[-1]
            await sim.press(i18n.t(lang, "btn-packages"), message=panel)  # the list again, shown before the switch
            toggles.set_feature("topups", False, actor=ADMIN)
            await sim.press(next(b for b in sim.buttons(panel) if b.startswith("⭐ 100 →")), message=panel)
            assert panel.text == i18n.t(lang, "topup-off") and not any("⭐ " in b for b in sim.buttons(panel))
            assert [m.id for m in sim.messages if m.media_kind == "invoice"] == [invoice.id]  # no new invoice
            await sim.send("/balance")
            await sim.press(i18n.t(lang, "btn-topup"))
            assert sim.panel.text == i18n.t(lang, "topup-off")
            result = await sim.pay(invoice)  # sent before the switch: still paid and credited
            assert result.ok and users.get(sim.id).available == 150
            toggles.set_feature("topups", True, actor=ADMIN)

    scenario(database, body)
    assert_ledger_clean()


def test_referrals_off_the_invite_screen_says_so_and_links_bind_no_one(database):
    async def body(tg, bot):
        roomy(bot, tg)
        inviter = SimUser(tg, "Inviter", lang_code="en")
        await inviter.start()
        code = account(inviter).referral_code
        toggles.set_feature("referrals", False, actor=ADMIN)
        for lang in ("en", "uz"):
            friend = SimUser(tg, "Friend", lang_code=lang)
            await friend.start(f"ref_{code}")
            assert account(friend).referrer_id is None
            assert i18n.t(lang, "menu-welcome") in friend.panel.text
            await friend.send("/invite")
            text = friend.panel.text
            assert i18n.t(lang, "ref-off") in text and "ref_" not in text
            assert not [b for row in friend.panel.button_rows for b in row if b.kind == "url"]
            await friend.press(i18n.t(lang, "btn-menu"))
            await friend.press(i18n.t(lang, "btn-invite"))
            assert i18n.t(lang, "ref-off") in friend.panel.text
        toggles.set_feature("referrals", True, actor=ADMIN)
        await inviter.send("/invite")
        assert f"ref_{code}" in inviter.panel.text

    scenario(database, body)


# ---------------------------------------------------------------- another process changes things

CATALOG_CHANGE = """
import sys
from bananapics import db
from bananapics.config import DatabaseConfig
from bananapics.services import catalog
from bananapics.services.audit import Actor

db.connect(DatabaseConfig(url=sys.argv[1]))
admin = Actor.operator("ops")
if sys.argv[2] == "price":
    catalog.edit(sys.argv[3], base_price=int(sys.argv[4]), actor=admin)
else:
    catalog.set_enabled(sys.argv[3], False, actor=admin)
"""


def other_process(database_url: str, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-c", CATALOG_CHANGE, database_url, *args], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def cli(database_url: str, *args: str) -> None:
    exe = Path(sys.executable).parent / "bananapics"
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "BANANAPICS_DATABASE__URL": database_url})
    assert proc.returncode == 0, proc.stderr


def test_changes_made_by_another_process_reach_the_running_bot_at_the_next_update(database, database_url):
    async def body(tg, bot):
        roomy(bot, tg)
        aziz = SimUser(tg, "Aziz", lang_code="uz")
        await aziz.start()
        await to_confirm_uz(aziz, "SeeDream 4", "tulki")
        price = next(b for b in aziz.buttons() if b.startswith("✅ Yaratish — "))
        await asyncio.to_thread(other_process, database_url, "price", "seedream-4", "13")
        await aziz.press(price)  # the confirmed price is stale: asked again at the new one
        assert Job.select().count() == 0
        assert "✅ Yaratish — 13" in aziz.buttons(), aziz.buttons()
        await asyncio.to_thread(other_process, database_url, "off", "seedream-4")
        await aziz.press("✅ Yaratish — 13")
        assert Job.select().count() == 0
        assert i18n.t("uz", "error-model-disabled", model="SeeDream 4") in aziz.panel.text
        assert ledger.balance(account(aziz).id) == (50, 0)

        await asyncio.to_thread(cli, database_url, "settings", "set", "maintenance.enabled", "true")
        await aziz.send("/start")
        assert aziz.messages[-1].text == i18n.t("uz", "maintenance-default")
        await asyncio.to_thread(cli, database_url, "settings", "set", "maintenance.enabled", "false")
        await asyncio.to_thread(cli, database_url, "settings", "set", "features.templates", "false")
        await aziz.send("/start")
        assert i18n.t("uz", "btn-templates") not in aziz.buttons() and i18n.t("uz", "btn-generate") in aziz.buttons()

    scenario(database, body)
    assert_ledger_clean()


async def to_confirm_uz(user: SimUser, model: str, prompt: str) -> None:
    """``tests.helpers.to_confirm`` with the Uzbek labels."""
    await user.send("/generate")
    await user.press(next(b for b in user.buttons() if b.startswith(f"{model} ·")))
    await user.send(prompt)
    await user.press(i18n.t("uz", "btn-skip"))
    await user.press("Davom etish")


# ---------------------------------------------------------------- flood waits on direct answers

def test_a_flood_wait_on_a_legal_text_or_an_invoice_is_logged_once_not_a_traceback(database, caplog):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        tg.inject(functions.messages.SendMessageRequest, "FLOOD_WAIT_3", times=1)
        caplog.clear()
        await ann.send("/terms")  # settle() raises if a handler raised
        floods = [r for r in caplog.records if "asked to wait" in r.getMessage()]
        assert len(floods) == 1 and not floods[0].exc_info
        tg.clock.advance(10)
        await ann.send("/terms")
        assert ann.messages[-1].text == i18n.t("en", "terms-text", contact=bot.config.telegram.support_contact)

        await ann.send("/balance")
        await ann.press("Top up")
        tg.inject(functions.messages.SendMediaRequest, "FLOOD_WAIT_3", times=1)
        caplog.clear()
        await ann.press("⭐ 50 → 100 tokens")
        floods = [r for r in caplog.records if "asked to wait" in r.getMessage()]
        assert len(floods) == 1 and not floods[0].exc_info and "invoice" in floods[0].getMessage()
        assert i18n.t("en", "error-generic") in ann.panel.text
        assert not [r for r in caplog.records if r.exc_info]
        assert not [m for m in ann.messages if m.media_kind == "invoice"]

    with caplog.at_level(logging.WARNING):
        scenario(database, body, limits=Limits())


def test_a_newcomer_during_maintenance_is_greeted_and_bound_to_the_inviter_after_it(database):
    async def body(tg, bot):
        roomy(bot, tg)
        inviter = SimUser(tg, "Inviter", lang_code="en")
        await inviter.start()
        code = account(inviter).referral_code
        maintenance.set_mode(True, actor=ADMIN)
        friend = SimUser(tg, "Friend", lang_code="uz")
        await friend.start(f"ref_{code}")
        assert bot_texts(friend) == [i18n.t("uz", "maintenance-default")]
        maintenance.set_mode(False, actor=ADMIN)
        await friend.start(f"ref_{code}")  # the first /start they are served is their first /start
        assert account(friend).referrer_id == account(inviter).id
        assert i18n.t("uz", "menu-welcome-referred", name="Inviter") in friend.panel.text

    scenario(database, body)
