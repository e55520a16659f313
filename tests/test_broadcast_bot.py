"""📣 Broadcast through the simulated Telegram (its rate limits on): an admin composes a message step
by step (bad input refused at every step), tests it on themselves, starts it for 500 users with a
confirmation that says how many and how long; some users blocked the bot, the bot restarts midway;
every reachable user gets it exactly once, the counts add up, Telegram never answers FloodWait.
Support and plain users with forged ``adm:`` data are refused and logged; the admin log has every
change with before/after."""

from __future__ import annotations

import asyncio
import io

import pytest

from PIL import Image
from telethon import functions

from bananapics.bot.app import build_bot
from bananapics.bot.delivery import deliver_once
from bananapics.bot.ratelimit import SendLimiter
from bananapics.models import AdminAction, Broadcast, Outbox
from bananapics.services import broadcast, outbox, settings, users
from bananapics.services.audit import Actor
from bananapics.simtg import Limits, SimClient, SimUser
from tests.helpers import assert_ledger_clean, scenario

OPERATOR = Actor.operator("tests")
LIMITS = Limits()  # Telegram's limits: ~30 messages/s overall, ~1/s per chat


class Crash(BaseException):
    """The bot process dying in the middle of a send."""


async def admin(tg, name: str = "Boss", role: str = "admin") -> SimUser:
    settings.set_value("limits.user_burst", 1000, actor=OPERATOR)  # an admin clicking through a long flow
    person = SimUser(tg, name, lang_code="en", username=name.lower())
    await person.start()
    users.set_role(person.id, role, actor=OPERATOR)
    return person


def log_rows(action: str) -> list[AdminAction]:
    return list(AdminAction.select().where(AdminAction.action == action).order_by(AdminAction.id))


def png(side: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (250, 200, 40)).save(out, "PNG")
    return out.getvalue()


async def compose(boss: SimUser, text: str = "🍌 New model: SeeDream 4 is here!") -> int:
    await boss.send("/admin")
    await boss.press("📣 Broadcast")
    await boss.press("✍️ New broadcast")
    await boss.send(text)
    return Broadcast.select().order_by(Broadcast.id.desc()).get().id


def test_composer_refuses_bad_input_at_every_step(database):
    async def body(tg, bot):
        boss = await admin(tg)
        await boss.send("/admin")
        await boss.press("📣 Broadcast")
        assert "Broadcasts" in boss.panel.text and "Nothing here yet" in boss.panel.text
        await boss.press("✍️ New broadcast")
        assert "Send the message text" in boss.panel.text
        await boss.send_photo(png())  # a photo where the text is asked: nothing is made of it
        assert Broadcast.select().count() == 0
        await boss.send("Hello <b>all</b> {name} %s '; DROP TABLE users; --")
        [draft] = Broadcast.select()
        assert draft.text == "Hello <b>all</b> {name} %s '; DROP TABLE users; --" and draft.status == "draft"
        assert "Broadcast #" in boss.panel.text and "Send yourself a test first" in boss.panel.text
        assert "🚀 Start" not in boss.buttons()
        # the button: format, label, link
        await boss.press("🔗 Add button")
        for typed, says in (("no bar here", "Label | https://"), (" | https://example.com", "1 to 64"),
                            ("Open | javascript:alert(1)", "https://"), ("Open | ftp://x.org", "https://"),
                            ("Open | https://exa mple.com", "https://"), ("x" * 70 + " | https://a.org", "1 to 64")):
            await boss.send(typed)
            assert says in boss.panel.text, (typed, boss.panel.text)
            assert Broadcast.get_by_id(draft.id).button_url is None
        await boss.send("Open the bot | https://t.me/BananaPicsBot?start=promo")
        assert "🔗 Button: Open the bot → https://t.me/BananaPicsBot?start=promo" in boss.panel.text
        # the photo: text is refused, a file that is not an image too, then a photo is kept
        await boss.press("🖼 Add photo")
        await boss.send("here it is")
        assert "not a photo" in boss.panel.text and "Send one photo" in boss.panel.text
        await boss.send_photo(png())
        draft = Broadcast.get_by_id(draft.id)
        assert draft.photo_key and draft.photo_key.startswith("broadcasts/") and bot.storage.exists(draft.photo_key)
        assert "With a photo" in boss.panel.text
        # with a photo the text is a caption: a long text is refused now
        await boss.press("✏️ Text")
        await boss.send("y" * 1500)
        assert "1024" in boss.panel.text and Broadcast.get_by_id(draft.id).text.startswith("Hello")
        await boss.press("✖ Cancel")
        assert "Broadcast #" in boss.panel.text
        # the audience picker shows who it reaches
        await boss.press("👥 Audience")
        assert "Recipients now: 1" in boss.panel.text  # the admin alone
        await boss.press("🌐 Language: any")
        await boss.press("🌐 Language: O")  # uz → ru
        assert Broadcast.get_by_id(draft.id).segment_dict == {"lang": "ru"}
        assert "Recipients now: 0" in boss.panel.text
        await boss.press("✅ Done")
        await boss.press("🧪 Test send")
        await boss.press("🚀 Start")
        assert "Nobody is in this audience" in boss.panel.text and Broadcast.get_by_id(draft.id).status == "draft"
        edits = log_rows("broadcast.edit")
        assert len(edits) >= 4 and all(r.actor == f"tg:{boss.id}" and r.before and r.after for r in edits)
        assert len(log_rows("broadcast.create")) == 1

    scenario(database, body, limits=LIMITS)


def test_broadcast_to_500_users_once_each_through_blocks_and_a_restart(database):
    async def body(tg, bot):
        boss = await admin(tg)
        people = []
        for n in range(500):
            person = SimUser(tg, f"U{n}", lang_code="en")
            await person.start()
            people.append(person)
        outbox_before = Outbox.select().count()
        broadcast_id = await compose(boss, "📣 Big news for everyone")
        await boss.press("🔗 Add button")
        await boss.send("Try it | https://t.me/BananaPicsBot")
        await boss.press("🧪 Test send")
        assert "Sent to you" in boss.panel.text
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1  # the test, to the admin only
        await tg.settle()
        assert boss.last.text == "📣 Big news for everyone" and boss.last.buttons == ["Try it"]
        assert sum(1 for p in people if p.messages and p.last.text.startswith("📣")) == 0
        await boss.send("/admin")  # the test message is below the panel now: open a fresh one
        await boss.press("📣 Broadcast")
        await boss.press(f"📝 #{broadcast_id} ")
        await boss.press("🚀 Start")
        assert "Please confirm: send broadcast" in boss.panel.text and "to 501 users" in boss.panel.text
        assert "about 18 s" in boss.panel.text  # 501 at 28 messages/s
        # some users block the bot: three silently (Telegram refuses the send) …
        silent = people[100:103]
        for person in silent:
            tg.users[person.id].blocked = True
        await boss.press("✅ Yes")
        b = Broadcast.get_by_id(broadcast_id)
        assert b.status == "running" and b.total == 501  # the list is frozen now
        told = people[10:12]  # … and two after the start, telling the bot (their rows are skipped)
        for person in told:
            await person.block_bot()
        assert "Started: 501 recipients" in boss.panel.text
        [start] = log_rows("broadcast.start")
        assert start.actor == f"tg:{boss.id}" and '"recipients": 501' in start.after

        # a user-facing message goes ahead of every broadcast row
        outbox.enqueue(user_id=users.get(people[499].id).id, chat_id=people[499].id, kind="notice",
                       payload={"text": "your refund is done"}, dedupe_key="notice:urgent")
        first = outbox.claim(5)
        assert [r.kind for r in first].count("notice") == 1  # the newest row, claimed first
        assert sum(r.broadcast_id == broadcast_id for r in first) == 4
        for row in first:
            outbox.release(row.id, "test", delay_s=0)

        # batches of 5: at most 5 sends between the limiter's go and Telegram's count (the limiter keeps
        # 25/s against Telegram's 30), so no FloodWait whatever the simulated clock does meanwhile
        sent = 0
        for _ in range(40):
            sent += await deliver_once(bot.client, bot.storage, bot.sender, batch=5)
        assert 0 < sent < 501
        # the bot dies while sending a row (one in flight: a send Telegram may have taken just before a
        # death is the one repeat an outbox cannot rule out) …
        tg.inject(functions.messages.SendMessageRequest, Crash())
        with pytest.raises(Crash):
            await deliver_once(bot.client, bot.storage, bot.sender, batch=1)
        assert Outbox.select().where((Outbox.broadcast_id == broadcast_id) & (Outbox.status == "sending")).count()
        await bot.client.disconnect()
        assert tg.flood_waits == []
        # … and a new process starts a few seconds later on the same database and Telegram
        tg.clock.advance(3)
        client = SimClient(telegram=tg)
        again = build_bot(bot.config, client)
        again.sender = SendLimiter(clock=tg.clock)
        await client.start(bot_token=tg.bot_token)
        await again.start(delivery_loop=False)
        try:
            assert outbox.recover() == 1  # what the delivery loop does first at every start
            for _ in range(200):
                if not outbox.pending_count():
                    break
                await deliver_once(client, again.storage, again.sender, batch=5)
        finally:
            await client.disconnect()
        await tg.settle()

        p = broadcast.progress(broadcast_id, actor=OPERATOR)
        assert p.status == "done"
        assert (p.total, p.sent, p.blocked, p.failed, p.queued) == (501, 496, 5, 0, 0)
        assert p.sent + p.blocked + p.failed == p.total
        reachable = [person for person in people if person not in told and person not in silent]
        for person in [boss, *reachable]:
            got = [m for m in person.messages if m.text == "📣 Big news for everyone"]
            assert len(got) == (2 if person is boss else 1), (person, len(got), [
                (r.id, r.kind, r.status, r.attempts, r.parts_sent, r.last_error, r.broadcast_id)
                for r in Outbox.select().where(Outbox.chat_id == person.id)], [m.id for m in got])  # admin: test + it
        for person in [*told, *silent]:
            assert not any(m.text == "📣 Big news for everyone" for m in person.messages)
            assert users.get(person.id).blocked_bot is True
        assert tg.flood_waits == []
        assert Outbox.select().where(Outbox.broadcast_id.is_null()).count() == outbox_before + 2  # test + notice
        # a user who blocked it comes back: the broadcast they missed is not sent late
        await told[0].unblock_bot()
        assert Outbox.select().where((Outbox.broadcast_id == broadcast_id) & (Outbox.status == "pending")).count() == 0
        assert_ledger_clean()

    scenario(database, body, limits=LIMITS)


def test_pause_resume_cancel_from_the_panel(database):
    async def body(tg, bot):
        boss = await admin(tg)
        people = [SimUser(tg, f"P{n}", lang_code="en") for n in range(6)]
        for person in people:
            await person.start()
        broadcast_id = await compose(boss, "Sale today")
        await boss.press("🧪 Test send")
        await boss.press("🚀 Start")
        await boss.press("✅ Yes")
        await boss.press("⏸ Pause")
        assert "Paused" in boss.panel.text and Broadcast.get_by_id(broadcast_id).status == "paused"
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1  # the test alone: paused rows wait
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        await boss.press("▶️ Resume")
        assert Broadcast.get_by_id(broadcast_id).status == "running"
        assert await deliver_once(bot.client, bot.storage, bot.sender, batch=3) == 3
        await boss.press("🔄 Refresh")
        assert "Sent 3 of 7" in boss.panel.text and "waiting 4" in boss.panel.text
        await boss.press("✖ Cancel broadcast")
        assert "Please confirm: stop broadcast" in boss.panel.text
        await boss.press("✅ Yes")
        assert "cancelled" in boss.panel.text and "Not sent (cancelled): 4" in boss.panel.text
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        actions = [r.action for r in AdminAction.select().where(AdminAction.action.startswith("broadcast."))
                   .order_by(AdminAction.id)]
        assert actions == ["broadcast.create", "broadcast.test", "broadcast.start", "broadcast.pause",
                           "broadcast.resume", "broadcast.cancel"]
        [cancel] = log_rows("broadcast.cancel")
        assert '"status": "running"' in cancel.before and '"dropped": 4' in cancel.after

    scenario(database, body, limits=LIMITS)


def test_support_and_users_are_refused_and_logged(database):
    async def body(tg, bot):
        boss = await admin(tg)
        helper = await admin(tg, "Helper", "support")
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        broadcast_id = await compose(boss, "Only admins")
        # support sees the admin home with "not allowed"; nothing changes
        await helper.send("/admin")
        await helper.press("📣 Broadcast")
        assert "does not allow" in helper.panel.text
        for data in (f"adm:bctest:{broadcast_id}", f"adm:bcgo:{broadcast_id}", f"adm:bccancel:{broadcast_id}",
                     f"adm:bcedit:{broadcast_id}:text", "adm:bcnew"):
            await helper.press_data(data.encode())
            assert "does not allow" in helper.panel.text, data
        # a plain user with forged data: "outdated", nothing revealed
        for data in (f"adm:bcgo:{broadcast_id}", "adm:sec:broadcast", f"adm:bc:{broadcast_id}"):
            answer = await ann.press_data(data.encode())
            assert answer.message == "This button is outdated.", data
        assert Broadcast.get_by_id(broadcast_id).status == "draft" and Broadcast.get_by_id(broadcast_id).tested_at is None
        denied = AdminAction.select().where(AdminAction.outcome == "denied")
        assert denied.where(AdminAction.actor == f"tg:{helper.id}").count() >= 6
        assert denied.where(AdminAction.actor == f"tg:{ann.id}").count() >= 3
        assert Outbox.select().where(Outbox.kind == "broadcast").count() == 0

    scenario(database, body, limits=LIMITS)
