"""The uz/ru/en catalogs: complete, consistent, formattable, and within Telegram's length limits."""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import re
import tomllib
from pathlib import Path

import pytest

from bananapics import i18n
from bananapics.errors import BananaError, InsufficientTokens, InvalidInput, ReferralRejected
from bananapics.providers.base import ERROR_KINDS

ROOT = Path(__file__).resolve().parent.parent
LANGS = i18n.LANGUAGES
OTHERS = [lang for lang in LANGS if lang != i18n.DEFAULT]

# A sample for every placeholder the catalogs use; a new placeholder must be added here.
# Numbers are ints (plural selection); strings are realistic worst cases for the length checks.
NUMBERS = {
    "after", "amount", "asked", "available", "balance", "base", "bonus", "cost", "count", "days", "debt",
    "earned", "friends", "got", "held", "jobs", "latency", "length", "limit", "max", "max_count",
    "max_mb", "max_refs", "minutes", "n", "needed", "page", "pages", "paid", "payments", "per_image", "percent",
    "position", "price", "queued", "refund", "repaid", "running", "seconds", "shortfall", "stars", "tg_id",
    "tokens", "total", "users",
    "first", "last", "ok", "failed", "min", "spent", "attempts", "cashback", "before",
    "uses", "refunded", "bonus_tokens", "ago", "submitted", "cap", "parallel", "per_min", "burst", "week", "month",
    "on", "failures", "refs",
}
STRINGS = {
    "action": "refund ⭐ 250 to @ann", "actor": "admin:@boss", "category": "Portraits",
    "charge": "stxZl2Yh9aK4mQ0rVb8nT3cW6xE1pS5uJ7gD0fH2kL9oN4iR8yB3qM6vC1zA5tG7wX0e",
    "contact": "@BananaPicsSupport", "current": "10", "date": dt.date(2026, 12, 31),
    "delta": "+50", "error": "CHARGE_ALREADY_REFUNDED", "extras": "4K +20, 1 reference +1",
    "field": "base price", "key": "limits.user_parallel_jobs", "label": "Aspect ratio",
    "language": "English", "lines": "base 30 + 4K +25 + 2 references +2", "mode": "every top-up",
    "model": "Nano Banana Pro", "name": "Alexandra Konstantinova", "options": "2K · 16:9 · ×2",
    "prompt": "a red fox in the snow, cinematic light, 35 mm, shallow depth of field, golden hour…",
    "provider": "gemini", "ratio": "16:9", "reason": "duplicate payment reported by the user",
    "role": "Support", "side": "4096", "status": "✅", "target": "user:123456789", "title": "Cyberpunk city at night",
    "user": "@ann (123456789)", "username": "alexandra_k", "value": "16:9",
    "query": "@alexandra_k", "up": "gemini, openai, ark, fal, local", "down": "gemini, openai, ark, fal",
    "referrer": "@ann (123456789)", "filter": "charge:stxZl2Yh9aK4mQ0rVb8nT3cW6xE1pS5uJ7gD0fH2kL9oN4iR8yB3qM6vC1",
    "period": "last 7 days", "old": "Support", "new": "Admin",
    "what": "price per reference image", "option": "medium", "explain": "base 30 + resolution 4K 25 + 1 reference(s) 1 = 56",
    "default": "· ⭐ default", "state": "✅", "id": "nano-banana-pro", "pin": "📌", "settings": "aspect_ratio=16:9, resolution=2K",
    "models": "nano-banana, nano-banana-pro, seedream-4, gpt-image", "templates": "on", "referrals": "on", "topups": "off",
    "keystate": "configured", "breaker": "⚠️ open until 12:00:00 UTC", "mark": "✓ ", "slug": "portraits-and-people",
    "feature": "Referrals", "text": "🛠 The bot is under maintenance. Please come back a little later.", "until": "12:00:00",
}
NUMBERS |= {"id", "sent", "blocked", "failed"}  # broadcast progress
STRINGS.update({"segment": "language Русский, active in 30 d, paid at least once, has tokens", "icon": "📤",
                "text": "🍌 New model: SeeDre…", "label": "Open the bot", "url": "https://t.me/BananaPicsBot?start=promo",
                "eta": "about 6 min", "language": "O'zbekcha", "mark": "✅"})  # broadcast
STRINGS["kind"] = "stars_refund"  # a ledger transfer kind (admin transfers filter)
PLURAL_SAMPLES = (0, 1, 2, 3, 5, 11, 21, 22, 25, 101, 1000, 1_000_000)

# Every text SCREENS.md asks for must exist (a sample per screen, not every key).
REQUIRED = {
    "menu-title", "menu-welcome", "menu-welcome-referred", "btn-generate", "btn-templates", "btn-trending",
    "btn-history", "btn-balance", "btn-invite", "btn-settings", "btn-help", "btn-menu",
    "gen-model-title", "btn-model", "btn-model-default", "gen-prompt-ask", "btn-pick-template", "btn-cancel",
    "gen-refs-ask", "gen-refs-count", "btn-skip", "btn-refs-done", "btn-refs-clear", "gen-settings-title",
    "setting-aspect-ratio", "setting-resolution", "setting-quality", "setting-count", "setting-format",
    "confirm-model", "confirm-prompt", "confirm-refs", "confirm-price", "confirm-price-single",
    "btn-generate-price", "btn-edit", "confirm-short", "btn-topup-shortfall", "progress-queued",
    "result-caption", "btn-again", "btn-edit-prompt", "btn-new", "fail-title", "fail-refund",
    "btn-try-again", "btn-other-model", "result-partial", "balance-title", "balance-title-held",
    "btn-topup", "btn-payments", "btn-package", "btn-package-bonus", "invoice-title",
    "invoice-description", "topup-thanks", "payments-title", "payments-item", "ref-title", "ref-link",
    "ref-stats", "ref-rule-every", "ref-rule-first", "btn-share", "ref-cashback", "history-title",
    "history-item", "btn-send-again", "btn-regenerate", "btn-use-prompt", "templates-title", "btn-use",
    "trending-title", "settings-title", "btn-language", "btn-default-model", "btn-default-ratio",
    "help-text", "terms-text", "privacy-text", "support-text", "paysupport-text", "banned", "rate-limited",
    "toast-outdated", "admin-title", "btn-admin-users", "btn-admin-pricing", "btn-admin-packages",
    "btn-admin-referrals", "btn-admin-templates", "btn-admin-transactions", "btn-admin-system",
    "btn-admin-log", "admin-refund-confirm", "admin-done-adjust", "language-name",
}


def sample_args(key: str, lang: str = "en", number: int = 7) -> dict:
    args = {}
    for name in i18n.placeholders(lang, key):
        if name in NUMBERS:
            args[name] = number
        else:
            assert name in STRINGS, f"placeholder ${name} of {key} has no sample in tests/test_i18n.py"
            args[name] = STRINGS[name]
    return args


def formatted(lang: str, key: str, number: int = 7) -> str:
    text, errors = i18n.translator(lang).format(key, sample_args(key, lang, number))
    assert not errors, f"{lang}/{key}: {errors}"
    return text


ALL_KEYS = sorted(i18n.keys(i18n.DEFAULT))


def test_catalogs_parse_cleanly():
    for lang in LANGS:
        assert i18n.translator(lang).junk == [], f"{lang}: syntax errors"
        assert len(i18n.keys(lang)) > 250


def test_no_key_is_defined_twice_and_files_match_across_languages():
    """Catalogs are split by area (main.ftl, payments.ftl…): the same files in every language, no key twice."""
    names = {lang: [name for name, _ in i18n.catalog_files(lang)] for lang in LANGS}
    assert names["uz"][0] == "main.ftl" or "main.ftl" in names["uz"]
    for lang in OTHERS:
        assert names[lang] == names[i18n.DEFAULT], lang
    for lang in LANGS:
        seen: dict[str, str] = {}
        for name, text in i18n.catalog_files(lang):
            for key in re.findall(r"^([a-z][a-z0-9-]*)\s*=", text, flags=re.M):
                assert key not in seen, f"{lang}: {key} in both {seen[key]} and {name}"
                seen[key] = name


@pytest.mark.parametrize("lang", OTHERS)
def test_same_keys_in_every_language(lang):
    uz, other = i18n.keys(i18n.DEFAULT), i18n.keys(lang)
    assert not uz - other, f"missing in {lang}: {sorted(uz - other)}"
    assert not other - uz, f"missing in uz: {sorted(other - uz)}"


@pytest.mark.parametrize("lang", OTHERS)
def test_same_placeholders_in_every_language(lang):
    diff = {key: (sorted(i18n.placeholders("uz", key)), sorted(i18n.placeholders(lang, key)))
            for key in ALL_KEYS if i18n.placeholders("uz", key) != i18n.placeholders(lang, key)}
    assert not diff, f"placeholders differ between uz and {lang}: {diff}"


def test_required_screen_texts_exist():
    missing = REQUIRED - i18n.keys(i18n.DEFAULT)
    assert not missing, sorted(missing)


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_formats_with_sample_args(lang):
    for key in ALL_KEYS:
        for number in PLURAL_SAMPLES:
            text = formatted(lang, key, number)
            assert text.strip(), f"{lang}/{key} is empty"
            assert text == text.strip(), f"{lang}/{key} has leading/trailing whitespace"
            assert "{" not in text and "}" not in text, f"{lang}/{key}: unresolved placeholder: {text!r}"
            assert len(text) <= 4096, f"{lang}/{key} is longer than a Telegram message"


@pytest.mark.parametrize("lang", LANGS)
def test_telegram_length_limits(lang):
    for number in PLURAL_SAMPLES:
        title = formatted(lang, "invoice-title", number)
        description = formatted(lang, "invoice-description", number)
        assert 1 <= len(title) <= 32, f"{lang} invoice title {title!r} ({len(title)})"
        assert 1 <= len(description) <= 255, f"{lang} invoice description ({len(description)})"
    for key in ALL_KEYS:
        text = formatted(lang, key, 100_000)
        if key.startswith("btn-"):
            assert len(text) <= 64, f"{lang}/{key} button label too long: {text!r}"
        if key.startswith("toast-") or key.startswith("precheckout-"):
            assert len(text) <= 200, f"{lang}/{key} too long for a callback answer / pre-checkout error"
        if key.startswith("cmd-"):
            assert 3 <= len(text) <= 256, f"{lang}/{key} command description length"
    assert len(formatted(lang, "result-caption")) <= 1024


def test_plural_forms():
    assert i18n.t("ru", "menu-title", balance=1).endswith("1 токен")
    assert i18n.t("ru", "menu-title", balance=3).endswith("3 токена")
    assert i18n.t("ru", "menu-title", balance=5).endswith("5 токенов")
    assert i18n.t("ru", "menu-title", balance=21).endswith("21 токен")
    assert i18n.t("en", "menu-title", balance=1).endswith("1 token")
    assert i18n.t("en", "menu-title", balance=2).endswith("2 tokens")
    assert i18n.t("uz", "menu-title", balance=120) == "🍌 BananaPics — balans: 120 token"
    assert i18n.t("en", "confirm-price", count=2, per_image=40, total=80, after=40) == \
        "Price: 2 × 40 = 80 tokens · balance after: 40"


def test_telegram_ids_are_not_digit_grouped():
    for lang in LANGS:
        assert "id 123456789" in i18n.t(lang, "admin-user-card", **{**sample_args("admin-user-card", lang),
                                                                   "tg_id": 123456789}).lower()


def test_every_provider_error_kind_has_a_reason():
    for kind in ERROR_KINDS:
        key = i18n.provider_error_key(kind)
        assert key == "fail-" + kind.replace("_", "-"), kind
    assert i18n.provider_error_key("something_new") == "fail-unknown"
    assert i18n.provider_error_key(None) == "fail-unknown"


def _titles(path: str) -> set[str]:
    return set(re.findall(r'title="([a-z_]+)"', (ROOT / path).read_text()))


def test_every_typed_input_error_has_a_text():
    titles = set().union(*(_titles(p) for p in ("bananapics/services/jobs.py", "bananapics/services/referrals.py",
                                                 "bananapics/images.py", "bananapics/services/breaker.py",
                                                 "bananapics/services/broadcast.py")))
    assert {"prompt_empty", "prompt_too_long", "model_disabled", "model_unknown", "not_an_image",
            "image_too_large", "unknown_code", "self", "already_bound", "too_late", "cycle"} <= titles
    for title in titles:
        key = i18n.error_key(InvalidInput("x", title=title))
        assert key == "error-" + title.replace("_", "-"), f"no catalog text for error title {title!r}"


def test_error_key_falls_back_to_code_then_generic():
    assert i18n.error_key(ReferralRejected("x", title="cycle")) == "error-cycle"
    assert i18n.error_key(ReferralRejected("x", title="brand_new")) == "error-referral-rejected"
    assert i18n.error_key(InsufficientTokens(3, 10)) == "error-insufficient"
    assert i18n.error_key(BananaError("x")) == "error-generic"
    assert i18n.error_key("prompt_too_long") == "error-prompt-too-long"
    assert i18n.t("en", i18n.error_key("prompt_too_long"), length=2400, limit=2000) == \
        "The description is too long: 2,400 characters, the limit is 2,000. Shorten it and send it again."


def test_t_falls_back_and_never_raises(caplog):
    caplog.set_level(logging.WARNING, logger="bananapics.i18n")
    assert i18n.t("en", "no-such-key") == "no-such-key"
    assert i18n.t("fr", "btn-menu") == i18n.t("uz", "btn-menu")
    assert i18n.t(None, "btn-menu") == "🏠 Menyu"
    assert i18n.t("ru-RU", "btn-menu") == "🏠 Меню"
    text = i18n.t("en", "topup-thanks", tokens=550)  # balance missing
    assert text == "✅ +550 tokens. Balance: ?"
    assert "without balance" in caplog.text
    assert i18n.t("en", "menu-title", balance=object()).startswith("🍌")  # odd types don't raise


def test_missing_key_in_a_language_falls_back_to_uzbek(monkeypatch):
    broken = i18n.Translator("en", "btn-menu = 🏠 Menu\n")
    monkeypatch.setattr(i18n, "translator", lambda lang: broken if i18n.normalize(lang) == "en"
                        else i18n._translator(i18n.normalize(lang)))
    assert i18n.t("en", "btn-back") == "◀ Orqaga"
    assert i18n.t("en", "btn-menu") == "🏠 Menu"


def test_language_names_and_commands():
    assert i18n.language_names() == {"uz": "O'zbekcha", "ru": "Русский", "en": "English"}
    for lang in LANGS:
        cmds = i18n.commands(lang)
        assert [c for c, _ in cmds] == list(i18n.COMMANDS)
        assert {"terms", "support", "paysupport", "privacy"} <= {c for c, _ in cmds}
        assert all(re.fullmatch(r"[a-z0-9_]{1,32}", c) for c, _ in cmds)
        assert [c for c, _ in i18n.commands(lang, admin=True)][-1] == "admin"


def test_legal_texts_say_what_telegram_requires():
    for lang in LANGS:
        assert "/paysupport" in i18n.t(lang, "terms-text")
        assert "/support" in i18n.t(lang, "privacy-text")
        assert "Telegram" in i18n.t(lang, "paysupport-text", contact="@help")
        assert "@help" in i18n.t(lang, "support-text", contact="@help")


def test_catalogs_ship_as_package_data():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tool = project["tool"]["setuptools"]
    assert "bananapics.bot" in tool["packages"]
    patterns = tool["package-data"]["bananapics"]
    for lang in LANGS:
        rel = f"locales/{lang}/main.ftl"
        assert (ROOT / "bananapics" / rel).is_file()
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), rel
    assert any(dep.startswith("fluent.runtime") for dep in project["project"]["dependencies"])
