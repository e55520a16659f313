"""Settings → default model and default aspect ratio, and Help's documents, through the simulated
Telegram as a user would; the preferences service on its own."""

from __future__ import annotations

import pytest

from bananapics import i18n
from bananapics.bot.callbacks import encode
from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel, Job
from bananapics.services import drafts, preferences, users
from bananapics.simtg import SimUser
from tests.helpers import new_user, scenario


def _set_model(model_id: str, **fields) -> None:
    with atomic():
        AiModel.update(**fields).where(AiModel.id == model_id).execute()


def _draft(user: SimUser):
    return drafts.get(users.get(user.id).id)


def test_settings_show_and_change_the_default_model(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Settings")
        assert "Language: English" in ann.panel.text
        assert "Default model: Nano Banana (recommended)" in ann.panel.text
        assert "Default aspect ratio: Model's default" in ann.panel.text
        await ann.press("Default model")
        assert ann.panel.text == i18n.t("en", "settings-model-title")
        assert "✓ ⭐ Always the recommended one (now Nano Banana)" in ann.buttons()  # nothing chosen yet
        answer = await ann.press("SeeDream 4")
        assert answer.message == "✅ Default model: SeeDream 4"
        assert "Default model: SeeDream 4" in ann.panel.text  # back on the settings screen
        assert users.get(ann.id).pref_model == "seedream-4"
        # a new draft starts on it, and the model list marks it
        await ann.send("/generate")
        assert _draft(ann).model == "seedream-4"
        assert any(b.startswith("SeeDream 4 ·") and b.endswith("✓") for b in ann.buttons())
        assert not any(b.startswith("Nano Banana ·") and b.endswith("✓") for b in ann.buttons())
        # typing a prompt right away (no model pressed) generates on it
        await ann.send("a lighthouse at night")
        assert (_draft(ann).model, _draft(ann).prompt) == ("seedream-4", "a lighthouse at night")
        # Recommended goes back to the admin's default
        await ann.send("/settings")
        await ann.press("Default model")
        answer = await ann.press("Always the recommended")
        assert answer.message == "✅ Default model: Recommended"
        assert users.get(ann.id).pref_model is None
        await ann.send("/generate")
        assert _draft(ann).model == "seedream-4"  # no preference: the model chosen last stays

    scenario(database, body)


def test_a_default_model_switched_off_falls_back_and_is_refused(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Settings")
        await ann.press("Default model")
        picker = ann.panel
        await ann.press("GPT Image")
        _set_model("gpt-image", enabled=False)
        await ann.send("/generate")
        assert _draft(ann).model == "nano-banana"  # the admin's default stands in
        await ann.send("/settings")
        assert "Default model: Nano Banana (recommended)" in ann.panel.text
        # an old picker's button for a model switched off since: refused, nothing changes
        data = encode("set", "model", "seedream-4")
        _set_model("seedream-4", enabled=False)
        answer = await ann.press_data(data, message=picker)
        assert answer.message == i18n.t("en", "error-model-disabled", model="SeeDream 4")
        assert users.get(ann.id).pref_model == "gpt-image"
        # a model id nobody has: the same
        answer = await ann.press_data(encode("set", "model", "dall-e-9"), message=picker)
        assert answer.message == i18n.t("en", "error-model-unknown")
        assert users.get(ann.id).pref_model == "gpt-image"

    scenario(database, body)


def test_default_aspect_ratio_follows_the_model(database):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Settings")
        await ann.press("Aspect ratio")
        assert ann.panel.text == i18n.t("en", "settings-ratio-title")
        assert "✓ Model's default" in ann.buttons() and "16:9" in ann.buttons() and "1:4" in ann.buttons()
        answer = await ann.press("16:9")
        assert answer.message == "✅ Default aspect ratio: 16:9"
        assert "Default aspect ratio: 16:9" in ann.panel.text
        await ann.send("/generate")
        assert _draft(ann).settings_dict == {"aspect_ratio": "16:9"}
        # GPT Image has no 16:9: left out; SeeDream has it: back again
        await ann.press("GPT Image")
        assert "aspect_ratio" not in _draft(ann).settings_dict
        await ann.send("/generate")
        await ann.press("SeeDream 4")
        assert _draft(ann).settings_dict["aspect_ratio"] == "16:9"
        # a ratio chosen in the wizard wins over the default
        await ann.send("a red bicycle")
        await ann.press("Skip")
        await ann.press("Aspect ratio")
        await ann.press("4:3")
        await ann.press("Next")
        assert "4:3" in ann.panel.text
        await ann.press("Generate")
        with connection():
            job = Job.select().order_by(Job.created_at.desc()).get()
        assert job.settings_dict["aspect_ratio"] == "4:3"
        # Model's default clears it
        await ann.send("/settings")
        await ann.press("Aspect ratio")
        answer = await ann.press("Model's default")
        assert answer.message == "✅ Default aspect ratio: Model's default"
        assert users.get(ann.id).pref_ratio is None
        await ann.send("/generate")
        assert _draft(ann).settings_dict == {}
        # a forged ratio no model offers: refused, nothing stored
        answer = await ann.press_data(encode("set", "ratio", "7:3"))
        assert answer.message == i18n.t("en", "error-setting-unsupported")
        assert users.get(ann.id).pref_ratio is None

    scenario(database, body)


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_settings_and_help_documents_in_every_language(database, lang):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code=lang)
        await ann.start()
        await ann.send("/settings")
        assert i18n.t(lang, "settings-model-recommended", model="Nano Banana") in ann.panel.text
        await ann.press(i18n.t(lang, "btn-default-ratio"))
        assert ann.panel.text == i18n.t(lang, "settings-ratio-title")
        await ann.send("/help")
        for key, text in (("btn-terms", "terms-text"), ("btn-privacy", "privacy-text"), ("btn-support", "support-text")):
            await ann.press(i18n.t(lang, key))
            assert ann.panel.text == i18n.t(lang, text, contact=bot.config.telegram.support_contact)
            await ann.press(i18n.t(lang, "btn-back"))
            assert i18n.t(lang, "help-prices-title") in ann.panel.text
        await ann.press(i18n.t(lang, "btn-paysupport"))
        assert i18n.t(lang, "paysupport-text", contact=bot.config.telegram.support_contact) in ann.panel.text
        assert len(ann.messages) <= 3  # /start, /settings, /help panels: every press edited in place

    scenario(database, body)


def test_preferences_service(database):
    user = new_user()
    with connection():
        enabled = list(AiModel.select().where(AiModel.enabled == True))  # noqa: E712
    offered = preferences.ratios(enabled)
    assert offered[:3] == ["1:1", "2:3", "3:4"] and set(offered) >= {"16:9", "21:9", "1:4", "4:1"}
    assert preferences.set_model(user.id, "seedream-4").pref_model == "seedream-4"
    assert preferences.set_model(user.id, None).pref_model is None
    with pytest.raises(NotFound):
        preferences.set_model(user.id, "nope")
    _set_model("seedream-4", enabled=False)
    with pytest.raises(InvalidInput):
        preferences.set_model(user.id, "seedream-4")
    assert preferences.set_ratio(user.id, "21:9").pref_ratio == "21:9"
    with pytest.raises(InvalidInput):
        preferences.set_ratio(user.id, "7:3")
    assert users.get_by_id(user.id).pref_ratio == "21:9"
    # the draft a new user gets starts with both defaults
    preferences.set_model(user.id, "nano-banana")
    draft = drafts.reset(user.id)
    assert draft.model == "nano-banana" and draft.settings_dict == {"aspect_ratio": "21:9"}
