"""The delivery loop through the simulated Telegram with its rate limits on: each image uploaded once
and re-sent by reference, FloodWait and a crash in the middle of a row never repeat a part, blocked
users, transient errors, a row never sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from telethon import functions, types

from bananapics.bot.delivery import deliver_once, send_images
from bananapics.models import Outbox, TgFile, User, utcnow
from bananapics.services import drafts, jobs, outbox, users
from bananapics.simtg import Limits, SimUser
from bananapics.worker import Runtime, run_job
from tests.helpers import assert_ledger_clean, scenario
from tests.test_jobs import Scripted

LIMITS = Limits()  # Telegram's limits, rate limits on: ~30 messages/s overall, ~1/s per chat
MULTI = functions.messages.SendMultiMediaRequest
UPLOAD = functions.messages.UploadMediaRequest


class Crash(BaseException):
    """The bot process dying in the middle of a request (nothing in the bot catches it)."""


async def finished_job(bot, sim: SimUser, count: int = 2):
    """A paid job of ``count`` images that a worker finished: one job_result row in the outbox."""
    user = users.get(sim.id)
    job = jobs.submit(user.id, "nano-banana", "two ripe bananas", {"count": count}, chat_id=sim.id)
    run_job(job.id, Runtime(storage=bot.storage, provider_for=lambda _: Scripted()))
    bot.client.telegram.clock.advance(5)  # results come seconds after the user's last action
    return jobs.get(job.id)


def kinds(sim: SimUser) -> list[str]:
    return [m.media_kind or "text" for m in sim.messages]


def due_now() -> None:
    """Time passes for the outbox's retry dates (they are real UTC timestamps)."""
    Outbox.update(next_try_at=utcnow() - dt.timedelta(seconds=1)).where(Outbox.status == "pending").execute()


def successful(tg, kind) -> int:
    return len(tg.requests_of(kind))


def test_result_sent_once_and_images_uploaded_once(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        job = await finished_job(bot, ann)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        await tg.settle()
        assert kinds(ann)[1:] == ["photo", "photo", "document", "document", "text"]
        photos = ann.messages[1:3]
        assert photos[0].grouped_id and photos[0].grouped_id == photos[1].grouped_id
        assert "two ripe bananas" in photos[0].text and ann.messages[3].file_name.startswith("bananapics-")
        assert "Done: 2 images" in ann.last.text and ann.last.buttons
        assert successful(tg, UPLOAD) == 4 and TgFile.select().count() == 4  # 2 photos + 2 files
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0  # marked sent: never again

        tg.clock.advance(5)  # a history re-send goes by reference: no upload at all
        await send_images(bot.client, bot.storage, bot.sender, ann.id, job.results, caption="again")
        await tg.settle()
        assert successful(tg, UPLOAD) == 4
        assert ann.messages[-1].raw.media.photo.id == photos[1].raw.media.photo.id

        tg.expire_file_references()  # Telegram's references expire: upload again, once
        tg.clock.advance(5)
        await send_images(bot.client, bot.storage, bot.sender, ann.id, job.results, as_document=True)
        await tg.settle()
        assert successful(tg, UPLOAD) == 6 and kinds(ann)[-2:] == ["document", "document"]
        assert [r.error for r in tg.requests if isinstance(r.request, MULTI) and r.error] == [
            "400 FILE_REFERENCE_EXPIRED"]
        tg.clock.advance(5)
        await send_images(bot.client, bot.storage, bot.sender, ann.id, job.results, as_document=True)
        assert successful(tg, UPLOAD) == 6 and tg.flood_waits == []
        assert_ledger_clean()

    scenario(database, body, limits=LIMITS)


@pytest.mark.parametrize("seconds, everyone", [(2, False), (30, True)])
def test_flood_wait_mid_row_resumes_without_repeating_a_part(database, seconds, everyone):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await finished_job(bot, ann)
        tg.inject(MULTI, f"FLOOD_WAIT_{seconds}", skip=1)  # the photos go out, the files hit a FloodWait
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        row = Outbox.get()
        assert (row.status, row.parts_sent, row.attempts, row.last_error) == ("pending", 1, 0, f"FloodWait {seconds}")
        assert kinds(ann)[1:] == ["photo", "photo"]
        assert bot.sender.paused_for(ann.id) >= seconds - 0.01  # that chat waits …
        assert (bot.sender.paused_for() > 0) is everyone  # … and everyone only after a long wait
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0  # not due yet

        tg.clock.advance(seconds + 1)
        due_now()
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        await tg.settle()
        assert kinds(ann)[1:] == ["photo", "photo", "document", "document", "text"]  # photos once
        assert successful(tg, MULTI) == 2 and successful(tg, UPLOAD) == 4
        assert Outbox.get().status == "sent" and tg.flood_waits == []

    scenario(database, body, limits=LIMITS)


def test_crash_mid_row_resumes_from_the_next_part_after_restart(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await finished_job(bot, ann, count=1)
        tg.inject(functions.messages.SendMediaRequest, Crash(), skip=1)  # dies while sending the file
        with pytest.raises(Crash):
            await deliver_once(bot.client, bot.storage, bot.sender)
        row = Outbox.get()
        assert (row.status, row.parts_sent) == ("sending", 1)
        assert outbox.recover() == 1  # the next start of the bot takes it up at once
        tg.clock.advance(5)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        await tg.settle()
        assert kinds(ann)[1:] == ["photo", "document", "text"]
        assert successful(tg, UPLOAD) == 2

    scenario(database, body, limits=LIMITS)


def test_many_rows_many_chats_paced_without_flood_waits(database):
    async def body(tg, bot):
        people = [SimUser(tg, f"User{n}", lang_code="en") for n in range(4)]
        for sim in people:
            await sim.start()
            for _ in range(2):
                await finished_job(bot, sim, count=3)
        sent = 0
        for _ in range(10):
            sent += await deliver_once(bot.client, bot.storage, bot.sender, batch=5)
            if sent == 8:
                break
        await tg.settle()
        assert sent == 8 and tg.flood_waits == []
        for sim in people:  # each chat's rows in order, nothing repeated
            assert kinds(sim)[1:] == (["photo"] * 3 + ["document"] * 3 + ["text"]) * 2
        assert_ledger_clean()

    scenario(database, body, limits=LIMITS, BANANAPICS_USERS__START_BALANCE="100")


def test_blocked_users_are_marked_and_skipped_until_they_return(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        bob = SimUser(tg, "Bob", lang_code="en")
        for sim in (ann, bob):
            await sim.start()
            await finished_job(bot, sim, count=1)
        await ann.block_bot()  # the bot hears UpdateBotStopped
        assert users.get(ann.id).blocked_bot is True
        tg.inject(functions.messages.SendMediaRequest, "USER_IS_BLOCKED")  # Bob blocked without a word
        before = len(tg.requests)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        assert {r.user_id: r.status for r in Outbox.select()} == {
            users.get(ann.id).id: "dead", users.get(bob.id).id: "dead"}
        assert not any(getattr(r.request, "peer", None) == types.InputPeerUser(ann.id, tg.users[ann.id].access_hash)
                       for r in tg.requests[before:])  # nothing at all was sent towards Ann
        assert users.get(bob.id).blocked_bot is True
        await bob.send("/start")  # writing again unblocks
        assert users.get(bob.id).blocked_bot is False
        await ann.unblock_bot()
        assert users.get(ann.id).blocked_bot is False
        # what they missed while the bot was blocked arrives now, once: photo, file, closing text
        tg.clock.advance(10)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 2
        await tg.settle()
        for sim in (ann, bob):
            kinds = [m.media_kind for m in sim.messages if m.media_kind]
            assert kinds == ["photo", "document"], (sim, kinds)
            assert sim.messages[-1].text.startswith("✅ Done: 1 image")
        assert {r.status for r in Outbox.select()} == {"sent"}
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        tg.clock.advance(10)
        await bob.send("/start")  # nothing dropped any more: no second copy
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0

    scenario(database, body, limits=LIMITS)


def test_transient_errors_retry_with_backoff(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await finished_job(bot, ann, count=1)
        tg.inject(functions.messages.SendMessageRequest, ConnectionError("connection reset"))
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        row = Outbox.get()
        assert (row.status, row.parts_sent, row.attempts) == ("pending", 2, 1)
        assert row.next_try_at > utcnow() and "connection reset" in row.last_error
        tg.clock.advance(5)
        due_now()
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        await tg.settle()
        assert kinds(ann)[1:] == ["photo", "document", "text"]

    scenario(database, body, limits=LIMITS)


def test_the_bot_does_not_answer_its_own_delivered_messages(database):
    """Telegram also hands the bot the messages it sent itself (``getDifference`` after a gap or a
    restart lists every new message of its chats): a delivered notice and a delivered album coming
    back that way are not taken for the user's prompt or reference photos — no answer, no panel."""
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        outbox.enqueue(user_id=users.get(ann.id).id, chat_id=ann.id, kind="notice",
                       payload={"text": "📣 Bananas are 20% off this weekend!"}, dedupe_key="own:1")
        await finished_job(bot, ann)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 2
        await tg.settle()
        seen = len(ann.messages)
        requests = len(tg.requests)
        for own in [m.raw for m in ann.messages if m.text.startswith("📣") or m.media_kind == "photo"]:
            update = tg._store(ann.record, own, outgoing=True)  # as getDifference would list it again
            tg._push([update], [ann.record])
            await tg.settle()
        await asyncio.sleep(0.6)  # an album is dispatched 0.5 s after its last part
        await tg.settle()
        assert len(ann.messages) == seen  # the same messages again (same ids), nothing the bot said about them
        assert not [r for r in tg.requests[requests:] if isinstance(r.request, (
            functions.messages.SendMessageRequest, functions.messages.EditMessageRequest))]
        assert drafts.get(users.get(ann.id).id).prompt in (None, "")  # the notice is not the user's prompt
        assert User.select().where(User.tg_id == tg.bot.id).count() == 0  # nor is the bot a user

    scenario(database, body, limits=LIMITS)

