"""Adversarial QA of the bot after the one-read-per-update change (bot.viewer), the guard and the
screen in one thread hop (Bot.serve), welcomed-at-registration, Settings defaults and Again at a
changed price: what a user sees right after something changed, through the simulated Telegram."""

from __future__ import annotations

from bananapics.db import atomic
from bananapics.models import AiModel, Job
from bananapics.services import jobs, ledger, templates
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, scenario, to_confirm
from tests.test_bot_wizard import account, deliver, draft_of, roomy

OPS = Actor.operator("qa")


def _set_model(model_id: str, **fields) -> None:
    with atomic():
        AiModel.update(**fields).where(AiModel.id == model_id).execute()


def _result(user: SimUser):
    return next(m for m in reversed(user.messages) if "Again" in " ".join(m.buttons))


# ------------------------------------------------------------------------------ Again


def test_again_on_a_switched_off_model_whose_price_changed_says_so_instead_of_another_models_confirm(database):
    """A price change sends Again to the confirm screen; when the job's model is switched off too,
    that screen used to show the admin's default model (the draft's fallback) and its price."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await to_confirm(ann, "SeeDream 4", "a lighthouse")
        await ann.press("Generate — 10")
        await deliver(bot)
        _set_model("seedream-4", base_price=12, enabled=False)
        await ann.press("Again", message=_result(ann))
        text = ann.panel.text
        assert "SeeDream 4" in text and "switched off" in text, text
        assert "Nano Banana Pro" not in text and "Generate" not in " ".join(ann.buttons())
        assert Job.select().count() == 1 and ledger.balance(me) == (40, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_again_on_a_free_job_asks_for_the_price_first(database):
    """An operator's free run (cost 0) repeated by the user: today's price is shown before any hold."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        with atomic():
            job = jobs.submit(me, "seedream-4", "a free lighthouse", free=True, chat_id=ann.id)
            bot.tasks.enqueue_after_commit(job.id)
        await deliver(bot)
        await ann.press("Again", message=_result(ann))
        assert "The price has changed" in ann.panel.text and "✅ Generate — 10" in ann.buttons()
        assert Job.select().count() == 1 and ledger.balance(me) == (50, 0)
        await ann.press("Generate — 10")
        assert Job.select().count() == 2 and ledger.balance(me) == (40, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_again_and_history_on_a_job_whose_model_was_removed_answer_instead_of_crashing(database):
    """A model row removed from the catalogue (by hand, a migration): Again, Regenerate and Use
    prompt on its old jobs explain, hold nothing and never raise."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await to_confirm(ann, "SeeDream 4", "a lighthouse")
        await ann.press("Generate — 10")
        await deliver(bot)
        with atomic():
            AiModel.delete().where(AiModel.id == "seedream-4").execute()
        await ann.press("Again", message=_result(ann))
        assert "Edit prompt" in " ".join(ann.buttons()) and "Generate" not in " ".join(ann.buttons())
        await ann.send("/history")
        await ann.press("1.")
        await ann.press("Regenerate")
        assert "Generate" not in " ".join(ann.buttons()), ann.panel.text
        await ann.send("/history")
        await ann.press("1.")
        await ann.press("Use this prompt")
        assert "a lighthouse" in ann.panel.text
        assert Job.select().count() == 1 and ledger.balance(me) == (40, 0)
        assert_ledger_clean()

    scenario(database, body)


# ------------------------------------------------------------------------------ Settings defaults


def _template(model: str | None = None, settings: dict | None = None):
    return templates.create(actor=OPS, category="art", titles={"uz": "Tog‘", "ru": "Горы", "en": "Mountains"},
                            prompts={"uz": "Tog‘lar", "ru": "Горы", "en": "Snowy mountains"}, model=model,
                            settings=settings)


def test_a_template_without_a_ratio_keeps_the_users_default_ratio_and_one_with_a_ratio_wins(database):
    """README: the default ratio applies to a new draft and to a switch of model when that model offers
    it. Using a template replaced the settings with the template's only, so the default was lost."""
    async def body(tg, bot):
        roomy(bot, tg)
        plain = _template(model="seedream-4")
        square = _template(model="seedream-4", settings={"aspect_ratio": "1:1"})
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Settings")
        await ann.press("Aspect ratio")
        await ann.press("16:9")
        await ann.start(f"tpl_{plain.id}")  # deep link
        assert draft_of(ann).settings_dict.get("aspect_ratio") == "16:9"
        await ann.send("/generate")
        await ann.press(next(b for b in ann.buttons() if b.startswith("GPT Image ·")))
        await ann.press("Pick a template")  # from the wizard, through the catalogue
        await ann.press("Art")
        while "Mountains" not in ann.panel.text or "Snowy mountains" not in ann.panel.text:
            await ann.press("▶")
        await ann.press("Use")
        assert draft_of(ann).model == "seedream-4" and draft_of(ann).settings_dict.get("aspect_ratio") == "16:9"
        await ann.start(f"tpl_{square.id}")  # the template's own ratio wins over the default
        assert draft_of(ann).settings_dict.get("aspect_ratio") == "1:1"

    scenario(database, body)
