"""The bot through the simulated Telegram: /start, the panel, balance, referral link, settings,
language, help, stale and forged buttons, banned users, command menus."""

from __future__ import annotations

import pytest

from bananapics.models import User
from bananapics.services import users
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from tests.helpers import scenario


def test_start_shows_one_panel_and_navigation_edits_it(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        assert len(ann.messages) == 1
        panel = ann.panel
        assert "Welcome to BananaPics" in panel.text and "balance: 50 tokens" in panel.text
        assert any("Balance" in b for b in ann.buttons()) and any("Generate" in b for b in ann.buttons())
        answer = await ann.press("Balance")
        assert answer.answered
        assert len(ann.messages) == 1 and ann.panel.id == panel.id  # edited in place, no spam
        assert ann.panel.text.startswith("💰 Balance: 50 tokens")
        await ann.press("Menu")
        assert "Welcome" not in ann.panel.text and "balance: 50" in ann.panel.text
        await ann.send("/start")  # a new panel at the bottom; the old one loses its buttons
        assert len(ann.messages) == 2 and ann.messages[0].buttons == []

    scenario(database, body)


def test_language_from_telegram_and_switch(database):
    async def body(tg, bot):
        ivan = SimUser(tg, "Ivan", lang_code="ru")
        await ivan.start()
        from bananapics import i18n

        assert i18n.t("ru", "menu-title", balance=50) in ivan.panel.text
        assert i18n.t("ru", "menu-welcome") in ivan.panel.text
        assert users.get(ivan.id).language == "ru"
        await ivan.press("⚙️")
        await ivan.press("🌐")
        answer = await ivan.press("English")
        assert answer.message == "✅ Language: English"
        assert users.get(ivan.id).language == "en"
        assert "Settings" in ivan.panel.text

    scenario(database, body)


def test_referral_deep_link_binds_once_and_names_the_friend(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        code = users.get(ann.id).referral_code
        await ann.press("Invite")
        assert f"t.me/BananaPicsBot?start=ref_{code}" in ann.panel.text
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start(f"ref_{code}")
        assert "Ann invited you" in bob.panel.text
        assert users.get(bob.id).referrer_id == users.get(ann.id).id
        eve = SimUser(tg, "Eve", lang_code="en")
        await eve.start()
        await eve.start(f"ref_{code}")  # not on the first /start: ignored
        assert users.get(eve.id).referrer_id is None
        await ann.start(f"ref_{code}")  # own link: ignored, no crash
        assert users.get(ann.id).referrer_id is None
        await bob.start("ref_nonsense")
        await ann.press("Invite")
        assert "Friends joined: 1" in ann.panel.text

    scenario(database, body)


def test_forged_and_stale_buttons_answer_outdated_and_show_the_menu(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        for data in (b"bal:open:1", b"\xff\xfe", b"x" * 64, b"gen:model:../../etc", b"hist:open:ffff:0"):
            answer = await ann.press_data(data)
            assert answer.answered and answer.message == "This button is outdated."
            assert "balance:" in ann.panel.text
        assert User.get(User.tg_id == ann.id).available == 50

    scenario(database, body)


def test_banned_user_gets_one_short_message(database):
    async def body(tg, bot):
        spammer = SimUser(tg, "Spam", lang_code="en")
        await spammer.start()
        users.ban(spammer.id, reason="spam", actor=Actor.operator("ops"))
        before = len(spammer.messages)
        await spammer.send("/balance")
        assert len(spammer.messages) == before + 1
        assert spammer.last.text.startswith("⛔") and spammer.last.buttons == []
        answer = await spammer.press_data(b"bal:open")
        assert answer.alert and answer.message.startswith("⛔")

    scenario(database, body)


def test_command_menu_per_language_and_help_prices(database):
    async def body(tg, bot):
        assert ("balance", "Balance and top-up") in tg.commands_for(lang_code="en")
        assert tg.commands_for(lang_code="ru") and tg.commands_for(lang_code="")
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.send("/help")
        assert "Nano Banana Pro — from 30 tokens" in ann.panel.text

    scenario(database, body)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rate_limit_slows_a_flooding_user(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=6, burst=2)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        answers = [await ann.press_data(b"bal:open") for _ in range(4)]
        assert [a.message for a in answers][-1] == "⏳ Too fast. Wait a second."

    scenario(database, body)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (250, 200, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_generate_end_to_end_with_reference_and_delivery(database):
    from bananapics.bot.delivery import deliver_once
    from bananapics.models import Job
    from bananapics.services import ledger
    from tests.helpers import assert_ledger_clean

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Generate")
        assert "Choose a model" in ann.panel.text
        await ann.press("Nano Banana Pro")
        assert "Send a description" in ann.panel.text
        await ann.send("a banana astronaut")
        assert "Send up to 14 photos" in ann.panel.text
        await ann.send_photo(_jpeg())
        assert "Photos added: 1 of 14" in ann.panel.text
        await ann.press("Done")
        await ann.press("Next")  # the settings step
        assert "Price: 31 tokens · balance after: 19" in ann.panel.text
        await ann.press("Generate — 31")
        assert "Done: 1 image" in ann.panel.text  # the progress panel; the worker ran inline
        job = Job.get()
        assert (job.status, job.delivered, len(job.refs)) == ("succeeded", 1, 1)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        kinds = [m.media_kind for m in ann.messages[-3:]]
        assert kinds[:2] == ["photo", "document"] and "Done: 1 image for 31 tokens" in ann.last.text
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0  # sent once
        assert ledger.balance(users.get(ann.id).id) == (19, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_failed_generation_tells_why_and_refunds(database):
    from bananapics.bot.delivery import deliver_once
    from bananapics.services import ledger

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Generate")
        await ann.press("SeeDream 4")
        await ann.send("forbidden #fail:moderation")
        await ann.press("Skip")
        await ann.press("Next")
        await ann.press("Generate — 10")
        await deliver_once(bot.client, bot.storage, bot.sender)
        assert "The model refused this prompt" in ann.last.text and "10 tokens were returned" in ann.last.text
        assert ledger.balance(users.get(ann.id).id) == (50, 0)

    scenario(database, body)


def test_wizard_bad_input_and_stale_confirm(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", user_id=555001)
        await ann.start()
        await ann.press("Generate")
        await ann.press("GPT Image")
        await ann.send_document(b"not an image at all", "notes.txt", "text/plain")
        assert "That's not an image" in ann.panel.text
        await ann.send("x" * 2001)
        assert "too long" in ann.panel.text
        await ann.send("a cat")
        skip = ann.panel.button("Skip").data  # keep the bytes: the message itself is edited later
        await ann.press("Skip")
        await ann.press("Cancel")
        answer = await ann.press_data(skip)
        assert answer.message == "This button is outdated."
        from bananapics.models import Job

        assert Job.select().count() == 0

    scenario(database, body)


def test_not_enough_tokens_offers_top_up(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Generate")
        await ann.press("Nano Banana Pro")
        await ann.send("expensive")
        await ann.press("Skip")
        await ann.press("Next")
        assert "Not enough tokens: the price is 30, your balance is 20" in ann.panel.text
        assert "💰 Top up (+10)" in ann.buttons() and not any("Generate —" in b for b in ann.buttons())
        await ann.press("Cancel")
        await ann.press("Generate")
        await ann.press("Nano Banana ·")
        await ann.send("cheap")
        await ann.press("Skip")
        await ann.press("Next")
        assert "Price: 15 tokens · balance after: 5" in ann.panel.text

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="20")


def test_legal_commands_and_cancel(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        for command in ("/terms", "/privacy", "/support"):
            await ann.send(command)
            assert ann.last.text and ann.last.buttons == []
        await ann.send("/paysupport")  # a panel: the payments list is one tap away
        assert "@BananaPicsSupport" in ann.last.text and "🧾 Payments" in ann.last.buttons
        await ann.press("Menu")
        await ann.press("Generate")
        await ann.press("SeeDream 4")
        await ann.send("half-done idea")
        await ann.send("/cancel")
        assert "Cancelled. No tokens were charged." in ann.panel.text
        from bananapics.services import drafts

        assert drafts.get(users.get(ann.id).id).prompt is None

    scenario(database, body)


def test_welcome_is_shown_once_whoever_writes_first(database):
    async def body(tg, bot):
        from bananapics import i18n

        welcome = i18n.t("en", "menu-welcome")
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        assert welcome in ann.panel.text and "balance: 50 tokens" in ann.panel.text
        assert users.get(ann.id).welcomed  # stored welcomed with the user row: no second write
        await ann.send("/start")
        assert welcome not in ann.panel.text
        # Bob writes a prompt before ever pressing Start: no welcome yet, and his first /start (a
        # friend's link) still greets him and binds the referrer.
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.send("a cat in a hat")
        assert welcome not in bob.panel.text and not users.get(bob.id).welcomed
        await bob.send(f"/start ref_{users.get(ann.id).referral_code}")
        assert i18n.t("en", "menu-welcome-referred", name="Ann") in bob.panel.text
        assert users.get(bob.id).referrer_id == users.get(ann.id).id and users.get(bob.id).welcomed
        await bob.send("/start")
        assert "Welcome" not in bob.panel.text
        # "/startx" is an unknown command, not a /start: the user it creates is greeted later
        cyd = SimUser(tg, "Cyd", lang_code="en")
        await cyd.send("/startx")
        assert not users.get(cyd.id).welcomed
        await cyd.send("/start")
        assert welcome in cyd.panel.text

    scenario(database, body)


def test_one_update_reads_the_user_row_once(database):
    """The guard's row serves the update's screens (``bot.viewer``): a tap costs one user read."""
    import logging

    seen: list[str] = []

    class Statements(logging.Handler):
        def emit(self, record):
            if record.name == "peewee" and isinstance(record.msg, tuple):
                seen.append(str(record.msg[0]))

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        logger = logging.getLogger("peewee")
        handler, level = Statements(), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            for label in ("Balance", "Menu", "⚙️", "Menu"):
                seen.clear()
                await ann.press(label)
                rows = [sql for sql in seen if sql.startswith("SELECT") and '"welcomed"' in sql]  # the whole row
                assert len(rows) == 1, (label, seen)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        assert "balance: 50" in ann.panel.text

    scenario(database, body)
