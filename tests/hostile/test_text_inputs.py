"""SQL, format-string and markup injection and Unicode edge cases in what users and admins type:
prompts, their own names (shown to whoever they invite and to admins), template text, admin reasons
and searches. (Broadcast text: ``services/broadcast.py`` does not exist on main yet.)

What is typed is stored as typed (NFC, control characters dropped, as ``jobs.clean_prompt`` says) and
shown back literally — never read as Markdown/HTML (no entity but the bot's own ``code`` parts), never
formatted (``{ $x }``, ``%s``, ``{0}`` stay), never run as SQL; too long or empty gets the clear
message in the user's language; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from telethon import types

from bananapics.bot.callbacks import encode
from bananapics.bot.delivery import deliver_once
from bananapics.models import Template, TemplateCategory
from bananapics.services import drafts, jobs, templates, users
from bananapics.simtg import SimUser
from tests.hostile.harness import OPERATOR, Case, hostile

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SQL = "'; DROP TABLE users; -- 1' OR '1'='1"
FORMAT = "{0} {name} %s %d %(x)s {{ $prompt }} { $limit } ${jndi:ldap://x/a}"
MARKDOWN = "**bold** __it__ ~~s~~ ||spoiler|| [click](https://evil.example) `code`"
HTML = "<b>bold</b> <a href=\"tg://user?id=1\">me</a> &amp; <script>alert(1)</script>"
ZALGO = "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇" * 20
FAMILY = "👩‍👩‍👧‍👦 👨🏽‍🚀 🏳️‍🌈 🇺🇿"


def only_code_entities(message) -> bool:
    """The bot's messages carry no entity a user could have smuggled in (links, bold, mentions)."""
    return all(isinstance(e, types.MessageEntityCode) for e in (getattr(message.raw, "entities", None) or []))


# --------------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str
    stored: str | None  # the draft's prompt afterwards (None: refused, the draft has no prompt)
    says: str | None = None  # the catalog text of the refusal
    lang: str = "en"


PROMPTS = [
    Prompt("sql", SQL, SQL),
    Prompt("format-strings", FORMAT, FORMAT, lang="ru"),
    Prompt("markdown", MARKDOWN, MARKDOWN),
    Prompt("html", HTML, HTML, lang="uz"),
    Prompt("emoji-zwj", FAMILY, FAMILY),
    Prompt("rtl-override", "cat\u202egnp.exe and a dog", "catgnp.exe and a dog"),
    Prompt("arabic-rtl", "قطة على القمر", "قطة على القمر", lang="ru"),
    Prompt("combining-nfc", "cafe\u0301 au lait", "café au lait"),
    Prompt("zalgo", ZALGO, jobs.clean_prompt(ZALGO)),
    Prompt("control-chars", "a\x07b\x1bc\x00d\u2028e", "abcd\u2028e"),
    Prompt("bom-and-zero-width", "\ufeffa\u200bcat", "acat"),
    Prompt("zero-width-only", "\u200b\u200c\u200d\u2060", None, "error-prompt-empty", lang="uz"),
    Prompt("just-over-the-limit", "x" * (jobs.PROMPT_MAX + 1), None, "error-prompt-too-long"),
    Prompt("telegram-maximum-4096", "ы" * 4096, None, "error-prompt-too-long", lang="ru"),
    Prompt("astral-4096", "𝕏" * 4096, None, "error-prompt-too-long"),
]


@pytest.mark.parametrize("case", PROMPTS, ids=[p.name for p in PROMPTS])
def test_a_hostile_prompt(database, caplog, case: Prompt):
    async def body(c: Case) -> None:
        ann = await c.user("Ann")
        await ann.send("/generate")
        await ann.press_data(encode("gen", "model", "gpt-image"))
        c.freeze()
        await ann.send(case.text)
        draft = drafts.get(users.get(ann.id).id)
        assert draft.prompt == (case.stored or None) or (case.stored is None and not draft.prompt)
        if case.stored is None:
            assert c.t(case.says, length=len(case.text), limit=jobs.PROMPT_MAX) in ann.panel.text, ann.panel.text
            return
        # on to the confirm screen: the prompt is shown literally (an excerpt), no smuggled entity
        await ann.press_data(next(b.data for row in ann.panel.button_rows for b in row
                                  if b.data and b.data.startswith(b"gen:skip:")))
        await ann.press_data(next(b.data for row in ann.panel.button_rows for b in row
                                  if b.data and b.data.startswith(b"gen:next:")))
        shown = case.stored if len(case.stored) <= 200 else case.stored[:150]
        assert shown in ann.panel.text, ann.panel.text
        assert all(only_code_entities(m) for m in ann.messages)

    hostile(database, caplog, body, lang=case.lang)


# --------------------------------------------------------------------------- names


NAMES = [  # (case, typed, kept)
    ("sql", "Robert'); DROP TABLE users;--", "Robert'); DROP TABLE users;--"),
    ("fluent-placeable", "{ $name } { -brand }", "{ $name } { -brand }"),
    ("format", "%s%s%n {0!r}", "%s%s%n {0!r}"),
    ("markup", "**Admin** [x](tg://user?id=1)", "**Admin** [x](tg://user?id=1)"),
    ("rtl-override", "\u202eNIMDA", "NIMDA"),  # the override would flip what follows it on the admin's screen
    # found here: the joiners were dropped as unprintable, so a family of four became four people
    ("emoji-zwj", "👩\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈", "👩\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈"),
    ("zero-width-only", "\u200b\u200b", ""),
]


@pytest.mark.parametrize("name,kept", [(n, k) for _, n, k in NAMES], ids=[i for i, _, _ in NAMES])
def test_a_hostile_first_name_reaches_the_inviter_and_the_admin_literally(database, caplog, name, kept):
    """Eve's name is chosen by Eve: it lands in Ann's "joined through your link" notice and in the
    admin's search and user card — as text, never as markup or a format string."""
    async def body(c: Case) -> None:
        ann = await c.user("Ann")
        boss = await c.staff()
        code = users.get(ann.id).referral_code
        c.freeze()
        eve = SimUser(c.tg, name, lang_code="en")
        c.people.append(eve)
        await eve.start(f"ref_{code}")
        eve_row = users.get(eve.id)
        assert eve_row.first_name == kept and eve_row.referrer_id == users.get(ann.id).id
        assert await deliver_once(c.bot.client, c.bot.storage, c.bot.sender) >= 1
        await c.tg.settle()
        assert ann.last.text == c.t("ref-friend-joined", name=kept or "🙂")
        await boss.send("/admin")
        await boss.press_data(encode("adm", "user", eve.id))
        assert f"id {eve.id}" in boss.panel.text
        assert all(only_code_entities(m) for m in ann.messages + boss.messages)

    # Eve is a new user (with her welcome grant): the users' list is the one thing that grows
    hostile(database, caplog, body, expect=("users", "transfers"))


# --------------------------------------------------------------------------- template text


TEMPLATE_TEXTS = [
    ("sql", "Noir'; DELETE FROM templates;--", SQL),
    ("format", "{ $name } %s {0}", FORMAT),
    ("markup", "**Noir** <b>x</b>", MARKDOWN + " " + HTML),
    ("unicode", "\u202eriоN 👩‍👩‍👧‍👦", ZALGO[:300]),
]


@pytest.mark.parametrize("title,prompt", [(t, p) for _, t, p in TEMPLATE_TEXTS], ids=[i for i, _, _ in TEMPLATE_TEXTS])
def test_hostile_template_text_is_shown_and_used_literally(database, caplog, title, prompt):
    async def body(c: Case) -> None:
        category = TemplateCategory.select().first()
        row = templates.create(actor=OPERATOR, category=category.slug, titles={"uz": title, "ru": title, "en": title},
                               prompts={"uz": prompt, "ru": prompt, "en": prompt}, model="gpt-image")
        stored = Template.get_by_id(row.id)
        ann = await c.user("Ann")
        c.freeze()
        await ann.press_data(encode("tpl", "open", row.id))
        assert stored.title_en in ann.panel.text or stored.title_en.strip() in ann.panel.text
        await ann.press_data(encode("tpl", "use", row.id))
        assert drafts.get(users.get(ann.id).id).prompt == stored.prompt_en
        assert all(only_code_entities(m) for m in ann.messages)

    hostile(database, caplog, body)


# --------------------------------------------------------------------------- admin reasons and searches


REASONS = [
    ("sql", SQL, True),
    ("format", FORMAT[:150], True),
    ("markup", MARKDOWN, True),
    ("zero-width-only", "\u200b\u200c\u200d", False),
    ("over-4096", "я" * 4096, False),
]


@pytest.mark.parametrize("reason,ok", [(r, ok) for _, r, ok in REASONS], ids=[i for i, _, _ in REASONS])
def test_a_hostile_ban_reason_is_kept_and_shown_literally_or_refused(database, caplog, reason, ok):
    async def body(c: Case) -> None:
        ann = await c.user("Ann", "ru", username="annie")
        boss = await c.staff()
        await boss.send("/admin")
        await boss.press_data(encode("adm", "uact", ann.id, "ban"))
        c.freeze()
        await boss.send(reason)
        if not ok:
            assert "✖ Cancel" in boss.buttons()
            assert not users.get(ann.id).banned
            return
        await boss.press("✅ Yes")
        row = users.get(ann.id)
        assert row.banned and row.ban_reason == " ".join(reason.split())
        assert await deliver_once(c.bot.client, c.bot.storage, c.bot.sender) == 1
        await c.tg.settle()
        assert row.ban_reason in ann.last.text and only_code_entities(ann.last)

    hostile(database, caplog, body, expect=("users", "applied") if ok else ())


SEARCHES = ["%", "_", "' OR 1=1 --", "\\", "\u200b", "я" * 100]


@pytest.mark.parametrize("query", SEARCHES, ids=["percent", "underscore", "sql", "backslash", "zero-width", "long"])
def test_a_hostile_admin_search_matches_nobody_and_says_so(database, caplog, query):
    """LIKE wildcards and quotes are searched for as characters: "%" is not "everyone"."""
    async def body(c: Case) -> None:
        await c.user("Ann", username="annie")
        boss = await c.staff()
        await boss.send("/admin")
        await boss.press_data(encode("adm", "find"))
        c.freeze()
        await boss.send(query)
        assert "annie" not in " ".join(boss.buttons()) and "@boss" not in " ".join(boss.buttons())

    hostile(database, caplog, body)
