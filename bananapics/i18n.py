"""User-facing texts in Uzbek (default, Latin script), Russian and English, through Project Fluent.

The catalogs are ``bananapics/locales/<lang>/*.ftl`` (shipped in the wheel as package data): one
file per area (``main.ftl``, ``payments.ftl``…), read in name order as one catalog; a key defined in
two files of a language is an error the tests catch.
Every text the bot shows goes through :func:`t`::

    t("ru", "menu-title", balance=120)      # "🍌 BananaPics — баланс: 120 токенов"

Conventions in the catalogs (checked by ``tests/test_i18n.py``):

* every key exists in every language with the same set of ``$placeholders``;
* numbers are passed as ``int`` (Fluent picks the plural form and groups digits by locale); Telegram
  ids and other numbers that must not be grouped are written ``NUMBER($x, useGrouping: 0)``;
  dates may be ``datetime``/``date`` (formatted by locale) or ready strings; names and
  prompt excerpts are plain strings (the caller shortens them);
* ``btn-*`` are inline-button labels (≤ 64 chars), ``toast-*`` callback answers (≤ 200 chars),
  ``cmd-*`` command-menu descriptions (≤ 256 chars), ``invoice-title`` ≤ 32 and
  ``invoice-description`` ≤ 255 chars (Telegram Stars invoice limits).

:func:`t` never raises: a key missing in a language falls back to Uzbek, then to the key itself; a
missing argument is logged and shown as ``?``. This module is UI-side: services never import it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import ast as fast
from fluent.syntax.visitor import Visitor

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = ("uz", "ru", "en")
DEFAULT = "uz"
CATALOG = "*.ftl"
MISSING_ARG = "?"

# Commands shown in Telegram's command menu (SetBotCommands), in this order; descriptions are
# the ``cmd-<name>`` keys. Admin commands are set only for admins' chats.
COMMANDS: tuple[str, ...] = ("start", "generate", "balance", "history", "templates", "invite", "profile",
                             "settings", "help", "terms", "privacy", "support", "paysupport")
ADMIN_COMMANDS: tuple[str, ...] = ("admin",)

# BananaError.code → key, for errors without a more specific ``title``.
_CODE_KEYS = {
    "not_found": "error-not-found",
    "invalid": "error-invalid",
    "forbidden": "error-forbidden",
    "banned": "banned",
    "insufficient": "error-insufficient",
    "conflict": "error-conflict",
    "too_many_jobs": "error-too-many-jobs",
    "referral_rejected": "error-referral-rejected",
}


def normalize(lang: str | None) -> str:
    """``"ru-RU"``/``"EN"``/``None`` → one of :data:`LANGUAGES` (unknown → :data:`DEFAULT`)."""
    code = (lang or "").split("-")[0].split("_")[0].strip().lower()
    return code if code in LANGUAGES else DEFAULT


class _Variables(Visitor):
    """Collects the names of ``$variables`` anywhere in a message (selectors, function args…)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: fast.VariableReference) -> None:  # noqa: N802 (visitor API)
        self.names.add(node.id.name)
        self.generic_visit(node)


class Translator:
    """One language's catalog: a Fluent bundle plus the parsed messages (for key/placeholder checks)."""

    def __init__(self, lang: str, source: str | None = None) -> None:
        self.lang = lang
        if source is None:
            source = "\n".join(text for _, text in catalog_files(lang))
        resource = FluentResource(source)
        self.junk = [entry.content for entry in resource.body if isinstance(entry, fast.Junk)]
        for junk in self.junk:
            log.error("i18n: %s/%s has a syntax error near %r", lang, CATALOG, junk[:80])
        self.bundle = FluentBundle([lang], use_isolating=False)
        self.bundle.add_resource(resource)
        self._messages: dict[str, fast.Message] = {
            entry.id.name: entry for entry in resource.body if isinstance(entry, fast.Message)
        }
        self._placeholders: dict[str, frozenset[str]] = {}
        self._recent: dict[tuple, tuple[str, list[Exception]]] = {}  # (key, args) formatted lately
        self._lock = threading.Lock()  # the bundle compiles messages lazily into a shared dict

    def keys(self) -> frozenset[str]:
        return frozenset(key for key, msg in self._messages.items() if msg.value is not None)

    def has(self, key: str) -> bool:
        msg = self._messages.get(key)
        return msg is not None and msg.value is not None

    def placeholders(self, key: str) -> frozenset[str]:
        """Names of the ``$variables`` the message uses (empty for an unknown key)."""
        found = self._placeholders.get(key)
        if found is None:
            visitor = _Variables()
            msg = self._messages.get(key)
            if msg is not None:
                visitor.visit(msg)
            found = self._placeholders[key] = frozenset(visitor.names)
        return found

    def format(self, key: str, args: Mapping[str, Any] | None = None) -> tuple[str, list[Exception]]:
        """Format one message; returns the text and the errors Fluent reported (never raises)."""
        try:  # the same message with the same values (button labels; "from 10 tokens" on every model
            # list): Fluent and Babel's number formatting cost ~15 µs a call, a lookup ~1 µs
            memo_key = (key, tuple(sorted((args or {}).items())))
            hash(memo_key)
        except TypeError:  # an unhashable value: format it every time
            return self._format(key, args)
        found = self._recent.get(memo_key)
        if found is None:
            if len(self._recent) >= RECENT_MAX:
                self._recent.clear()
            found = self._recent[memo_key] = self._format(key, args)
        return found[0], list(found[1])

    def _format(self, key: str, args: Mapping[str, Any] | None) -> tuple[str, list[Exception]]:
        args = dict(args or {})
        for name in self.placeholders(key) - args.keys():
            args[name] = MISSING_ARG
        with self._lock:
            message = self.bundle.get_message(key)
        if message.value is None:
            return key, [LookupError(f"{key} has no value")]
        text, errors = self.bundle.format_pattern(message.value, args)
        return str(text), list(errors)


RECENT_MAX = 4096  # formatted (key, values) pairs kept per language; emptied when full


def catalog_files(lang: str) -> list[tuple[str, str]]:
    """``(file name, text)`` of every ``.ftl`` file of a language, in name order."""
    folder = resources.files("bananapics").joinpath("locales", lang)
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".ftl")), key=lambda e: e.name)
    return [(entry.name, entry.read_text("utf-8")) for entry in files]


@lru_cache(maxsize=None)
def _translator(lang: str) -> Translator:
    return Translator(lang)


def translator(lang: str | None) -> Translator:
    """The cached :class:`Translator` of a language (unknown codes get the default language)."""
    tr = _BY_CODE.get(lang)
    if tr is None:
        if len(_BY_CODE) > 1000:  # codes come from Telegram clients: keep the map small
            _BY_CODE.clear()
        tr = _BY_CODE[lang] = _translator(normalize(lang))
    return tr


_BY_CODE: dict[str | None, Translator] = {}  # as given ("ru", "en-US", None…) → its translator


def t(lang: str | None, key: str, **args: Any) -> str:
    """The text of ``key`` in ``lang``; falls back to Uzbek, then to the key. Never raises."""
    try:
        tr = translator(lang)
        lang = tr.lang
        if not tr.has(key):
            log.warning("i18n: key %r missing in %s", key, lang)
            tr = translator(DEFAULT)
            if not tr.has(key):
                return key
        missing = tr.placeholders(key) - args.keys()
        if missing:
            log.warning("i18n: %s/%s formatted without %s", tr.lang, key, ", ".join(sorted(missing)))
        text, errors = tr.format(key, args)
        for error in errors:
            log.warning("i18n: %s/%s: %s", tr.lang, key, error)
        return text
    except Exception:  # a broken catalog or argument must never take a handler down
        log.exception("i18n: formatting %r in %r failed", key, lang)
        return key


def keys(lang: str) -> frozenset[str]:
    """Every message key of a language's catalog."""
    return translator(lang).keys()


def placeholders(lang: str, key: str) -> frozenset[str]:
    """The ``$placeholder`` names a message uses in a language."""
    return translator(lang).placeholders(key)


def language_names() -> dict[str, str]:
    """``{"uz": "O'zbekcha", "ru": "Русский", "en": "English"}``: each language in its own words."""
    return {lang: t(lang, "language-name") for lang in LANGUAGES}


def commands(lang: str | None, *, admin: bool = False) -> list[tuple[str, str]]:
    """``(command, description)`` pairs for SetBotCommands in a language (admins get extras)."""
    names: Iterable[str] = COMMANDS + (ADMIN_COMMANDS if admin else ())
    return [(name, t(lang, f"cmd-{name}")) for name in names]


def provider_error_key(kind: str | None) -> str:
    """Key of the user-facing reason for a provider error kind (``ERROR_KINDS``); unknown → generic."""
    key = "fail-" + (kind or "unknown").replace("_", "-")
    return key if translator(DEFAULT).has(key) else "fail-unknown"


def error_key(error: Any) -> str:
    """Key for a service error: by its ``title`` (``prompt_too_long``…), else its ``code``, else generic.

    Accepts a :class:`~bananapics.errors.BananaError` or a bare title string.
    """
    title = error if isinstance(error, str) else getattr(error, "title", "") or ""
    if title:
        key = "error-" + title.replace("_", "-")
        if translator(DEFAULT).has(key):
            return key
    code = getattr(error, "code", None)
    return _CODE_KEYS.get(code or "", "error-generic")
