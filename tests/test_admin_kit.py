"""The admin panel's kit: value parsers, the one-time confirmation, text steps that survive a bot
restart and a demotion, keyset pages "N of M", and the /admin menu following a role change."""

from __future__ import annotations

import pytest
from telethon import types

from bananapics.bot import admin_kit as kit
from bananapics.bot.app import build_bot
from bananapics.bot.ratelimit import SendLimiter
from bananapics.models import AdminAction, Conversation
from bananapics.services import conversation, users
from bananapics.services.audit import Actor
from bananapics.simtg import SimClient, SimUser
from tests.helpers import new_user, scenario

OPERATOR = Actor.operator("kit-tests")


@pytest.mark.parametrize("typed,key", [
    ("ten", "adm-bad-number"), ("", "adm-bad-number"), ("12a", "adm-bad-number"), ("²", "adm-bad-number"),
    ("-5", "adm-bad-negative"), ("−5", "adm-bad-negative"), ("0", "adm-bad-zero"),
    ("1000000000000", "adm-bad-too-big"), ("1" * 17, "adm-bad-too-long"),
])
def test_amount_refuses_with_a_reason(typed, key):
    with pytest.raises(kit.InputError) as refused:
        kit.amount(typed)
    assert refused.value.key == key


def test_amount_accepts_what_people_type():
    assert kit.amount("50") == 50
    assert kit.amount(" +1 000 ") == 1000
    assert kit.amount("1,500") == 1500
    assert kit.amount(str(kit.MAX_TOKENS)) == kit.MAX_TOKENS
    assert kit.integer("0", lo=0, hi=100) == 0
    with pytest.raises(kit.InputError):
        kit.integer("101", lo=0, hi=100)


def test_reason_and_query():
    assert kit.reason("  spam\nlinks\x1b  ") == "spam links"
    for bad in ("", " ", "!", "?!?"):
        with pytest.raises(kit.InputError):
            kit.reason(bad)
    with pytest.raises(kit.InputError):
        kit.reason("x" * (kit.REASON_MAX + 1))
    assert kit.query(" @ann ") == "@ann"
    with pytest.raises(kit.InputError):
        kit.query("x" * 65)


def test_a_confirmation_is_taken_once_and_only_with_its_nonce(database):
    user = new_user()
    conversation.expect(user.id, kit.CONFIRM_STEP, {"nonce": "aa11", "form": "f"})
    assert conversation.take(user.id, kit.CONFIRM_STEP, "bb22") is None  # an older confirmation's yes
    assert conversation.take(user.id, kit.CONFIRM_STEP, "") is None
    taken = conversation.take(user.id, kit.CONFIRM_STEP, "aa11")
    assert taken is not None and taken.data["form"] == "f"
    assert conversation.take(user.id, kit.CONFIRM_STEP, "aa11") is None  # replayed
    assert conversation.current(user.id) is None


def test_a_text_step_survives_a_bot_restart(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        boss = SimUser(tg, "Boss", lang_code="en")
        await boss.start()
        users.set_role(boss.id, "admin", actor=OPERATOR)
        await boss.press_data(f"adm:uact:{ann.id}:grant".encode())
        assert "How many tokens?" in boss.panel.text
        # the bot process goes away; a new one starts on the same database and Telegram
        await bot.client.disconnect()
        client = SimClient(telegram=tg)
        again = build_bot(bot.config, client)
        again.sender = SendLimiter(clock=tg.clock)
        await client.start(bot_token=tg.bot_token)
        await again.start(delivery_loop=False)
        try:
            await boss.send("25")
            assert "Send the reason" in boss.panel.text
            await boss.send("restart test")
            await boss.press("✅ Yes")
            assert users.get(ann.id).available == 75
        finally:
            await client.disconnect()

    scenario(database, body)


def test_a_demoted_admin_loses_the_step_and_the_confirmation(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        boss = SimUser(tg, "Boss", lang_code="en")
        await boss.start()
        users.set_role(boss.id, "admin", actor=OPERATOR)
        await boss.press_data(f"adm:uact:{ann.id}:grant".encode())
        await boss.send("25")
        await boss.send("bonus")
        assert "Please confirm" in boss.panel.text
        users.set_role(boss.id, "user", actor=OPERATOR)
        answer = await boss.press("✅ Yes")
        assert answer.message == "This button is outdated."
        assert users.get(ann.id).available == 50
        assert AdminAction.select().where((AdminAction.actor == f"tg:{boss.id}")
                                          & (AdminAction.outcome == "denied")).count() == 1
        # typed text while an admin step was pending: the step is dropped, the text is a prompt
        users.set_role(boss.id, "admin", actor=OPERATOR)
        await boss.press_data(f"adm:uact:{ann.id}:grant".encode())
        users.set_role(boss.id, "user", actor=OPERATOR)
        await boss.send("a red fox")
        assert users.get(ann.id).available == 50
        assert Conversation.get_or_none(Conversation.user == users.get(boss.id).id) is None

    scenario(database, body)


def test_pages_say_n_of_m_and_page_by_keyset(database):
    for n in range(19):
        new_user(first_name=f"Pager{n:02d}")

    async def body(tg, bot):
        boss = SimUser(tg, "Boss", lang_code="en")
        await boss.start()
        users.set_role(boss.id, "admin", actor=OPERATOR)
        await boss.send("/admin")
        await boss.press("👤 Users")
        await boss.press("🔎 Search")
        await boss.send("pager")
        assert "1–8 of 19" in boss.panel.text and "Pager18" in " ".join(boss.buttons())
        await boss.press("▶")
        assert "9–16 of 19" in boss.panel.text
        new_user(first_name="Pager19")  # a new row while paging shifts nothing
        await boss.press("▶")
        assert "17–19 of 20" in boss.panel.text and "Pager00" in " ".join(boss.buttons())
        assert "▶" not in boss.buttons()
        await boss.press("◀")
        assert "9–16 of 20" in boss.panel.text and "Pager10" in " ".join(boss.buttons())

    scenario(database, body)


def test_a_role_change_in_the_panel_updates_the_command_menu(database):
    async def body(tg, bot):
        sam = SimUser(tg, "Sam", lang_code="ru", username="sam")
        await sam.start()
        boss = SimUser(tg, "Boss", lang_code="en")
        await boss.start()
        users.set_role(boss.id, "admin", actor=OPERATOR)
        scope = types.BotCommandScopePeer(peer=types.InputPeerUser(sam.id, 0))
        assert tg.commands_for(scope) is None
        await boss.press_data(f"adm:uact:{sam.id}:role".encode())
        await boss.press("🛟 Support")
        assert "role User → Support" in boss.panel.text
        await boss.press("✅ Yes")
        assert users.get(sam.id).role == "support"
        menu = tg.commands_for(scope)
        assert menu is not None and menu[-1][0] == "admin" and menu[0][0] == "start"
        [row] = AdminAction.select().where((AdminAction.action == "users.role") & (AdminAction.target == f"user:{sam.id}")
                                           & (AdminAction.actor == f"tg:{boss.id}"))
        assert '"role": "user"' in row.before and '"role": "support"' in row.after
        await sam.send("/admin")
        assert sam.panel.text.startswith("🛠")

    scenario(database, body)
