"""Adversarial QA of the bot after the one-read-per-update change (bot.viewer), the guard and the
screen in one thread hop (Bot.serve), welcomed-at-registration, Settings defaults and Again at a
changed price: what a user sees right after something changed, through the simulated Telegram."""

from __future__ import annotations

import asyncio

import pytest

from bananapics import i18n
from bananapics.bot.callbacks import ROUTES, encode
from bananapics.bot.wizard import token
from bananapics.db import atomic
from bananapics.models import AiModel, Job
from bananapics.services import jobs, ledger, templates, users
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, scenario, to_confirm
from tests.test_bot_wizard import account, deliver, draft_of, lighthouse_delivered, picture, roomy

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
        ann, me = await lighthouse_delivered(tg, bot)
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
        ann, me = await lighthouse_delivered(tg, bot)
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


# ------------------------------------------------------------------------------ first contact


WELCOME = "Welcome to BananaPics"


@pytest.mark.parametrize("first", ["text", "photo", "unknown", "slash"])
def test_whatever_the_first_message_a_later_start_with_a_ref_link_greets_once_and_binds(database, first):
    async def body(tg, bot):
        roomy(bot, tg)
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        code = account(bob).referral_code
        ann = SimUser(tg, "Ann", lang_code="en")
        if first == "text":
            await ann.send("a cat in boots")
        elif first == "photo":
            await ann.send_photo(picture(1))
        elif first == "unknown":
            await ann.send("/imagine a cat")
        else:
            await ann.send("/start " + "x" * 65)  # too long for a deep link: not a /start
        assert not any(WELCOME in t for t in ann.texts)
        assert account(ann).welcomed is False
        await ann.start(f"ref_{code}")
        assert "Bob invited you" in ann.panel.text
        assert account(ann).referrer_id == account(bob).id and account(ann).welcomed
        await ann.start(f"ref_{code}")
        await ann.start()
        assert sum(WELCOME in t or "invited you" in t for t in ann.texts) == 1
        await deliver(bot)
        assert sum("Ann joined through your link" in t for t in bob.texts) == 1

    scenario(database, body)


def test_a_template_deep_link_as_the_very_first_message_greets_and_fills_the_draft(database):
    async def body(tg, bot):
        roomy(bot, tg)
        tpl = _template(model="seedream-4")
        ann = SimUser(tg, "Ann", lang_code="ru")
        await ann.start(f"tpl_{tpl.id}")
        assert i18n.t("ru", "menu-welcome") in ann.panel.text
        assert draft_of(ann).template_id == tpl.id and draft_of(ann).prompt == "Горы"
        assert account(ann).welcomed and account(ann).available == 50
        await ann.start(f"tpl_{tpl.id}")
        assert sum(i18n.t("ru", "menu-welcome") in t for t in ann.texts) == 1

    scenario(database, body)


# ------------------------------------------------------------------------------ the guard


def test_a_banned_user_gets_one_message_per_update_and_nothing_changes(database):
    async def body(tg, bot):
        roomy(bot, tg)
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        code = account(bob).referral_code
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.send("/generate")
        await ann.press(next(b for b in ann.buttons() if b.startswith("SeeDream 4 ·")))
        panel = ann.panel
        before = draft_of(ann)
        users.ban(ann.id, reason="abuse", actor=OPS)
        for act in (lambda: ann.send("a new prompt"), lambda: ann.send_photo(picture(2)),
                    lambda: ann.send_album([picture(3), picture(4)]), lambda: ann.start(f"ref_{code}"),
                    lambda: ann.send("/settings"), lambda: ann.send("/balance")):
            count = len(ann.messages)
            await act()
            assert len(ann.messages) == count + 1 and ann.last.text == i18n.t("en", "banned"), ann.last.text
        answer = await ann.press("Back", message=panel)
        assert answer.alert and answer.message == i18n.t("en", "banned")
        after = draft_of(ann)
        assert (after.version, after.prompt, after.refs, after.step) == (before.version, None, [], before.step)
        assert account(ann).referrer_id is None and ann.panel.text == panel.text
        await deliver(bot)
        assert not any("joined" in t for t in bob.texts)

    scenario(database, body)


# ------------------------------------------------------------------------------ forged buttons


def _samples(kind, ann_token: str, bob_job: str) -> list:
    """Edge values of one argument type: the extremes, someone else's ids, the presser's token."""
    by_name = {"id": [1, 2**63 - 1], "page": [0, 9999], "price": [0, 10**12], "count": [1, 16],
               "hex": [ann_token, bob_job, "f" * 32], "slug": ["z" * 32, "seedream-4"], "ratio": ["99:99", "1:1"],
               "res": ["99K", "1K"]}
    if kind.name in by_name:
        return by_name[kind.name]
    return sorted(kind.pattern.pattern.replace("\\", "").split("|"))  # an enum: every value


def test_every_route_with_edge_and_foreign_arguments_answers_and_moves_no_money(database):
    """Every declared callback route, pressed with extreme values, another user's job ids and the
    presser's own wizard token: every press is answered, no handler raises, no token moves."""
    async def body(tg, bot):
        roomy(bot, tg)
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        await to_confirm(bob, "SeeDream 4", "bob's lighthouse")
        await bob.press("Generate — 10")
        bob_job = Job.get().id
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await to_confirm(ann, "GPT Image", "ann's lighthouse")
        pressed = 0
        for (screen, action), route in ROUTES.items():
            if (screen, action) in (("gen", "go"), ("bal", "pkg")):
                continue  # money moves by design (Generate at the shown price) / an invoice is sent
            combos = [()]
            for kind in route.args:
                combos = [c + (v,) for c in combos for v in _samples(kind, "TOKEN", bob_job)]
            for args in combos:
                args = tuple(token(draft_of(ann)) if a == "TOKEN" else a for a in args)
                answer = await ann.press_data(encode(screen, action, *args), message=ann.panel)
                assert answer.answered, (screen, action, args)
                pressed += 1
        assert pressed > 150
        assert ledger.balance(me) == (50, 0) and Job.select().where(Job.user == me).count() == 0
        assert_ledger_clean()

    scenario(database, body)


def test_a_default_ratio_no_enabled_model_offers_any_more_is_shown_as_the_models_default(database):
    """Like a switched-off default model (shown as the recommended one), a default ratio that no
    enabled model offers any more has no effect: Settings must not claim it, and the picker marks
    "Model's default"."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Settings")
        await ann.press("Aspect ratio")
        await ann.press("4:1")  # only Nano Banana offers 4:1
        assert "Default aspect ratio: 4:1" in ann.panel.text
        _set_model("nano-banana", enabled=False)
        await ann.send("/settings")
        assert "Default aspect ratio: Model's default" in ann.panel.text, ann.panel.text
        await ann.press("Aspect ratio")
        assert "✓ Model's default" in ann.buttons() and "4:1" not in " ".join(ann.buttons())
        await ann.send("/generate")
        assert "aspect_ratio" not in draft_of(ann).settings_dict
        _set_model("nano-banana", enabled=True)  # back on: the stored default applies again
        await ann.send("/settings")
        assert "Default aspect ratio: 4:1" in ann.panel.text

    scenario(database, body)


def test_flooding_is_answered_once_per_burst_also_for_a_banned_user(database):
    """A flooding user gets one polite message, then silence; a banned one flooding got a "banned"
    reply for every message (the ban answer came before flood control), an unbounded echo."""
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=6, burst=2)
        ann = SimUser(tg, "Ann", lang_code="en")
        eve = SimUser(tg, "Eve", lang_code="en")
        await ann.send("hello")
        await eve.send("hello")
        users.ban(eve.id, reason="spam", actor=OPS)
        for n in range(8):
            await ann.send(f"a cat number {n}")
            await eve.send(f"spam {n}")
        assert sum(t.startswith("⏳ Too many requests") for t in ann.texts) == 1
        banned = [t for t in eve.texts if t == i18n.t("en", "banned")]
        assert 1 <= len(banned) <= 2, len(banned)  # the burst, then one answer for the flood at most

    scenario(database, body)


def test_a_new_users_first_start_and_text_at_the_same_moment_greet_bind_and_grant_once(database):
    async def body(tg, bot):
        roomy(bot, tg)
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        code = account(bob).referral_code
        for n in range(3):
            ann = SimUser(tg, f"Ann{n}", lang_code="en")
            await asyncio.gather(ann.send("a cat in boots"), ann.start(f"ref_{code}"), ann.send("/help"))
            me = account(ann)
            assert me.referrer_id == account(bob).id and me.welcomed
            assert sum("invited you" in t for t in ann.texts) == 1
            assert ledger.balance(me.id) == (50, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_a_photo_captioned_start_as_the_first_message_still_greets(database):
    """Both the photo handler and /start take a photo captioned "/start". The row was stored
    welcomed by the first handler's guard, so /start (a second read, not 'registered now') never
    greeted."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.send_photo(picture(1), caption="/start")
        assert sum(WELCOME in t for t in ann.texts) == 1, ann.texts
        assert account(ann).welcomed
        await ann.start()
        assert sum(WELCOME in t for t in ann.texts) == 1

    scenario(database, body)


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_a_banned_user_can_reach_support_the_ban_message_points_to(database, lang):
    """"Your account is blocked … write to /support": /support answered "blocked" again, a dead end.
    The support, payment-help and legal texts answer a banned user; everything else stays refused."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code=lang)
        await ann.start()
        users.ban(ann.id, reason="abuse", actor=OPS)
        await ann.send("/generate")
        assert ann.last.text == i18n.t(lang, "banned") and "/support" in ann.last.text
        contact = bot.config.telegram.support_contact
        for command, key in (("/support", "support-text"), ("/terms", "terms-text"), ("/privacy", "privacy-text"),
                             ("/paysupport", "paysupport-text")):
            await ann.send(command)
            assert ann.last.text.startswith(i18n.t(lang, key, contact=contact)), (command, ann.last.text)
        await ann.send("/balance")
        assert ann.last.text == i18n.t(lang, "banned")

    scenario(database, body)


def test_writing_again_clears_the_blocked_mark_and_results_are_delivered_again(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        users.set_blocked_bot(ann.id, True)  # the delivery loop met USER_IS_BLOCKED earlier
        await to_confirm(ann, "SeeDream 4", "a lighthouse")
        assert users.get(ann.id).blocked_bot is False
        await ann.press("Generate — 10")
        await deliver(bot)
        assert any(m.media_kind == "photo" for m in ann.messages)

    scenario(database, body)


@pytest.mark.parametrize("payload", ["tpl_²", "tpl_①", "tpl_" + "9" * 60, "tpl_-1", "ref_²", "ref_" + "я" * 30, "tpl_"])
def test_a_typed_start_with_a_garbage_payload_opens_something_sensible(database, payload):
    """``/start <payload>`` typed by hand is not limited to A-Za-z0-9_-: "²" passes str.isdigit()
    but int() refuses it."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.send(f"/start {payload}")
        assert WELCOME in ann.panel.text or "invited you" in ann.panel.text or ann.panel.buttons, ann.panel.text
        assert account(ann).welcomed and account(ann).referrer_id is None

    scenario(database, body)
