"""Where a typed message goes: the text step a screen asked for (``services.conversation``, a row in
the database), else the wizard's prompt; and the bot's routing table, where ``adm:*`` presses reach
the admin router, which asks the database for the presser's role."""

from __future__ import annotations

import datetime as dt

import pytest

from bananapics.bot.callbacks import ROUTES, encode
from bananapics.bot.routing import PROMPT
from bananapics.bot.ui import Screen
from bananapics.db import atomic
from bananapics.errors import InvalidInput, PermissionDenied
from bananapics.models import AdminAction, Conversation, Job, User, utcnow
from bananapics.services import access, conversation, ledger
from bananapics.simtg import SimClient, SimUser
from tests.helpers import assert_ledger_clean, new_user, scenario
from tests.test_bot_wizard import account, draft_of, roomy

from bananapics.bot import build_bot


# ------------------------------------------------------------------------------ the service


def test_a_step_is_stored_read_replaced_and_cleared(database):
    me = new_user().id
    assert conversation.current(me) is None
    conversation.expect(me, "adm.grant", {"tg_id": 42, "note": "ünïcode"}, ttl_s=60)
    step = conversation.current(me)
    assert (step.name, step.data) == ("adm.grant", {"tg_id": 42, "note": "ünïcode"})
    conversation.expect(me, "adm.search")  # a user has one step: the newest question wins
    assert conversation.current(me).name == "adm.search" and conversation.current(me).data == {}
    assert Conversation.select().count() == 1
    conversation.clear(me)
    conversation.clear(me)  # clearing twice is fine
    assert conversation.current(me) is None


def test_an_expired_step_is_the_wizards_prompt_again(database):
    me = new_user().id
    conversation.expect(me, "adm.grant", ttl_s=60)
    with atomic():  # ten minutes later
        Conversation.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(Conversation.user == me).execute()
    assert conversation.current(me) is None
    conversation.expect(me, "adm.grant", ttl_s=60)  # asked again: the expired row is replaced
    assert conversation.current(me).name == "adm.grant"


def test_the_sweeper_deletes_expired_steps_in_one_statement(database, monkeypatch):
    from bananapics.services import jobs

    gone, kept = new_user().id, new_user().id
    conversation.expect(gone, "adm.grant", ttl_s=60)
    conversation.expect(kept, "adm.search", ttl_s=600)
    later = utcnow() + dt.timedelta(seconds=120)
    statements = []
    execute = database.execute_sql
    monkeypatch.setattr(database, "execute_sql", lambda sql, *a, **k: statements.append(sql) or execute(sql, *a, **k))
    assert conversation.expire(later) == 1
    work = [sql for sql in statements if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert len(work) == 1 and work[0].lstrip().upper().startswith("DELETE"), statements
    assert [c.user_id for c in Conversation.select()] == [kept]
    monkeypatch.undo()
    conversation.expect(gone, "adm.grant", ttl_s=60)
    report = jobs.sweep(now=later)  # the periodic sweeper does it too
    assert report.conversations_expired == 1 and [c.user_id for c in Conversation.select()] == [kept]
    assert jobs.sweep(now=later).conversations_expired == 0


@pytest.mark.parametrize("step, ttl", [("", 60), ("Adm.Grant", 60), ("adm..x", 60), ("a" * 33, 60), ("adm.x", 0)])
def test_a_bad_step_is_refused(database, step, ttl):
    me = new_user().id
    with pytest.raises(InvalidInput):
        conversation.expect(me, step, ttl_s=ttl)
    assert conversation.current(me) is None


def test_access_reads_the_role_from_the_database(database):
    ann = new_user()
    with pytest.raises(PermissionDenied):
        access.staff(ann.id)
    with atomic():
        User.update(role="support").where(User.id == ann.id).execute()
    assert access.staff(ann.id).role == "support"
    with pytest.raises(PermissionDenied):
        access.staff(ann.id, "catalog.edit", "model:nano-banana")


# ------------------------------------------------------------------------------ through the bot


def _admin_step(seen: list):
    """An admin text step as the admin panel will register one: the service checks the role."""
    def amount(text_input) -> Screen:
        access.staff(text_input.user_id, "ledger.adjust", f"user:{text_input.user_id}")
        seen.append((text_input.user_id, text_input.step, text_input.text, text_input.data))
        conversation.clear(text_input.user_id)
        return Screen(f"granted {text_input.text}")
    return amount


def test_an_admins_typed_amount_goes_to_the_admin_step_and_a_users_text_to_the_wizard(database):
    async def body(tg, bot):
        roomy(bot, tg)
        seen: list = []
        bot.add_text_steps({"adm.test": _admin_step(seen)})
        ada, ann = SimUser(tg, "Ada", lang_code="en"), SimUser(tg, "Ann", lang_code="en")
        for user in (ada, ann):
            await user.start()
        with atomic():
            User.update(role="admin").where(User.id == account(ada).id).execute()
        conversation.expect(account(ada).id, "adm.test", {"field": "price"})

        await ann.send("a lighthouse at dusk")  # nobody asked Ann anything: her prompt
        assert draft_of(ann).prompt == "a lighthouse at dusk" and seen == []

        await ada.send("35")
        assert seen == [(account(ada).id, "adm.test", "35", {"field": "price"})]
        assert ada.last.text == "granted 35" and draft_of(ada).prompt is None

        await ada.send("a cat in a hat")  # answered: typed text is the prompt again
        assert len(seen) == 1 and draft_of(ada).prompt == "a cat in a hat"

    scenario(database, body)


def test_cancel_and_a_new_draft_drop_the_step(database):
    async def body(tg, bot):
        roomy(bot, tg)
        seen: list = []
        bot.add_text_steps({"adm.test": _admin_step(seen)})
        ada = SimUser(tg, "Ada", lang_code="en")
        await ada.start()
        me = account(ada).id
        conversation.expect(me, "adm.test")
        await ada.send("/cancel")
        assert conversation.current(me) is None
        await ada.send("12")
        assert seen == [] and draft_of(ada).prompt == "12"

        conversation.expect(me, "adm.test")
        await ada.send("/generate")
        assert conversation.current(me) is None

    scenario(database, body)


def test_the_step_survives_a_bot_restart(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ada = SimUser(tg, "Ada", lang_code="en")
        await ada.start()
        with atomic():
            User.update(role="admin").where(User.id == account(ada).id).execute()
        conversation.expect(account(ada).id, "adm.test", {"n": 1})
        await bot.client.disconnect()  # the bot process stops …

        client = SimClient(telegram=tg)  # … and a new one starts on the same database
        second = build_bot(bot.config, client, tasks=bot.tasks)
        roomy(second, tg)
        seen: list = []
        second.add_text_steps({"adm.test": _admin_step(seen)})
        await client.start(bot_token=tg.bot_token)
        await second.start(delivery_loop=False)
        try:
            await ada.send("50")
            assert seen == [(account(ada).id, "adm.test", "50", {"n": 1})]
        finally:
            await client.disconnect()

    scenario(database, body)


def test_an_expired_or_unknown_step_sends_the_text_to_the_wizard(database):
    async def body(tg, bot):
        roomy(bot, tg)
        seen: list = []
        bot.add_text_steps({"adm.test": _admin_step(seen)})
        ada = SimUser(tg, "Ada", lang_code="en")
        await ada.start()
        me = account(ada).id
        conversation.expect(me, "adm.gone")  # a step no module serves (e.g. after an upgrade)
        await ada.send("a red fox")
        assert draft_of(ada).prompt == "a red fox"
        conversation.expect(me, "adm.test")
        with atomic():
            Conversation.update(expires_at=utcnow() - dt.timedelta(seconds=1)).execute()
        await ada.send("a blue fox")
        assert seen == [] and draft_of(ada).prompt == "a blue fox"

    scenario(database, body)


# ------------------------------------------------------------------------------ the routing table


def test_every_declared_route_is_served_by_exactly_one_module(database):
    """All but the admin panel's sections (a later change) and the inert page counter; the wizard's
    prompt is the default text step."""
    async def body(tg, bot):
        unserved = set(ROUTES) - set(bot.actions)
        assert unserved <= {r for r in ROUTES if r[0] == "adm"} | {("menu", "noop")}
        assert {("adm", "home"), ("adm", "sec"), ("adm", "yes"), ("adm", "no"), ("adm", "cancel"), ("adm", "user"),
                ("adm", "uact"), ("adm", "refund"), ("adm", "log")} <= set(bot.actions)
        assert PROMPT in bot.text_steps
        with pytest.raises(ValueError):
            bot.add_actions({("gen", "new"): lambda press: None})  # taken by the wizard
        with pytest.raises(ValueError):
            bot.add_actions({("gen", "nope"): lambda press: None})  # not a declared route

    scenario(database, body)


def test_a_forged_admin_press_by_a_user_changes_nothing_and_reveals_nothing(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        menu = ann.buttons()
        for data in (encode("adm", "home"), encode("adm", "sec", "users"), encode("adm", "uact", me, "grant"),
                     encode("adm", "refund", 1), encode("adm", "yes", "ab12")):
            answer = await ann.press_data(data, message=ann.panel)
            assert answer.answered and answer.message == "This button is outdated."
            assert ann.panel.text == "🍌 BananaPics — balance: 50 tokens" and ann.buttons() == menu  # the main menu
        assert ledger.balance(me) == (50, 0) and User.get_by_id(me).role == "user"
        # each served admin route logs the refusal; nothing else is written
        assert [(a.actor, a.action, a.outcome) for a in AdminAction.select()] == \
            [(f"tg:{User.get_by_id(me).tg_id}", "read", "denied")] * 5
        assert Job.select().count() == 0
        assert_ledger_clean()

    scenario(database, body)


def test_an_admin_reaches_the_admin_panel_and_loses_it_with_the_role(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ada = SimUser(tg, "Ada", lang_code="en")
        await ada.start()
        with atomic():
            User.update(role="admin").where(User.id == account(ada).id).execute()
        answer = await ada.press_data(encode("adm", "home"), message=ada.panel)
        assert answer.answered and not answer.message and "Admin panel" in ada.panel.text
        with atomic():  # demoted by another admin: the next press reads the role again
            User.update(role="user").where(User.id == account(ada).id).execute()
        answer = await ada.press_data(encode("adm", "home"), message=ada.panel)
        assert answer.message == "This button is outdated." and "Admin panel" not in ada.panel.text

    scenario(database, body)


def test_a_demoted_admins_pending_step_is_dropped_and_the_text_is_a_prompt(database):
    async def body(tg, bot):
        roomy(bot, tg)
        seen: list = []
        bot.add_text_steps({"adm.test": _admin_step(seen)})
        ada = SimUser(tg, "Ada", lang_code="en")
        await ada.start()
        me = account(ada).id
        conversation.expect(me, "adm.test")  # asked while she was an admin; her role is "user" now
        await ada.send("35")
        assert seen == [] and draft_of(ada).prompt == "35" and conversation.current(me) is None
        # the service refused the step (and logged it as any refused admin call); nothing else was written
        assert [(a.action, a.outcome) for a in AdminAction.select()] == [("ledger.adjust", "denied")]

    scenario(database, body)


def test_the_bots_tables_are_the_feature_modules_tables(database):
    """One shape: every button handler and text step the bot has comes from some module's ACTIONS or
    TEXT_STEPS table, each a module-level callable of that module."""
    import importlib
    import pkgutil

    import bananapics.bot as package

    async def body(tg, bot):
        actions, steps = {}, {}
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"bananapics.bot.{info.name}")
            for key, handler in getattr(module, "ACTIONS", {}).items():
                assert handler.__module__ == module.__name__, (key, handler)
                actions[key] = handler
            steps.update(getattr(module, "TEXT_STEPS", {}))
        assert actions == bot.actions
        assert steps == bot.text_steps

    scenario(database, body)
