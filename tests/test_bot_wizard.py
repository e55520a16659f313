"""The generate wizard and a job's life as the user sees it, through the simulated Telegram:
every model end to end (local provider and the fake provider servers), settings and their
prices, references (photo, file, albums, the model's maximum), bad input, progress with the
upload_photo action, results and failures with their buttons, restarts, forged buttons, rate
limits and every command in all three languages."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from PIL import Image
from telethon import functions

from bananapics import i18n
from bananapics.bot.app import build_bot
from bananapics.bot.delivery import deliver_once
from bananapics.bot.progress import pump_once
from bananapics.bot.ratelimit import SendLimiter, UserLimiter
from bananapics.bot.wizard import token
from bananapics.db import atomic
from bananapics.models import AiModel, Draft, Job
from bananapics.services import drafts, ledger, settings, users
from bananapics.services.audit import Actor
from bananapics.simtg import ManualClock, SimClient, SimUser
from tests.fakes.fixtures import gemini_fake, openai_fake  # noqa: F401 - pytest fixtures
from tests.helpers import assert_ledger_clean, scenario, to_confirm

UPLOAD_PHOTO = "SendMessageUploadPhotoAction"
OPS = Actor.operator("tests")


def picture(n: int = 0, fmt: str = "JPEG", size: tuple[int, int] = (96, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, ((n * 37) % 256, (n * 91) % 256, (n * 53 + 40) % 256)).save(buf, fmt)
    return buf.getvalue()


def roomy(bot, tg) -> None:
    """Tests act faster than people: lift the per-user flood limit, pace deliveries on the sim clock."""
    bot.limiter.update(rate_per_min=60_000, burst=10_000)
    bot.sender = SendLimiter(clock=tg.clock)


def account(user: SimUser):
    return users.get(user.id)


def draft_of(user: SimUser) -> Draft:
    return drafts.get(account(user).id)


async def deliver(bot) -> int:
    return await deliver_once(bot.client, bot.storage, bot.sender)


async def lighthouse_delivered(tg, bot) -> tuple[SimUser, int]:
    """Ann (English) through the wizard: SeeDream 4, "a lighthouse", 10 tokens, delivered; returns
    her simulated user and account id."""
    roomy(bot, tg)
    ann = SimUser(tg, "Ann", lang_code="en")
    await ann.start()
    await to_confirm(ann, "SeeDream 4", "a lighthouse")
    await ann.press("Generate — 10")
    await deliver(bot)
    return ann, account(ann).id


class HeldQueue:
    """A queue that keeps job ids instead of running them, so a job can be watched while it waits."""

    def __init__(self):
        self.ids: list[str] = []

    def enqueue_after_commit(self, job_id: str) -> None:
        self.ids.append(job_id)

    def run(self, bot, job_id: str):
        from bananapics.wiring import build_runtime
        from bananapics.worker import run_job

        return run_job(job_id, build_runtime(bot.config))


def reference_files(bot) -> list:
    folder = bot.storage.root / "refs"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# ------------------------------------------------------------------------------ every model

MODEL_RUNS = {
    # model: (button, settings to pick as (row, option), expected price line, total, count, ext);
    # every run adds one reference photo (1 token each, free on SeeDream)
    "nano-banana": ("Nano Banana ·", [("Aspect ratio", "16:9"), ("Resolution", "2K"), ("Images", "×2")],
                    "Price: 2 × 24 = 48 tokens", 48, 2, "png"),
    "nano-banana-pro": ("Nano Banana Pro", [("Resolution", "4K"), ("Images", "×2")],
                        "Price: 2 × 56 = 112 tokens", 112, 2, "png"),
    "seedream-4": ("SeeDream 4", [("Resolution", "4K"), ("Format", "PNG"), ("Images", "×3")],
                   "Price: 3 × 16 = 48 tokens", 48, 3, "png"),
    "gpt-image": ("GPT Image", [("Quality", "High"), ("Format", "WEBP"), ("Aspect ratio", "3:2")],
                  "Price: 31 tokens", 31, 1, "webp"),
}


@pytest.mark.parametrize("model_id", sorted(MODEL_RUNS))
def test_whole_generate_flow_for_each_model_with_the_local_provider(database, model_id):
    button, picks, price_line, total, count, ext = MODEL_RUNS[model_id]

    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Generate")
        await ann.press(button)
        await ann.send("a banana astronaut on the moon")
        await ann.send_photo(picture(1))
        await ann.press("Done")
        assert ann.panel.text.startswith("⚙️ Settings for")
        for row, option in picks:
            await ann.press(row)
            answer = await ann.press(option)
            assert answer.message == "✅ Saved"
        assert f"Next — {total} tokens" in " ".join(ann.buttons())
        await ann.press("Next")
        assert price_line in ann.panel.text and f"balance after: {200 - total}" in ann.panel.text
        await ann.press(f"Generate — {total}")
        assert f"Done: {count} image" in ann.panel.text  # the progress panel; the worker ran inline
        job = Job.get()
        assert (job.model, job.status, job.count, job.cost, len(job.refs)) == (model_id, "succeeded", count, total, 1)
        assert ledger.balance(account(ann).id) == (200 - total, 0)
        assert await deliver(bot) == 1
        media = [m for m in ann.messages if m.media_kind]
        assert len(media) == 2 * count  # the pictures, then the full-quality files
        assert all(m.file_name.endswith(f".{ext}") for m in media[count:])
        # a WEBP result goes up as a JPEG photo (Telegram's photo formats); the file keeps the original
        assert [m.media_kind for m in media[:count]] == ["photo"] * count
        assert f"Done: {count} image" in ann.last.text
        assert ann.buttons() == ["🔁 Again", "✏️ Edit prompt", "🆕 New", "🏠 Menu"]
        assert_ledger_clean()

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="200")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_generate_through_the_fake_provider_servers(database, gemini_fake, openai_fake):  # noqa: F811
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("Nano Banana ·")
        await ann.send("a lighthouse in a storm")
        await ann.send_photo(picture(3))
        await ann.press("Done")
        await ann.press("Aspect ratio")
        await ann.press("16:9")
        await ann.press("Resolution")
        await ann.press("2K")
        await ann.press("Images")
        await ann.press("×2")
        await ann.press("Next")
        assert "Price: 2 × 24 = 48 tokens" in ann.panel.text  # base 15 + 2K 8 + 1 reference
        await ann.press("Generate — 48")
        calls = gemini_fake.requests
        assert len(calls) == 2  # Gemini makes one image per call
        body_ = calls[0].json
        assert body_["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
        assert any("inlineData" in part for part in body_["contents"][0]["parts"])  # the reference
        await deliver(bot)
        assert [m.media_kind for m in ann.messages[-5:]] == ["photo", "photo", "document", "document", None]
        assert ledger.balance(account(ann).id) == (2, 0)
        assert_ledger_clean()

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="50", **_fake_env(gemini_fake, openai_fake))


def _fake_env(gemini, openai) -> dict[str, str]:
    return {"BANANAPICS_PROVIDERS__FORCE_PROVIDER": "", "BANANAPICS_PROVIDERS__TIMEOUT_S": "5",
            "BANANAPICS_PROVIDERS__GEMINI_BASE_URL": f"{gemini.url}/v1beta",
            "BANANAPICS_PROVIDERS__GEMINI_API_KEY": gemini.key,
            "BANANAPICS_PROVIDERS__OPENAI_BASE_URL": f"{openai.url}/v1",
            "BANANAPICS_PROVIDERS__OPENAI_API_KEY": openai.key}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_provider_refusal_through_the_fake_server_is_refunded(database, gemini_fake, openai_fake):  # noqa: F811
    async def body(tg, bot):
        roomy(bot, tg)
        openai_fake.script("moderation_blocked")
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("GPT Image")
        await ann.send("something the safety system refuses")
        await ann.press("Skip")
        await ann.press("Quality")
        await ann.press("Medium")
        await ann.press("Next")
        await ann.press("Generate — 11")
        assert len(openai_fake.requests) == 1
        assert Job.get().status == "failed"
        await deliver(bot)
        assert "The model refused this prompt" in ann.last.text and "11 tokens were returned" in ann.last.text
        assert ledger.balance(account(ann).id) == (50, 0)
        assert_ledger_clean()

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="50", **_fake_env(gemini_fake, openai_fake))


# ------------------------------------------------------------------------------ settings and price


def test_settings_change_the_price_and_invalid_choices_are_refused(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Generate")
        await ann.press("Nano Banana Pro")
        await ann.send("a red fox in the snow")
        await ann.press("Skip")
        assert ann.buttons() == ["Aspect ratio: 1:1", "Resolution: 1K", "Images: ×1", "✅ Next — 30 tokens",
                                 "◀ Back", "✖ Cancel"]  # no quality or format row: this model has none
        await ann.press("Resolution")
        assert ann.buttons() == ["✓ 1K · 30", "2K · 30", "4K · 55", "◀ Back"]
        await ann.press("4K")
        assert "Resolution: 4K" in ann.buttons() and "✅ Next — 55 tokens" in ann.buttons()
        await ann.press("Images")
        await ann.press("×3")
        assert "✅ Next — 165 tokens" in ann.buttons()
        await ann.press("Next")
        text = ann.panel.text
        assert "Model: Nano Banana Pro · 4K · 1:1 · ×3" in text and "Per image: base 30 + 4K +25" in text
        assert "Price: 3 × 55 = 165 tokens" in text
        assert "Not enough tokens: the price is 165, your balance is 50" in text
        assert ann.buttons()[0] == "💰 Top up (+115)"
        me = account(ann).id
        before = draft_of(ann)
        tok = token(before)
        for data, reason in ((f"gen:q:{tok}:high", "does not support that option"),
                             (f"gen:n:{tok}:9", "makes 1 to 4 images per request"),
                             (f"gen:ar:{tok}:1x4", "does not support that option")):
            answer = await ann.press_data(data)
            assert reason in answer.message and reason in ann.panel.text
            tok = token(draft_of(ann))
        assert draft_of(ann).settings_dict == before.settings_dict  # nothing changed
        answer = await ann.press_data(f"gen:go:{tok}:165")  # balance is short: refused, nothing held
        assert Job.select().count() == 0 and ledger.balance(me) == (50, 0)

        await ann.press("Edit")
        await ann.press("Settings")
        await ann.press("Images")
        await ann.press("×1")
        await ann.press("Resolution")
        await ann.press("1K")
        await ann.press("Next")
        assert "Price: 30 tokens · balance after: 20" in ann.panel.text
        stale_go = ann.panel.button("Generate — 30").data
        await ann.press("Edit")
        await ann.press("Settings")
        await ann.press("Resolution")
        await ann.press("4K")
        answer = await ann.press_data(stale_go)  # an older confirm screen: outdated, no job
        assert answer.message == "This button is outdated." and Job.select().count() == 0

        # the admin lowers the model's limit after the user chose ×3: refused with the reason
        await ann.send("/generate")
        await ann.press("Nano Banana Pro")
        await ann.send("three foxes")
        await ann.press("Skip")
        await ann.press("Images")
        await ann.press("×3")
        limits = json.loads(AiModel.get_by_id("nano-banana-pro").limits)
        AiModel.update(limits=json.dumps({**limits, "max_count": 2})).where(AiModel.id == "nano-banana-pro").execute()
        await ann.press("Next")
        assert "Nano Banana Pro makes 1 to 2 images per request" in ann.panel.text
        assert not any("Generate" in b for b in ann.buttons())
        await ann.press_data(f"gen:go:{token(draft_of(ann))}:90")
        assert Job.select().count() == 0 and ledger.balance(me) == (50, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_edit_and_back_steps(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("SeeDream 4")
        await ann.send("an old castle")
        await ann.press("Skip")
        await ann.press("Back")  # settings → references
        assert "Send up to 10 photos" in ann.panel.text
        await ann.press("Back")  # references → prompt, the current prompt shown
        assert "Now: “an old castle”" in ann.panel.text
        await ann.press("Keep it")
        assert "Check your request" in ann.panel.text
        await ann.press("Edit")
        assert ann.buttons() == ["🎨 Model", "✏️ Edit prompt", "🖼 References", "⚙️ Settings", "◀ Back", "✖ Cancel"]
        await ann.press("Edit prompt")
        await ann.send("a new castle at dawn")  # replacing the prompt returns to the confirm screen
        assert "Prompt: “a new castle at dawn”" in ann.panel.text
        await ann.press("Edit")
        await ann.press("Model")
        await ann.press("GPT Image")  # the prompt is kept: straight back to confirm, GPT's price
        assert "Model: GPT Image" in ann.panel.text and "Price: 5 tokens" in ann.panel.text
        await ann.send("a castle made of sugar")  # text on the confirm screen updates the prompt there
        assert "Description updated" in ann.panel.text and "sugar" in ann.panel.text
        answer = await ann.press("Cancel")
        assert answer.message == "Cancelled. No tokens were charged." and "balance:" in ann.panel.text
        assert draft_of(ann).prompt is None and Job.select().count() == 0

    scenario(database, body)


# ------------------------------------------------------------------------------ references


def test_references_from_photo_document_and_album(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send_photo(picture(1))  # a photo before any prompt: kept, then the prompt is asked
        assert "Photos added: 1 of 14" in ann.panel.text and "Send a description" in ann.panel.text
        await ann.send("two cats on a sofa")
        await ann.send_document(picture(2, "PNG"), "cat.png", "image/png")  # an image sent as a file
        assert "Photos added: 2 of 14" in ann.panel.text
        await ann.send_album([picture(3), picture(4), picture(5)], caption="three cats on a sofa")
        assert "Photos added: 5 of 14" in ann.panel.text
        assert draft_of(ann).prompt == "three cats on a sofa"  # the album's caption is the prompt
        await ann.send_photo(picture(1))  # the same photo again is not added twice
        assert "Photos added: 5 of 14" in ann.panel.text and "Kept" not in ann.panel.text
        await ann.press("Remove last")
        assert "The last photo was removed" in ann.panel.text and len(draft_of(ann).refs) == 4
        await ann.press("Done")
        await ann.press("Next")
        assert "References: 4" in ann.panel.text and "4 references +4" in ann.panel.text
        await ann.press("Edit")
        await ann.press("References")
        await ann.press("Clear")
        assert "Photos removed" in ann.panel.text and draft_of(ann).refs == []
        assert ann.buttons()[0] == "Skip ▶"

    scenario(database, body)


def test_an_album_of_30_photos_keeps_the_models_maximum(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("Nano Banana ·")
        await ann.send("a collage")
        pictures = [picture(n) for n in range(30)]
        downloads = len(tg.requests_of(functions.upload.GetFileRequest))
        for part in range(3):  # a client sends 30 photos as albums of 10
            await ann.send_album(pictures[part * 10:(part + 1) * 10])
            if part == 0:
                assert "Photos added: 10 of 14" in ann.panel.text and "Kept" not in ann.panel.text
            if part == 1:
                assert "Kept 4 of 10 photos: Nano Banana takes at most 14. The rest were not added." in ann.panel.text
        assert "Nano Banana takes at most 14 photos, and you have added them all" in ann.panel.text
        assert "Photos added: 14 of 14" in ann.panel.text
        assert len(draft_of(ann).refs) == 14 and len(reference_files(bot)) == 14
        # the 16 that did not fit were never downloaded
        assert len(tg.requests_of(functions.upload.GetFileRequest)) - downloads == 14
        await ann.press("Done")
        await ann.press("Next")
        assert "Price: 29 tokens" in ann.panel.text  # 15 + 14 references × 1
        await ann.press("Edit")
        await ann.press("Model")
        await ann.press("SeeDream 4")  # takes at most 10: the draft keeps 10 and says so
        assert "Kept 10 of 14 photos: SeeDream 4 takes at most 10" in ann.panel.text
        assert "References: 10" in ann.panel.text and len(draft_of(ann).refs) == 10

    scenario(database, body)


def test_not_an_image_and_oversize_files_change_nothing(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("GPT Image")
        await ann.send("a logo")
        await ann.send_photo(picture(1))
        before = draft_of(ann)
        files = reference_files(bot)
        webp = io.BytesIO()
        Image.new("RGBA", (512, 512), (255, 0, 0, 100)).save(webp, "WEBP")
        gif = io.BytesIO()
        Image.new("RGB", (32, 32), (0, 255, 0)).save(gif, "GIF")
        senders = [
            lambda: ann.send_sticker(webp.getvalue()),
            lambda: ann.send_voice(b"OggS voice"),
            lambda: ann.send_video(b"mp4 video"),
            lambda: ann.send_video(b"mp4 round", round_message=True),
            lambda: ann.send_document(b"%PDF-1.4 brief", "brief.pdf", "application/pdf"),
            lambda: ann.send_document(gif.getvalue(), "anim.gif", "image/gif"),
            lambda: ann.send_document(b"not really a png", "fake.png", "image/png"),
        ]
        for send in senders:
            await send()
            assert "That's not an image. Send a photo or a JPEG, PNG or WebP file." in ann.panel.text
        downloads = len(tg.requests_of(functions.upload.GetFileRequest))
        big = picture(2, "PNG") + b"\0" * (11 * 1024 * 1024)
        await ann.send_document(big, "huge.png", "image/png")
        assert "This image is too large (limit 10 MB)" in ann.panel.text
        assert len(tg.requests_of(functions.upload.GetFileRequest)) == downloads  # refused before downloading
        after = draft_of(ann)
        assert (after.refs, after.prompt, after.model, after.settings) == (before.refs, before.prompt, before.model,
                                                                           before.settings)
        assert reference_files(bot) == files and len(files) == 1

    scenario(database, body)


# ------------------------------------------------------------------------------ prompts


def test_prompt_too_long_and_empty(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("Nano Banana Pro")
        prompt = "a very detailed scene " * 228  # 5,016 characters
        assert len(prompt) > 5000
        with pytest.raises(ValueError):
            await ann.send(prompt)  # above Telegram's 4096: a client splits it into messages
        await ann.send(prompt[:4096])
        assert "The description is too long: 4,096 characters, the limit is 2,000" in ann.panel.text
        assert draft_of(ann).prompt is None and "Send a description" in ann.panel.text
        await ann.send("\u200b\u200b\u2060")  # invisible characters only
        assert "The description is empty" in ann.panel.text and draft_of(ann).prompt is None
        answer = await ann.press_data(f"gen:next:{token(draft_of(ann))}")  # confirm without a prompt
        assert answer.answered and "The description is empty" in ann.panel.text
        assert Job.select().count() == 0

    scenario(database, body)


# ------------------------------------------------------------------------------ results and failures


def test_result_buttons_again_edit_and_new(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        me = None
        await ann.start()
        me = account(ann).id
        await to_confirm(ann, "SeeDream 4", "a lighthouse")
        await ann.press("Generate — 10")
        await deliver(bot)
        assert ledger.balance(me) == (15, 0)
        result = ann.panel
        await ann.press("Again", message=result)  # the same request, priced and held anew
        assert "Done: 1 image" in ann.panel.text  # the worker ran inline (immediate queue)
        assert Job.select().count() == 2 and ledger.balance(me) == (5, 0)
        first, second = Job.select().order_by(Job.created_at)
        assert (second.prompt, second.model, second.settings) == (first.prompt, first.model, first.settings)
        await deliver(bot)
        await ann.press("Again")  # 5 tokens left: refused clearly, nothing held
        assert "Not enough tokens: 5 available, 10 needed." in ann.panel.text
        assert ann.buttons()[0] == "💰 Top up (+5)"
        assert Job.select().count() == 2 and ledger.balance(me) == (5, 0)
        await ann.press("Edit prompt")  # a new draft from the job, at the prompt step
        assert "Now: “a lighthouse”" in ann.panel.text
        await ann.send("a lighthouse at night")
        assert "Check your request" in ann.panel.text and "Model: SeeDream 4" in ann.panel.text
        assert draft_of(ann).prompt == "a lighthouse at night"
        await ann.press_data(b"res:new")  # 🆕 New under a result
        assert "Choose a model" in ann.panel.text and draft_of(ann).prompt is None
        assert_ledger_clean()

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="25")


def test_again_after_a_price_change_asks_first(database):
    """Again repeats at the price paid; when the admin changed the price since, the confirm screen
    shows the new one and nothing is held until the user confirms it."""
    async def body(tg, bot):
        ann, me = await lighthouse_delivered(tg, bot)
        result = ann.panel
        with atomic():
            AiModel.update(base_price=12).where(AiModel.id == "seedream-4").execute()
        await ann.press("Again", message=result)
        assert "The price has changed" in ann.panel.text and "12 tokens" in ann.panel.text
        assert Job.select().count() == 1 and ledger.balance(me) == (40, 0)
        await ann.press("Generate — 12")
        assert Job.select().count() == 2 and ledger.balance(me) == (28, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_failure_refunds_and_offers_try_again_and_another_model(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await to_confirm(ann, "Nano Banana Pro", "a forbidden scene #fail:moderation")
        await ann.press("Generate — 30")
        assert "The model refused this prompt" in ann.panel.text  # the panel already knows (inline worker)
        assert "30 tokens were returned" in ann.panel.text
        await deliver(bot)
        failure = ann.last
        assert "The model refused this prompt" in failure.text and "30 tokens were returned" in failure.text
        assert failure.buttons == ["✏️ Edit prompt", "🔁 Try again", "🔀 Other model", "🏠 Menu"]
        assert ledger.balance(me) == (50, 0)
        await ann.press("Try again", message=failure)
        assert Job.select().count() == 2 and ledger.balance(me) == (50, 0)  # failed again, refunded again
        await ann.press("Other model")
        assert "Same description. Choose another model" in ann.panel.text
        await ann.press("GPT Image")
        assert "Model: GPT Image" in ann.panel.text and "#fail:moderation" in ann.panel.text
        assert "Price: 5 tokens" in ann.panel.text
        assert_ledger_clean()

    scenario(database, body)


def test_progress_panel_refresh_and_upload_photo_action(database):
    async def body(tg, bot):
        roomy(bot, tg)
        queue = HeldQueue()
        bot.tasks = queue
        ann, bob = SimUser(tg, "Ann", lang_code="en"), SimUser(tg, "Bob", lang_code="ru")
        for user, model in ((ann, "SeeDream 4"), (bob, "SeeDream 4")):
            await user.start()
            await user.send("/generate")
            await user.press(model)
            await user.send("a quiet harbour")
            await user.press(next(b for b in user.buttons() if "▶" in b))
            await user.press(next(b for b in user.buttons() if "10" in b))
            await user.press(next(b for b in user.buttons() if "10" in b))
        assert "position in queue: 1" in ann.panel.text and ann.buttons() == ["🔄 Refresh", "🏠 Menu"]
        assert i18n.t("ru", "progress-queued", position=2) in bob.panel.text
        assert ann.chat_actions == [UPLOAD_PHOTO] and bob.chat_actions == [UPLOAD_PHOTO]
        assert await pump_once(bot) == 2  # every few seconds while the jobs wait or run
        assert ann.chat_actions == [UPLOAD_PHOTO] * 2
        await ann.press("Refresh")
        assert "position in queue: 1" in ann.panel.text and ann.chat_actions == [UPLOAD_PHOTO] * 3
        assert (await asyncio.to_thread(queue.run, bot, queue.ids[0])).status == "succeeded"
        await ann.press("Refresh")
        assert "Done: 1 image — see them below" in ann.panel.text
        assert ann.buttons() == ["🔁 Again", "✏️ Edit prompt", "🆕 New", "🏠 Menu"]
        assert await pump_once(bot) == 1 and ann.chat_actions == [UPLOAD_PHOTO] * 3  # only Bob's job is left
        await bob.press("Обновить")
        assert i18n.t("ru", "progress-queued", position=1) in bob.panel.text
        assert ledger.balance(account(bob).id) == (40, 10)  # held while queued
        assert_ledger_clean()

    scenario(database, body)


def test_parallel_job_limit_is_told_clearly(database):
    async def body(tg, bot):
        roomy(bot, tg)
        bot.tasks = HeldQueue()
        settings.set_value("limits.user_parallel_jobs", 1, actor=OPS)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        for n in range(2):
            await ann.send("/generate")
            await ann.press("SeeDream 4")
            await ann.send(f"harbour number {n}")
            await ann.press("Skip")
            await ann.press("Next")
            await ann.press("Generate — 10")
        assert "You already have 1 generation running. Wait for one to finish." in ann.panel.text
        assert Job.select().count() == 1 and ledger.balance(me) == (40, 10)
        assert_ledger_clean()

    scenario(database, body)


# ------------------------------------------------------------------------------ restarts and forged buttons


def test_bot_restart_mid_wizard_keeps_the_draft(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("Nano Banana Pro")
        await ann.send("a fox made of paper")
        await ann.send_photo(picture(7))
        await ann.press("Done")
        await ann.press("Resolution")
        await ann.press("4K")
        await bot.client.disconnect()  # the bot process stops …

        client = SimClient(telegram=tg)  # … and a new one starts on the same database
        second = build_bot(bot.config, client, tasks=bot.tasks)
        roomy(second, tg)
        await client.start(bot_token=tg.bot_token)
        await second.start(delivery_loop=False)
        try:
            await ann.press("Next")  # a button of the panel the first bot drew
            assert "Prompt: “a fox made of paper”" in ann.panel.text and "References: 1" in ann.panel.text
            assert "Model: Nano Banana Pro · 4K" in ann.panel.text
            await ann.press("Generate — 56")
            assert Job.get().status == "succeeded"
            assert await deliver(second) == 1 and "Done: 1 image for 56 tokens" in ann.last.text
            assert_ledger_clean()
        finally:
            await client.disconnect()

    scenario(database, body, BANANAPICS_USERS__START_BALANCE="100")


def test_stale_and_forged_wizard_buttons_change_nothing(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann, bob = SimUser(tg, "Ann", lang_code="en"), SimUser(tg, "Bob", lang_code="en")
        for user in (ann, bob):
            await user.start()
            await user.send("/generate")
            await user.press("Nano Banana Pro")
            await user.send(f"{user.record.first_name}'s idea")
            await user.press("Skip")
        assert draft_of(ann).version == draft_of(bob).version  # same steps: only the owner tells them apart
        bobs_next = bob.panel.button("Next").data
        await bob.press("Next")
        bobs_go = bob.panel.button("Generate — 30").data
        bobs_opt = bob.panel.button("Edit").data
        await bob.press("Generate — 30")
        bobs_job = Job.get()
        before = draft_of(ann)
        forged = [
            bobs_next, bobs_go, bobs_opt,  # someone else's draft id
            bobs_go.replace(b"gen:", b"gem:"), b"gen:" + bobs_go[4:].upper(),  # wrong prefix, not canonical
            b"gen:go:" + b"a" * 60,  # 64+ bytes
            b"gen:ar:" + token(before).encode() + b":16x9:1",  # an extra argument
            f"res:again:{bobs_job.id}".encode(), f"res:edit:{bobs_job.id}".encode(),  # Bob's job
            f"res:status:{'f' * 32}".encode(),  # no such job
            b"gen:step:" + token(before).encode() + b":confirm",  # not a step
        ]
        for data in forged:
            answer = await ann.press_data(data)
            assert answer.answered and answer.message == "This button is outdated.", data
            assert "balance:" in ann.panel.text  # the main menu instead
        after = draft_of(ann)
        assert (after.model, after.prompt, after.refs, after.settings, after.version) == \
            (before.model, before.prompt, before.refs, before.settings, before.version)
        assert Job.select().count() == 1 and ledger.balance(account(ann).id) == (50, 0)
        assert ledger.balance(account(bob).id) == (20, 0)
        assert_ledger_clean()

    scenario(database, body)


# ------------------------------------------------------------------------------ rate limits


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rate_limits_are_admin_settings_told_once_and_apply_without_restart(database):
    async def body(tg, bot):
        clock = ManualClock()  # the limiter's own time: the bot's send pacing moves tg.clock on its own
        bot.limiter = UserLimiter(rate_per_min=60, burst=20, clock=clock)
        bot.limits_refresh_s = 0
        settings.set_value("limits.user_actions_per_min", 60, actor=OPS)
        settings.set_value("limits.user_burst", 3, actor=OPS)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press("SeeDream 4")  # the burst of 3 is used up
        shown = len(ann.messages)
        for n in range(6):
            await ann.send(f"idea {n}")
        assert len(ann.messages) == shown + 1  # one polite message for the whole flood
        assert ann.last.text == "⏳ Too many requests. Wait 1 s and try again."
        assert draft_of(ann).prompt is None and Job.select().count() == 0  # nothing was queued or done
        answer = await ann.press_data(b"bal:open")
        assert answer.answered and answer.message == "⏳ Too fast. Wait a second."
        clock.advance(1)
        await ann.send("a harbour")  # a token came back: served, the warning is reset
        assert draft_of(ann).prompt == "a harbour"
        await ann.send("x")
        await ann.send("y")
        assert ann.last.text.startswith("⏳ Too many requests")  # a new flood is told again, once

        settings.set_value("limits.user_burst", 50, actor=OPS)  # the admin loosens it: no restart
        clock.advance(1)
        await ann.send("the next message picks the new limit up")
        clock.advance(30)  # 30 tokens earned: with a burst of 3 only 3 would be kept
        for n in range(10):
            await ann.send(f"idea number {n}")
        assert draft_of(ann).prompt == "idea number 9"

    scenario(database, body)


# ------------------------------------------------------------------------------ languages

COMMANDS = {
    "/start": lambda lang: i18n.t(lang, "menu-title", balance=50),
    "/help": lambda lang: i18n.t(lang, "help-text").splitlines()[0],
    "/generate": lambda lang: i18n.t(lang, "gen-model-title"),
    "/balance": lambda lang: i18n.t(lang, "balance-title", balance=50),
    "/lang": lambda lang: i18n.t(lang, "settings-language-title"),
    "/settings": lambda lang: i18n.t(lang, "settings-title", language=i18n.language_names()[lang], model="Nano Banana",
                                     ratio="1:1").splitlines()[0],
    "/invite": lambda lang: i18n.t(lang, "ref-title"),
    "/cancel": lambda lang: i18n.t(lang, "gen-cancelled"),
    "/terms": lambda lang: i18n.t(lang, "terms-text").splitlines()[0],
    "/privacy": lambda lang: i18n.t(lang, "privacy-text").splitlines()[0],
    "/support": lambda lang: i18n.t(lang, "support-text", contact="@BananaPicsSupport").splitlines()[0],
    "/paysupport": lambda lang: i18n.t(lang, "paysupport-text", contact="@BananaPicsSupport").splitlines()[0],
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_command_answers_in_all_three_languages(database):
    async def body(tg, bot):
        roomy(bot, tg)
        seen: dict[str, set[str]] = {}
        for lang in i18n.LANGUAGES:
            user = SimUser(tg, f"U{lang}", lang_code=lang)
            for command, expected in COMMANDS.items():
                before = [(m.id, m.text) for m in user.messages]
                await user.send(command)
                changed = [m.text for m in user.messages if (m.id, m.text) not in before]
                assert changed, f"{command} got no answer in {lang}"
                assert expected(lang) in changed[-1], (lang, command, changed[-1][:80])
                seen.setdefault(command, set()).add(changed[-1])
            # the wizard's own texts in that language too
            await user.send("/generate")
            await user.press("SeeDream 4")
            assert i18n.t(lang, "gen-prompt-ask", model="SeeDream 4", limit=2000) in user.panel.text
        assert all(len(texts) == 3 for texts in seen.values())  # three different languages

    scenario(database, body)
