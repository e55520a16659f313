"""The admin panel's Home, Users, Transactions and Admin log through the simulated Telegram, as an
admin, as support and as a plain user with forged ``adm:`` buttons; the database is checked after
every action (state, admin log with before/after, the ledger)."""

from __future__ import annotations

from telethon import types

from bananapics.bot.delivery import deliver_once
from bananapics.models import AdminAction, Conversation, Payment, User
from bananapics.services import users
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, scenario

OPERATOR = Actor.operator("tests")


async def staff(tg, name: str, role: str) -> SimUser:
    """A user who wrote to the bot and was given ``role`` by an operator."""
    person = SimUser(tg, name, lang_code="en", username=name.lower())
    await person.start()
    users.set_role(person.id, role, actor=OPERATOR)
    return person


def log_rows(action: str, target: str | None = None) -> list[AdminAction]:
    query = AdminAction.select().where(AdminAction.action == action)
    if target is not None:
        query = query.where(AdminAction.target == target)
    return list(query.order_by(AdminAction.id))


def test_admin_command_is_for_staff_only_and_in_their_menu(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/admin")
        assert "Admin panel" not in ann.last.text
        assert "command" in ann.last.text.lower()  # the ordinary unknown-command answer
        boss = await staff(tg, "Boss", "admin")
        await bot.admin_scopes.sync(bot)
        await boss.send("/admin")
        assert boss.panel.text.startswith("🛠 Admin panel")
        assert "Today: " in boss.panel.text and "Queue: 0 waiting" in boss.panel.text
        assert "👤 Users" in boss.buttons() and "📜 Admin log" in boss.buttons()
        scope = types.BotCommandScopePeer(peer=types.InputPeerUser(boss.id, 0))
        assert ("admin", "Admin panel") in tg.commands_for(scope)
        assert tg.commands_for(types.BotCommandScopePeer(peer=types.InputPeerUser(ann.id, 0))) is None
        # demoted from the CLI: the next refresh takes /admin away
        users.set_role(boss.id, "user", actor=OPERATOR)
        await bot.admin_scopes.sync(bot)
        assert tg.commands_for(scope) is None
        await boss.send("/admin")
        assert "Admin panel" not in boss.last.text

    scenario(database, body)


def test_search_ban_confirm_once_and_the_user_is_told_once(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("👤 Users")
        await boss.press("🔎 Search")
        assert "Send a Telegram id" in boss.panel.text
        await boss.send("@ann")
        assert "Search: @ann" in boss.panel.text and "1–1 of 1" in boss.panel.text
        await boss.press("@annie")
        assert f"id {ann.id}" in boss.panel.text and "Role: User" in boss.panel.text
        await boss.press("⛔ Ban")
        await boss.send("!")  # no words: refused, asked again
        assert "short reason" in boss.panel.text
        await boss.send("x" * 300)
        assert "too long" in boss.panel.text
        assert not users.get(ann.id).banned
        await boss.send("spam links")
        confirm = boss.panel
        assert "Please confirm: ban @annie" in confirm.text and "spam links" in confirm.text
        yes = confirm.button("✅ Yes").data
        await boss.press("✅ Yes")
        assert "✅ @annie" in boss.panel.text and "banned" in boss.panel.text
        assert users.get(ann.id).banned and users.get(ann.id).ban_reason == "spam links"
        [row] = log_rows("users.ban", f"user:{ann.id}")
        assert row.actor == f"tg:{boss.id}" and row.reason == "spam links"
        assert '"banned": false' in row.before and '"banned": true' in row.after
        # the same yes again (a replay, a double tap): nothing happens
        answer = await boss.press_data(yes, message=confirm.id)
        assert answer.message == "This button is outdated."
        assert len(log_rows("users.ban", f"user:{ann.id}")) == 1
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        assert "blocked" in ann.last.text and "spam links" in ann.last.text
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        # unban: same shape
        await boss.press_data(f"adm:user:{ann.id}".encode())
        await boss.press("✅ Unban")
        await boss.send("appealed")
        await boss.press("✅ Yes")
        assert not users.get(ann.id).banned
        assert len(log_rows("users.unban", f"user:{ann.id}")) == 1

    scenario(database, body)


def test_adjust_checks_every_typed_amount_and_moves_tokens_once(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("👤 Users")
        await boss.press("@annie")
        await boss.press("➕ Add tokens")
        assert "How many tokens? @annie" in boss.panel.text and "has 50" in boss.panel.text
        for typed, says in (("ten", "not a number"), ("-5", "cannot be negative"), ("0", "Zero changes nothing"),
                            ("1000000000000", "Too big"), ("1" * 40, "Too long")):
            await boss.send(typed)
            assert says in boss.panel.text, (typed, boss.panel.text)
            assert "✖ Cancel" in boss.buttons()
        await boss.send("50")
        await boss.send("goodwill")
        assert "balance 50 → 100" in boss.panel.text
        await boss.press("✅ Yes")
        assert "@annie (%d): +50 tokens, balance 100, reason: goodwill" % ann.id in boss.panel.text
        assert users.get(ann.id).available == 100
        [row] = log_rows("ledger.adjust", f"user:{ann.id}")
        assert '"available": 50' in row.before and '"available": 100' in row.after and row.reason == "goodwill"
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        assert "+50 tokens" in ann.last.text and "Balance: 100" in ann.last.text
        # removing more than they have is refused by the ledger, shown, and changes nothing
        await boss.press("➖ Remove tokens")
        await boss.send("500")
        await boss.send("mistake")
        await boss.press("✅ Yes")
        assert "Not done" in boss.panel.text
        assert users.get(ann.id).available == 100
        # ✖ Cancel mid-way: nothing changes, the card comes back
        await boss.press("➖ Remove tokens")
        await boss.press("✖ Cancel")
        assert "Cancelled. Nothing changed." in boss.panel.text and f"id {ann.id}" in boss.panel.text
        assert Conversation.get_or_none(Conversation.user == users.get(boss.id).id) is None
        await boss.send("a cat in a hat")  # typed text is a prompt again, not an amount
        assert users.get(ann.id).available == 100
        assert_ledger_clean()

    scenario(database, body)


def test_support_may_ban_but_not_adjust_and_a_user_forging_buttons_changes_nothing(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        sam = await staff(tg, "Sam", "support")
        await sam.send("/admin")
        await sam.press("👤 Users")
        await sam.press("@annie")
        assert "➕ Add tokens" not in sam.buttons() and "🎭 Role" not in sam.buttons()
        assert "⛔ Ban" in sam.buttons()
        # a forged admin-only button from support: refused, logged, nothing changed
        await sam.press_data(f"adm:uact:{ann.id}:grant".encode())
        assert "Your role does not allow this." in sam.panel.text
        denied = AdminAction.select().where((AdminAction.actor == f"tg:{sam.id}") & (AdminAction.outcome == "denied"))
        assert [a.action for a in denied] == ["ledger.adjust"]
        await sam.press_data(f"adm:role:{ann.id}:admin".encode())
        assert users.get(ann.id).role == "user"
        await sam.press("@annie") if "@annie" in " ".join(sam.buttons()) else None
        await sam.press_data(f"adm:uact:{ann.id}:ban".encode())
        await sam.send("abuse")
        await sam.press("✅ Yes")
        assert users.get(ann.id).banned
        # a plain user forging adm: buttons: "outdated", nothing revealed, each refusal logged
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        before = User.get(User.tg_id == bob.id).available
        for data in (b"adm:home", f"adm:user:{ann.id}".encode(), f"adm:uact:{bob.id}:grant".encode(),
                     b"adm:yes:0123456789abcdef", b"adm:log:0"):
            answer = await bob.press_data(data)
            assert answer.message == "This button is outdated.", data
            assert "Admin" not in bob.panel.text
        assert User.get(User.tg_id == bob.id).available == before
        assert AdminAction.select().where((AdminAction.actor == f"tg:{bob.id}")
                                          & (AdminAction.outcome == "denied")).count() == 5
        assert AdminAction.select().where((AdminAction.actor == f"tg:{bob.id}")
                                          & (AdminAction.outcome == "ok")).count() == 0
        assert_ledger_clean()

    scenario(database, body)


def test_refund_from_the_panel_shows_the_exact_effect_then_refunds_once(database):
    from tests.test_payments_bot import buy

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        await ann.pay(await buy(ann, "⭐ 50 →"))
        [payment] = Payment.select()
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("🧾 Transactions")
        assert "Payments · all time" in boss.panel.text and "1–1 of 1" in boss.panel.text
        await boss.press("⭐ 50 → 100")
        assert "Payer: @annie" in boss.panel.text and "topup 100" in boss.panel.text
        await boss.press("↩️ Refund")
        await boss.send("asked for it")
        assert "refund ⭐ 50 to @annie" in boss.panel.text and "−100 tokens" in boss.panel.text
        await boss.press("✅ Yes")
        assert "✅ Refunded ⭐ 50" in boss.panel.text
        assert Payment.get_by_id(payment.id).status == "refunded"
        assert tg.refunds and len(log_rows("payments.refund")) == 1
        assert users.get(ann.id).available == 50
        assert "↩️ Refund" not in boss.buttons()
        assert_ledger_clean()

    scenario(database, body)


def test_transfers_filter_by_period_and_kind(database):
    from tests.test_payments_bot import buy

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        await ann.pay(await buy(ann, "⭐ 50 →"))
        boss = await staff(tg, "Boss", "admin")
        await boss.send("/admin")
        await boss.press("🧾 Transactions")
        await boss.press("📒 Transfers")
        everything = boss.panel.text
        assert "Transfers · last 24 h" in everything and "Kind: all" in everything and "topup" in everything
        await boss.press("topup")
        assert "Kind: topup" in boss.panel.text and "1–1 of 1" in boss.panel.text
        assert "• topup" in boss.buttons()
        await boss.press("grant")  # the start bonus of each user
        assert "Kind: grant" in boss.panel.text and "1–2 of 2" in boss.panel.text and "topup" not in boss.panel.text
        await boss.press("adjust")
        assert "Kind: adjust" in boss.panel.text and "Nothing here" in boss.panel.text
        await boss.press("7 days")  # the period changes, the kind stays
        assert "Kind: adjust" in boss.panel.text and "last 7 days" in boss.panel.text

    scenario(database, body)


def test_admin_log_lists_changes_with_before_after_and_filters(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        boss = await staff(tg, "Boss", "admin")
        users.ban(ann.id, reason="spam", actor=OPERATOR)
        await boss.send("/admin")
        await boss.press("📜 Admin log")
        text = boss.panel.text
        assert "📜 Admin log" in text and "cli:tests · users.ban" in text and "reason: spam" in text
        assert '{"ban_reason": null, "banned": false} → {"ban_reason": "spam", "banned": true}' in text
        await boss.press("🔎 Filter")
        await boss.send(str(boss.id))
        assert f"Filter: user:{boss.id}" in boss.panel.text and "users.role" in boss.panel.text
        assert "users.ban" not in boss.panel.text
        await boss.press("📜 Everything")
        assert "users.ban" in boss.panel.text

    scenario(database, body)


def test_a_stuck_generation_is_refunded_from_the_panel_and_support_may_do_it(database):
    from bananapics.models import Job
    from bananapics.services import jobs

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en", username="annie")
        await ann.start()
        me = users.get(ann.id)
        job = jobs.submit(me.id, "nano-banana", "a stuck banana", chat_id=ann.id)  # never enqueued: stuck
        assert users.get(ann.id).held == job.cost
        sam = await staff(tg, "Sam", "support")
        await sam.send("/admin")
        await sam.press("🧾 Transactions")
        await sam.press("⏳ Queued")
        assert "1–1 of 1" in sam.panel.text
        await sam.press("nano-banana")
        assert "a stuck banana" in sam.panel.text
        await sam.press("↩️ Refund")
        await sam.send("stuck for an hour")
        assert f"return {job.cost} tokens" in sam.panel.text
        await sam.press("✅ Yes")
        assert f"{job.cost} tokens returned" in sam.panel.text
        assert Job.get_by_id(job.id).status == "failed"
        assert users.get(ann.id).held == 0 and users.get(ann.id).available == 50
        [row] = log_rows("jobs.refund", f"job:{job.id}")
        assert row.actor == f"tg:{sam.id}" and '"status": "queued"' in row.before and row.reason == "stuck for an hour"
        assert "↩️ Refund" not in sam.buttons()
        assert_ledger_clean()

    scenario(database, body)
