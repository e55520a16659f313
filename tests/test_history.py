"""History, profile and the referral screen through the simulated Telegram: pages of past jobs,
a job's detail, send again (an outbox row with the job's files), regenerate (priced and held anew),
use the prompt, someone else's job, profile figures, /invite."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from telethon import types
from telethon.helpers import add_surrogate, del_surrogate

from bananapics.bot.delivery import deliver_once
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import Draft, Job, Outbox
from bananapics.services import drafts, jobs, ledger, users
from bananapics.simtg import SimUser
from bananapics.storage import job_output_key
from tests.helpers import assert_ledger_clean, scenario


def _png(colour=(250, 200, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "PNG")
    return buf.getvalue()


def _finished(bot, user_id: int, prompt: str, *, model: str = "seedream-4", fail: bool = False) -> Job:
    """A job that ran and ended (its image stored), without waiting for the wizard."""
    job = jobs.submit(user_id, model, prompt, {}, chat_id=None)
    jobs.claim(job.id, "test")
    if fail:
        return jobs.fail(job.id, "moderation", "refused")
    key = job_output_key(job.id, 0, "png")
    bot.storage.put(key, _png(), "image/png")
    return jobs.succeed(job.id, [key])


async def _generate(user: SimUser, prompt: str, model: str = "SeeDream 4", price: int = 10) -> None:
    await user.send("/generate")
    await user.press(model)
    await user.send(prompt)
    await user.press("Skip")
    await user.press("Next")  # the settings step: defaults
    await user.press(f"Generate — {price}")


def test_history_pages_newest_first(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        uid = users.get(ann.id).id
        await ann.press("History")
        assert "No images yet" in ann.panel.text
        for n in range(1, 24):
            _finished(bot, uid, f"picture number {n}")
        await ann.send("/history")
        panel = ann.panel
        assert "History · page 1/5" in panel.text
        assert "picture number 23" in panel.text and "picture number 19" in panel.text
        assert "picture number 18" not in panel.text
        assert "· done · 10" in panel.text
        items = [b for b in ann.buttons() if b[:2] in {f"{n}." for n in range(1, 10)}]
        assert len(items) == 5 and "▶" in ann.buttons() and "◀" not in ann.buttons()
        await ann.press("▶")
        assert ann.panel.id == panel.id and "page 2/5" in ann.panel.text
        assert "picture number 18" in ann.panel.text and "picture number 14" in ann.panel.text
        await ann.press_data(b"hist:page:4")
        assert "page 5/5" in ann.panel.text and "picture number 3" in ann.panel.text
        assert "picture number 1" in ann.panel.text and "picture number 4" not in ann.panel.text
        assert "◀" in ann.buttons() and "▶" not in ann.buttons()
        await ann.press_data(b"hist:page:9999")  # past the end (jobs purged): the last page
        assert "page 5/5" in ann.panel.text
        await ann.press("21.")
        assert "picture number 3" in ann.panel.text and "Status: done · cost: 10 tokens" in ann.panel.text
        await ann.press("Back")
        assert "page 5/5" in ann.panel.text
        assert_ledger_clean()

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="1000")


def test_open_send_again_regenerate_and_reuse(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        uid = users.get(ann.id).id
        await _generate(ann, "a lighthouse in a storm")
        job = Job.get()
        assert job.status == "succeeded"
        await deliver_once(bot.client, bot.storage, bot.sender)
        sent = len(ann.messages)

        await ann.send("/history")
        await ann.press("1.")
        detail_panel = ann.panel
        detail = detail_panel.text
        assert "Model: SeeDream 4" in detail and "“a lighthouse in a storm”" in detail
        assert "Status: done · cost: 10 tokens" in detail and "Images: 1" in detail
        answer = await ann.press("Send again")
        assert answer.message == "📤 Sending the images again…"
        rows = list(Outbox.select().where(Outbox.dedupe_key.startswith(f"job:{job.id}:resend:")))
        assert len(rows) == 1 and rows[0].data["images"] == job.results and rows[0].job_id == job.id
        assert (await ann.press("Send again")).message == "⏳ They are already on their way."
        assert Outbox.select().where(Outbox.dedupe_key.startswith(f"job:{job.id}:resend:")).count() == 1
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        assert [m.media_kind for m in ann.messages[sent:]].count("photo") == 1
        assert ann.messages[-1].text == "📤 Sent again: 1 image, with the full-quality files above. Nothing was charged."
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 0
        again = await ann.press("Send again", message=detail_panel)  # once sent, it may be asked for again
        assert again.message == "📤 Sending the images again…"

        await ann.send("/history")
        await ann.press("1.")
        await ann.press("Regenerate")
        text = ann.panel.text
        assert "The same request again" in text and "Price: 10 tokens · balance after: 30" in text
        await ann.press("Generate — 10")
        assert Job.select().count() == 2
        assert ledger.balance(uid) == (30, 0)

        await ann.send("/history")
        await ann.press("2.")  # the first job is second now
        assert "a lighthouse in a storm" in ann.panel.text
        await ann.press("Use this prompt")
        assert "Prompt copied: “a lighthouse in a storm”" in ann.panel.text and "Send up to" in ann.panel.text
        draft = Draft.get(Draft.user == uid)
        assert (draft.prompt, draft.model, draft.template_id) == ("a lighthouse in a storm", "seedream-4", None)
        await ann.press("Skip")
        assert "Price: 10 tokens · balance after: 20" in ann.panel.text
        assert Job.select().count() == 2  # reuse holds nothing until confirmed
        assert_ledger_clean()

    scenario(database, body)


def test_regenerate_with_short_balance_offers_top_up(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await _generate(ann, "a tiny red boat")
        await ann.send("/history")
        await ann.press("1.")
        await ann.press("Regenerate")
        assert "Not enough tokens: the price is 10, your balance is 5" in ann.panel.text
        assert "💰 Top up (+5)" in ann.buttons() and not any("Generate —" in b for b in ann.buttons())
        assert Job.select().count() == 1
        assert ledger.balance(users.get(ann.id).id) == (5, 0)
        assert_ledger_clean()

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="15")


def test_failed_job_detail_and_files_gone(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        uid = users.get(ann.id).id
        failed = _finished(bot, uid, "refused prompt", fail=True)
        done = _finished(bot, uid, "purged later")
        bot.storage.delete(done.results[0])  # retention removed the files
        await ann.send("/history")
        assert "· failed · 0" in ann.panel.text
        await ann.press("2.")
        assert "The model refused this prompt" in ann.panel.text and "Send again" not in " ".join(ann.buttons())
        await ann.press_data(f"hist:open:{done.id}:0".encode())
        assert "no longer stored" in ann.panel.text and "Send again" not in " ".join(ann.buttons())
        answer = await ann.press_data(f"hist:send:{done.id}".encode())
        assert "no longer stored" in answer.message
        assert Outbox.select().where(Outbox.job == done.id).count() == 0
        assert failed.status == "failed"
        assert_ledger_clean()

    scenario(database, body)


def test_someone_elses_job_is_an_outdated_button(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        job = _finished(bot, users.get(bob.id).id, "bob's secret prompt")
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Generate")
        await ann.press("SeeDream 4")
        ann_draft = Draft.get(Draft.user == users.get(ann.id).id)
        outbox_before = Outbox.select().count()
        for data in (f"hist:open:{job.id}:0", f"hist:send:{job.id}", f"hist:regen:{job.id}",
                     f"hist:reuse:{job.id}", "hist:open:0123456789abcdef0123456789abcdef:0"):
            answer = await ann.press_data(data.encode())
            assert answer.message == "This button is outdated.", data
            assert "bob's secret prompt" not in ann.panel.text and "balance:" in ann.panel.text
        assert Outbox.select().count() == outbox_before
        assert Draft.get(Draft.user == users.get(ann.id).id).version == ann_draft.version
        assert Job.select().count() == 1

    scenario(database, body)


def test_profile_figures_after_some_jobs(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood
        ann = SimUser(tg, "Ann", lang_code="en", user_id=987654321)
        await ann.start()
        uid = users.get(ann.id).id
        code = users.get(ann.id).referral_code
        bob = SimUser(tg, "Bob", lang_code="ru")
        await bob.start(f"ref_{code}")
        await _generate(ann, "a golden retriever surfing")  # 10, delivered
        await _generate(ann, "nope #fail:moderation")  # refunded
        job = jobs.submit(uid, "nano-banana-pro", "still running", {}, chat_id=None)  # 30 held
        await ann.press("Menu")
        await ann.press("Profile")
        text = ann.panel.text
        assert "ID: 987654321 · language: English" in text
        assert "Balance: 10 tokens · held: 30" in text
        assert "Generations: 1 · images: 1 · spent: 10 tokens" in text
        assert "Friends invited: 1 · tokens earned: 0" in text
        await bob.send("/profile")
        assert "ID:" in bob.panel.text and "Баланс: 50 токенов · в резерве: 0" in bob.panel.text
        jobs.claim(job.id, "test")
        jobs.fail(job.id, "timeout", "slow")
        assert_ledger_clean()

    scenario(database, body)


def test_invite_screen_link_is_copyable_and_inviter_is_told(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        code = users.get(ann.id).referral_code
        await ann.send("/invite")
        link = f"https://t.me/BananaPicsBot?start=ref_{code}"
        panel = ann.panel
        assert link in panel.text and "Friends joined: 0 · tokens earned: 0" in panel.text
        assert "10% of every top-up" in panel.text
        code_entities = [e for e in panel.entities if isinstance(e, types.MessageEntityCode)]
        utf16 = add_surrogate(panel.text)  # entity offsets count UTF-16 code units
        assert [del_surrogate(utf16[e.offset:e.offset + e.length]) for e in code_entities] == [link]
        assert panel.button("Share").url.startswith("https://t.me/share/url?url=")
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start(f"ref_{code}")
        await bob.start(f"ref_{code}")  # a second /start binds nothing and tells nobody again
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        assert ann.last.text == "👋 Bob joined through your link."
        await ann.send("/invite")
        assert "Friends joined: 1" in ann.panel.text

    scenario(database, body)


def test_menu_has_every_area(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)  # a fast tester is not a flood
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        rows = [[b.text for b in row] for row in ann.panel.button_rows]
        assert rows == [["🎨 Generate"], ["🧩 Templates", "🔥 Trending"], ["🖼 History", "💰 Balance"],
                        ["👥 Invite friends", "⚙️ Settings"], ["👤 Profile", "❓ Help"]]
        assert ("profile", "My profile and statistics") in tg.commands_for(lang_code="en")
        assert drafts.get(users.get(ann.id).id).template_id is None

    scenario(database, body)


def test_my_commands_answer_in_every_language(database):
    from bananapics import i18n

    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)
        for lang in i18n.LANGUAGES:
            user = SimUser(tg, "Lola", lang_code=lang)
            await user.start()
            expected = {"/history": "history-empty", "/templates": "templates-title", "/profile": "profile-title",
                        "/invite": "ref-title"}
            for command, key in expected.items():
                await user.send(command)
                assert i18n.t(lang, key) in user.panel.text, (lang, command)
            await user.send("/trending")
            assert i18n.t(lang, "trending-title", days=7) in user.panel.text
            await user.press(i18n.t(lang, "btn-menu"))
            assert i18n.t(lang, "btn-profile") in user.buttons() and i18n.t(lang, "btn-history") in user.buttons()

    scenario(database, body)


def test_delete_from_history_unlists_and_removes_the_images(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        uid = users.get(ann.id).id
        ref = "refs/%d/%s.png" % (uid, "ab" * 32)
        bot.storage.put(ref, _png((10, 20, 30)), "image/png")
        keep = _finished(bot, uid, "a red fox")
        with_ref = jobs.submit(uid, "seedream-4", "a blue fox", {}, ref_keys=[ref], chat_id=None)
        jobs.claim(with_ref.id, "test")
        out = job_output_key(with_ref.id, 0, "png")
        bot.storage.put(out, _png(), "image/png")
        gone = jobs.succeed(with_ref.id, [out])
        balance = ledger.balance(uid)
        await ann.send("/history")
        line = next(x for x in ann.panel.text.splitlines() if "a blue fox" in x)
        await ann.press(line.split(".")[0] + ".")  # its row in the list
        detail = ann.panel
        assert "a blue fox" in detail.text
        await ann.press("Delete from history")
        assert "cannot be undone" in ann.panel.text and "a blue fox" in ann.panel.text
        await ann.press("Back")  # changed my mind: the detail again, nothing deleted
        assert "a blue fox" in ann.panel.text and bot.storage.exists(out)
        await ann.press("Delete from history")
        confirm = ann.panel
        yes = confirm.button("Yes, delete").data
        answer = await ann.press("Yes, delete")
        assert answer.message == "🗑 Deleted from your history."
        assert "a blue fox" not in ann.panel.text and "a red fox" in ann.panel.text
        assert not bot.storage.exists(out) and not bot.storage.exists(ref)
        assert bot.storage.exists(keep.results[0])
        row = Job.get(Job.id == gone.id)
        assert row.hidden_at is not None and row.status == "succeeded"  # the record stays for the money
        assert ledger.balance(uid) == balance
        # the old buttons of that job are outdated now: detail, re-send, the second tap of Yes
        answer = await ann.press_data(yes, message=confirm)
        assert answer.message == "This button is outdated."
        assert Job.select().where(Job.hidden_at.is_null(False)).count() == 1
        assert_ledger_clean()

    scenario(database, body)


def test_delete_keeps_references_still_in_use_and_refuses_running_jobs(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=10_000, burst=1_000)
        ann, bob = SimUser(tg, "Ann", lang_code="en"), SimUser(tg, "Bob", lang_code="en")
        await ann.start()
        await bob.start()
        uid = users.get(ann.id).id
        ref = "refs/%d/%s.png" % (uid, "cd" * 32)
        bot.storage.put(ref, _png((1, 2, 3)), "image/png")
        first = jobs.submit(uid, "seedream-4", "one", {}, ref_keys=[ref], chat_id=None)
        jobs.claim(first.id, "test")
        jobs.succeed(first.id, [])
        second = jobs.submit(uid, "seedream-4", "two", {}, ref_keys=[ref], chat_id=None)  # still queued
        from bananapics.services import history

        with pytest.raises(InvalidInput):
            history.delete(uid, second.id, bot.storage)
        with pytest.raises(NotFound):  # someone else's job
            history.delete(users.get(bob.id).id, first.id, bot.storage)
        history.delete(uid, first.id, bot.storage)
        assert bot.storage.exists(ref)  # the queued job still needs it
        with pytest.raises(NotFound):  # twice
            history.delete(uid, first.id, bot.storage)
        # through the bot: a running job's detail offers no Delete button
        await ann.send("/history")
        await ann.press("1.")
        assert "two" in ann.panel.text and not any("Delete" in b for b in ann.buttons())

    scenario(database, body)
