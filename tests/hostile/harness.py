"""The shared frame of every hostile-input case (issue 14).

A case runs as a user does — through the simulated Telegram (:func:`hostile`) or the CLI entry point
(``tests/hostile/test_cli_hostile.py``) — and then the frame checks what every case must keep:

* nothing changed or lost: balances (available, held, debt), roles and bans, the money and catalogue
  tables (transfers, holds, payments, invoices, jobs, packages, models, templates, settings) and the
  admin log's *applied* rows are as before, unless the case names what it expects to change;
  ``verify()`` finds no ledger breach;
* no stack trace, exception name or database error text ever reaches the user (every message the bot
  sent and every button answer);
* no secret in the logs: the bot runs with a configured fake bot token and provider keys, and no log
  record (any level, any logger) holds them; no record carries a traceback.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from bananapics import i18n
from bananapics.bot.ratelimit import UserLimiter
from bananapics.models import (AdminAction, AiModel, Hold, InvoiceIntent, Job, Package, Payment, Setting, Template,
                               TemplateCategory, Transfer, User)
from bananapics.simtg import SimUser
from bananapics.services import users
from bananapics.services.audit import Actor
from tests.helpers import assert_ledger_clean, scenario

BOT_TOKEN = "987654321:AAHostileBotTokenNeverInLogs_0123456"
PROVIDER_KEY = "sk-hostile-provider-key-never-in-logs-4242"
SECRETS = (BOT_TOKEN, PROVIDER_KEY)
SECRET_ENV = {
    "BANANAPICS_TELEGRAM__BOT_TOKEN": BOT_TOKEN,
    "BANANAPICS_PROVIDERS__OPENAI_API_KEY": PROVIDER_KEY,
    "BANANAPICS_PROVIDERS__GEMINI_API_KEY": PROVIDER_KEY + "-g",
}
OPERATOR = Actor.operator("hostile-tests")
LANGS = ("uz", "ru", "en")

# What must never reach a user: Python and database internals.
LEAKS = ("Traceback", 'File "', "Error(", "Exception", "peewee", "psycopg", "sqlite3", "IntegrityError",
         "NoneType", "KeyError", "ValueError", "TypeError", "AttributeError", "bananapics.", "SELECT ", "INSERT ")


def outdated(lang: str) -> str:
    return i18n.t(lang, "toast-outdated")


# ------------------------------------------------------------------ the state that must not move


def _rows(model: Any, *fields: Any) -> str:
    """A digest of the rows of ``model`` (the listed fields, or all), in id order."""
    query = model.select(*fields) if fields else model.select()
    rows = [sorted((k, str(v)) for k, v in row.__data__.items()) for row in query.order_by(model._meta.primary_key)]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def snapshot() -> dict[str, Any]:
    """Everything a hostile input must leave as it was (drafts, panels and conversations may move)."""
    return {
        "users": sorted((u.tg_id, u.available, u.held, u.debt, u.role, u.banned) for u in User.select()),
        "transfers": Transfer.select().count(),
        "holds": _rows(Hold),
        "payments": _rows(Payment),
        "invoices": _rows(InvoiceIntent, InvoiceIntent.id, InvoiceIntent.status, InvoiceIntent.charge_id),
        "jobs": _rows(Job, Job.id, Job.status, Job.cost),
        "packages": _rows(Package),
        "models": _rows(AiModel),
        "templates": _rows(Template, Template.id, Template.active, Template.pinned, Template.title_en,
                           Template.prompt_en),
        "categories": TemplateCategory.select().count(),
        "settings": _rows(Setting, Setting.key, Setting.value),
        "applied": AdminAction.select().where(AdminAction.outcome != "denied").count(),
    }


def assert_unchanged(before: dict[str, Any], *, expect: Iterable[str] = ()) -> None:
    after = snapshot()
    for key in before:
        if key not in expect:
            assert after[key] == before[key], f"{key} changed: {before[key]!r} -> {after[key]!r}"
    assert_ledger_clean()


def assert_no_leak(texts: Iterable[str]) -> None:
    for text in texts:
        for marker in LEAKS:
            assert marker not in (text or ""), f"internal detail {marker!r} shown to a user: {text[:300]!r}"
        for secret in SECRETS:
            assert secret not in (text or ""), "a secret was shown to a user"


def assert_logs_clean(records: list[logging.LogRecord]) -> None:
    for record in records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for secret in SECRETS:
            assert secret not in text, f"secret in the log: {record.name}: {text[:200]}"
        assert not record.exc_info, f"a traceback was logged: {record.name}: {text[:500]}"


def seen_by(*people: SimUser) -> list[str]:
    """Every text a user got: the bot's messages (all versions of edited ones) and button answers."""
    texts = []
    for person in people:
        for message in person.messages:
            texts += [v for v in getattr(message, "versions", None) or [message.text]]
            texts.append(message.text)
        texts += [a.message or "" for a in person.callback_answers]
    return [t for t in texts if isinstance(t, str)]


# ------------------------------------------------------------------ running a case


class Case:
    """What a case body gets: the simulator, the bot, a plain user and (on demand) staff."""

    def __init__(self, tg: Any, bot: Any, lang: str) -> None:
        self.tg, self.bot, self.lang = tg, bot, lang
        self.people: list[SimUser] = []
        self.before: dict[str, Any] | None = None

    async def user(self, name: str = "Ann", lang: str | None = None, **kwargs: Any) -> SimUser:
        person = SimUser(self.tg, name, lang_code=lang or self.lang, **kwargs)
        await person.start()
        self.people.append(person)
        return person

    async def staff(self, name: str = "Boss", role: str = "admin", lang: str | None = None) -> SimUser:
        person = await self.user(name, lang or "en", username=name.lower())
        users.set_role(person.id, role, actor=OPERATOR)
        return person

    def freeze(self) -> None:
        """From here on nothing may change (called after the case's own setup)."""
        self.before = snapshot()

    def t(self, key: str, **args: Any) -> str:
        return i18n.t(self.lang, key, **args)


def hostile(database: Any, caplog: Any, body: Callable[[Case], Awaitable[None]], *, lang: str = "en",
            expect: Iterable[str] = (), **env: str) -> None:
    """Run ``body(case)`` on a bot configured with secrets; then check the invariants (see module doc).

    The body sets up what it needs, calls ``case.freeze()`` and does the hostile thing; ``expect``
    names the parts of :func:`snapshot` the case is allowed to change."""
    done: dict[str, Any] = {}

    async def run(tg: Any, bot: Any) -> None:
        bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)  # flood control is not the subject
        case = Case(tg, bot, lang)
        await body(case)
        done["case"] = case

    with caplog.at_level(logging.DEBUG):
        scenario(database, run, **{**SECRET_ENV, **env})
    case = done["case"]
    assert_no_leak(seen_by(*case.people))
    assert_logs_clean(caplog.records)
    assert case.before is not None, "the case never froze the state"
    assert_unchanged(case.before, expect=expect)
