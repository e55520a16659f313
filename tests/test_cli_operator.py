"""Operator safety of the CLI (issue 13): user text cannot drive the terminal, hostile arguments get one
line, operator actions on users' jobs and payments are logged, `users forget` works end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from bananapics.cli.main import app
from bananapics.db import atomic
from bananapics.models import AdminAction, Job, Outbox, Payment, Transfer, User
from bananapics.models import db as proxy
from bananapics.services import invoices, jobs, users
from bananapics.services.audit import Actor
from bananapics.services.reconcile import reconcile
from bananapics.text import safe_terminal
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, new_user, scenario
from tests.test_bot_wizard import deliver, roomy
from tests.test_payments_service import FakeStars, package, tx
from tests.test_pipeline import use_local_provider

runner = CliRunner()
HOSTILE = "Eve\x1b[2J\x1b]0;pwned\x07\u202egnp.exe\x9b31m\x7f"
RAW = ("\x1b", "\u202e", "\x9b", "\x07", "\x7f")


@pytest.fixture
def cli(database, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_OPERATOR__NAME": "tester",
           "BANANAPICS_STORAGE__PATH": str(tmp_path / "media"), "BANANAPICS_QUEUE__BACKEND": "immediate"}

    def run(*args: str, input: str | None = None):
        result = runner.invoke(app, list(args), env=env, input=input)
        proxy.initialize(database)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def one_line_error(code: int, err: str) -> bool:
    return code != 0 and err.startswith("error:") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---------------------------------------------------------------- item 10: terminal-safe output

def test_safe_terminal_shows_controls_and_bidi_visibly():
    assert safe_terminal("a\x1b[31mb\u202ec\x9b\x7f\n\u2066") == "a\\x1b[31mb\\u202ec\\x9b\\x7f\\x0a\\u2066"
    assert safe_terminal("Zoë 🍌 مرحبا\u200d") == "Zoë 🍌 مرحبا\u200d"  # ordinary text, joiners untouched


def test_user_text_never_reaches_the_terminal_raw(cli):
    # registration drops control characters from names; rows written before that (or by any other
    # path) may still hold them, and a ban reason is free text
    user = users.register(812_345_678, first_name="Eve", username="eve").user
    User.update(first_name=HOSTILE).where(User.id == user.id).execute()
    code, out, err = cli("users", "ban", str(user.tg_id), "--reason", f"spam {HOSTILE}")
    assert code == 0, err
    outputs = [out]
    for args in (("users", "search", "eve"), ("users", "search", "@eve"), ("users", "show", str(user.tg_id)),
                 ("audit",), ("audit", "--json"), ("users", "search", "eve", "--json")):
        code, out, err = cli(*args)
        assert code == 0, err
        outputs.append(out)
    for text in outputs:
        assert not any(ch in text for ch in RAW), text
    assert "\\x1b[2J" in outputs[1] and "spam Eve\\x1b[2J" in outputs[3]
    # JSON keeps the exact text: the escapes decode back to it
    assert json.loads(outputs[-1])[0]["first_name"] == HOSTILE
    assert json.loads(outputs[-2])["items"][0]["reason"] == f"spam {HOSTILE}"


def test_an_error_echoing_a_hostile_argument_is_escaped(cli):
    code, _, err = cli("jobs", "show", "\x1b[31mX")
    assert code == 3 and "\x1b" not in err and "\\x1b[31mX" in err


# ---------------------------------------------------------------- item 11: hostile input, one line

def test_telegram_ids_beyond_64_bits_are_one_line(cli):
    new_user(tg_id=555)
    huge = str(2**70)
    for args in (("users", "show", huge), ("users", "show", "--", "-" + huge), ("ledger", "adjust", huge, "5", "-r", "x"),
                 ("ledger", "show", huge), ("users", "role", huge, "admin"), ("users", "ban", huge, "-r", "x"),
                 ("jobs", "list", "--user", huge), ("payments", "list", "--user", huge),
                 ("users", "forget", huge, "-r", "x", "--yes")):
        code, _, err = cli(*args)
        assert one_line_error(code, err) and "not a Telegram user id" in err, (args, err)


def test_arguments_that_are_not_utf8_are_one_line(cli):
    new_user(tg_id=556)
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")  # what Python makes of non-UTF-8 argv bytes
    for args in (("users", "search", bad), ("users", "ban", "556", "--reason", bad), ("jobs", "show", bad),
                 ("audit", "--target", bad), ("payments", "show", bad)):
        code, _, err = cli(*args)
        assert code == 2 and "not valid UTF-8" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not User.get(User.tg_id == 556).banned


def test_generate_refuses_devices_directories_and_unwritable_outputs(cli, tmp_path):
    use_local_provider()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever
    for ref in ("/dev/zero", str(tmp_path), str(fifo)):
        code, _, err = cli("generate", "-m", "seedream-4", "-p", "x", "--ref", ref)
        assert one_line_error(code, err), err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli("generate", "-m", "seedream-4", "-p", "x", "--out", str(blocker / "sub"))
    assert one_line_error(code, err) and "cannot write images" in err
    assert Job.select().count() == 0  # refused before anything ran


# ---------------------------------------------------------------- item 3: operator actions are logged

def _photo(path: Path) -> Path:
    Image.new("RGB", (64, 48), (10, 120, 200)).save(path, "JPEG")
    return path


def test_generate_for_a_user_records_the_operator_and_can_deliver(cli, tmp_path):
    use_local_provider()
    user = new_user(100)
    code, out, err = cli("generate", "-m", "seedream-4", "-p", "a fox", "--user", str(user.tg_id),
                         "--out", str(tmp_path / "o"), "--as", "alice")
    assert code == 0, err and "add --deliver" in out
    first = Job.get()
    assert first.chat_id is None and Outbox.select().count() == 0
    hold = Transfer.get((Transfer.kind == "hold") & (Transfer.ref == first.id))
    assert hold.actor == "cli:alice"
    log = AdminAction.get(AdminAction.action == "jobs.generate")
    assert (log.actor, log.target, json.loads(log.after)["job"]) == ("cli:alice", f"user:{user.tg_id}", first.id)

    code, out, err = cli("generate", "-m", "seedream-4", "-p", "a fox", "--user", str(user.tg_id),
                         "--ref", str(_photo(tmp_path / "r.jpg")), "--out", str(tmp_path / "o"), "--deliver")
    assert code == 0, err and "queued for delivery" in out
    second = Job.get(Job.id != first.id)
    row = Outbox.get(Outbox.job == second.id)
    assert (row.chat_id, row.kind, row.user_id) == (user.tg_id, "job_result", user.id)
    assert AdminAction.select().where(AdminAction.action == "jobs.generate").count() == 2
    code, _, err = cli("generate", "-m", "seedream-4", "-p", "x", "--deliver")
    assert code == 2 and "--deliver needs --user" in err
    assert_ledger_clean()


def test_jobs_retry_sweep_and_purge_write_the_admin_log(cli):
    user = new_user(100)
    with atomic():
        job = jobs.submit(user.id, "seedream-4", "stuck")
    code, out, err = cli("jobs", "retry", job.id, "--as", "bob")
    assert code == 0, err
    code, out, err = cli("jobs", "sweep", "--json")
    assert code == 0, err
    code, out, err = cli("jobs", "purge-media", "--json")
    assert code == 0, err and json.loads(out)["prompts_cleared"] == 0
    logged = [(a.actor, a.action, a.target) for a in AdminAction.select().order_by(AdminAction.id)]
    assert logged == [("cli:bob", "jobs.retry", f"job:{job.id}"), ("cli:tester", "jobs.sweep", "jobs"),
                      ("cli:tester", "jobs.purge_media", "storage")]


def test_reconcile_logs_what_it_changed_and_the_run(database):
    ann = new_user()
    missed = invoices.create_intent(ann.id, package(250).id)
    report = reconcile(FakeStars([tx("missed", ann, 250, missed.payload)]), actor=Actor.operator("carol"))
    assert report.credited == ["missed"]
    logged = [(a.actor, a.action, a.target) for a in AdminAction.select().order_by(AdminAction.id)]
    assert logged == [("cli:carol", "payments.reconcile_credit", "charge:missed"),
                      ("cli:carol", "payments.reconcile", "payments")]
    reconcile(FakeStars([tx("missed", ann, 250, missed.payload)]))  # the periodic run: nothing new, no row
    assert AdminAction.select().count() == 2
    assert Payment.select().count() == 1


def test_reconcile_does_not_flag_the_payments_of_a_forgotten_user(database, tmp_path):
    from bananapics.services import payments, privacy
    from bananapics.storage import LocalStorage

    ann = new_user()
    intent = invoices.create_intent(ann.id, package(50).id)
    payments.credit_charge(ann.tg_id, intent.payload, "c1", currency="XTR", amount=50)
    privacy.forget(ann.tg_id, actor=Actor.operator("t"), reason="asked", storage=LocalStorage(tmp_path))
    assert reconcile(FakeStars([tx("c1", ann, 50, intent.payload)])).mismatches == []
    assert_ledger_clean()


# ---------------------------------------------------------------- item 13: users forget from the CLI

def test_users_forget_asks_then_erases(cli):
    user = new_user(20, first_name="Ann", username="ann")
    code, _, err = cli("users", "forget", str(user.tg_id), "-r", "request", input="n\n")
    assert code == 1 and User.get_by_id(user.id).first_name == "Ann"
    code, out, err = cli("users", "forget", str(user.tg_id), "-r", "request", "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["anonymous_id"] == -user.id and json.loads(out)["replayed"] is False
    row = User.get_by_id(user.id)
    assert (row.tg_id, row.first_name, row.username, row.available) == (-user.id, "", None, 20)
    code, _, err = cli("users", "show", str(user.tg_id))
    assert code == 3 and "not found" in err
    code, out, _ = cli("users", "forget", str(user.tg_id), "-r", "request", "--yes")
    assert code == 0 and "already forgotten" in out
    assert_ledger_clean()


def test_operator_names_and_secret_files_from_hostile_places(cli, monkeypatch):
    from bananapics.config import load_config
    from bananapics.errors import ConfigError

    new_user(tg_id=557)
    code, _, err = cli("users", "ban", "557", "-r", "x", "--as", "bob\x1b[2J")
    assert code == 2 and "--as" in err and not User.get(User.tg_id == 557).banned
    with pytest.raises(ConfigError, match="control and bidi"):
        load_config(None, environ={"BANANAPICS_OPERATOR__NAME": "eve\u202e"})
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(None, environ={"BANANAPICS_TELEGRAM__BOT_TOKEN_FILE": "/dev/zero"})
    os.mkfifo("fifo")
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(None, environ={"BANANAPICS_QUEUE__SIGNING_KEY_FILE": "fifo"})
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_config(None, environ={"BANANAPICS_TELEGRAM__BOT_TOKEN": "caf\udce9"})


@pytest.mark.parametrize("fmt, shown", [("text", "Eve\\x1b[2J"), ("json", "Eve\\u001b[2J")])
def test_log_lines_show_user_text_escaped(capsys, fmt, shown):
    import logging

    from bananapics.config import load_config
    from bananapics.logs import setup_logging

    setup_logging(load_config(None, environ={"BANANAPICS_LOGGING__FORMAT": fmt}))
    logging.getLogger("bananapics.test").warning("user %s wrote %r", HOSTILE, "x")
    err = capsys.readouterr().err
    logging.getLogger().handlers.clear()
    assert not any(ch in err for ch in RAW) and shown in err


def test_an_operator_job_with_delivery_reaches_the_users_chat(database):
    """`generate --user … --deliver`: the job carries the user's chat, so the bot's delivery loop
    sends its result like any bot job."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        user = users.get(ann.id)
        with atomic():
            job = jobs.submit(user.id, "seedream-4", "a gift from support", source="cli", chat_id=ann.id,
                              actor=Actor.operator("support"))
            bot.tasks.enqueue_after_commit(job.id)  # the immediate queue runs it at the commit
        assert jobs.get(job.id).status == "succeeded"
        before = len(ann.messages)
        assert await deliver(bot) == 1
        assert [m.media_kind for m in ann.messages[before:]][:2] == ["photo", "document"]
        assert_ledger_clean()

    scenario(database, body)
