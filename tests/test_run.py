"""`bananapics run bot` / `run all` through the CLI entry point, on the simulated Telegram (the
client factory is swapped, everything else is the production path): login with the token, command
menus, answers, catch-up after a restart, a job through the in-process worker, shutdown on
SIGTERM/SIGINT, the session file's mode; missing, malformed and refused secrets."""

from __future__ import annotations

import asyncio
import os
import signal
import stat

import pytest
from typer.testing import CliRunner

from bananapics.bot import runner
from bananapics.cli.main import app
from bananapics.models import db as proxy
from bananapics.simtg import FakeTelegram, SimClient, SimUser

API_HASH = "0123456789abcdef0123456789abcdef"
REAL_RUN = runner.run


@pytest.fixture
def run_cli(database, database_url, tmp_path, monkeypatch):
    """`bananapics ARGS` with this test's database and Telegram secrets; returns (code, out, err)."""
    monkeypatch.chdir(tmp_path)
    base = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_TELEGRAM__API_ID": "12345",
            "BANANAPICS_TELEGRAM__API_HASH": API_HASH, "BANANAPICS_STORAGE__PATH": str(tmp_path / "media"),
            "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "local", "BANANAPICS_USERS__START_BALANCE": "50",
            # `run all` schedules the Stars reconcile over the Bot API: a closed local port, never the internet
            "BANANAPICS_TELEGRAM__BOT_API_URL": "http://127.0.0.1:9"}

    def run(*args: str, **env: str):
        result = CliRunner().invoke(app, list(args), env={**base, **env})
        proxy.initialize(database)  # the CLI bound its own connection; hand the proxy back
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def simulated(monkeypatch, tg: FakeTelegram, script, signum=signal.SIGTERM):
    """Swap the real client for a SimClient on ``tg`` (logging in with the token like a fresh
    session); once the bot runs, ``script(bot)`` plays the user and then the process gets ``signum``."""
    outcome: dict = {"clients": []}

    def factory(session, api_id, api_hash, **options):
        client = SimClient(session, api_id, api_hash, telegram=tg, authorized=False, **options)
        outcome["clients"].append((client, options))
        return client

    async def run_and_play(*args, **kwargs):
        def started(bot):
            async def play():
                try:
                    await script(bot)
                    outcome["played"] = True
                finally:
                    os.kill(os.getpid(), signum)

            outcome["task"] = asyncio.get_running_loop().create_task(play())

        await REAL_RUN(*args, started=started, **kwargs)
        await outcome["task"]  # re-raises the script's assertion errors

    monkeypatch.setattr(runner, "client_factory", factory)
    monkeypatch.setattr(runner, "run", run_and_play)
    return outcome


def test_run_bot_answers_catches_up_after_restart_and_stops_on_sigterm(run_cli, monkeypatch, tmp_path):
    tg = FakeTelegram()
    ann = SimUser(tg, "Ann", lang_code="en")

    async def first(bot):
        await ann.start()
        assert "Welcome to BananaPics" in ann.panel.text
        assert tg.commands_for(lang_code="en")  # the command menu was set per language

    outcome = simulated(monkeypatch, tg, first)
    code, out, err = run_cli("run", "bot", BANANAPICS_TELEGRAM__BOT_TOKEN=tg.bot_token)
    assert code == 0 and outcome["played"] and "bot: stopped" in out
    assert "running (session data/bot.session)" in err and "shutting down" in err and "ERROR" not in err
    client, options = outcome["clients"][0]
    assert options == {"catch_up": True} and not client.is_connected()
    session = tmp_path / "data" / "bot.session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600

    async def offline():  # the bot is down: Telegram keeps the update
        await ann.send("/balance")

    asyncio.run(offline())

    async def second(bot):
        for _ in range(200):  # catch-up answers what was sent while the bot was down
            if ann.panel.text.startswith("💰 Balance"):
                break
            await asyncio.sleep(0.01)
        assert ann.panel.text.startswith("💰 Balance: 50 tokens")

    outcome = simulated(monkeypatch, tg, second)
    code, out, err = run_cli("run", "bot", BANANAPICS_TELEGRAM__BOT_TOKEN=tg.bot_token)
    assert code == 0 and outcome["played"] and "ERROR" not in err
    assert len(tg.requests_of(__import__("telethon").functions.auth.ImportBotAuthorizationRequest)) == 1  # kept


def test_sigterm_lets_the_answer_in_flight_finish(run_cli, monkeypatch):
    """SIGTERM while /balance is being answered: the answer is sent before the connection closes
    (Telethon alone would disconnect first and the user would get silence)."""
    import time

    from bananapics.bot import payments

    tg = FakeTelegram()
    ann = SimUser(tg, "Ann", lang_code="en")
    slow_balance = payments.balance
    entered = []

    def balance(user_id):
        entered.append(user_id)
        time.sleep(0.5)  # in the handler's database thread: the signal arrives meanwhile
        return slow_balance(user_id)

    async def script(bot):
        await ann.start()
        monkeypatch.setattr(payments, "balance", balance)
        tg.user_sends(ann.record, [{"text": "/balance", "entities": None}])  # not waiting for the answer
        for _ in range(200):
            if entered:
                break
            await asyncio.sleep(0.01)
        assert entered  # the handler is running; the script ends and the process gets SIGTERM

    outcome = simulated(monkeypatch, tg, script)
    code, out, err = run_cli("run", "bot", BANANAPICS_TELEGRAM__BOT_TOKEN=tg.bot_token)
    assert code == 0 and outcome["played"] and "ERROR" not in err
    assert ann.panel.text.startswith("💰 Balance: 50 tokens")


def test_run_all_generates_through_the_in_process_worker_and_stops_on_sigint(run_cli, monkeypatch):
    tg = FakeTelegram()
    ann = SimUser(tg, "Ann", lang_code="en")

    async def script(bot):
        await ann.start()
        await ann.press("Generate")
        await ann.press("SeeDream 4")
        await ann.send("a banana on the moon")
        await ann.press("Skip")
        await ann.press("Next")  # the settings step: defaults
        await ann.press("Generate — 10")
        for _ in range(600):  # the worker thread runs the job, the delivery loop sends the result
            if any(m.media_kind == "document" for m in ann.messages):
                break
            await asyncio.sleep(0.05)
        assert [m.media_kind for m in ann.messages if m.media_kind] == ["photo", "document"]

    outcome = simulated(monkeypatch, tg, script, signum=signal.SIGINT)
    code, out, err = run_cli("run", "all", "-w", "2", BANANAPICS_TELEGRAM__BOT_TOKEN=tg.bot_token)
    assert code == 0 and outcome["played"] and "ERROR" not in err
    assert "worker: sqlite queue, 2 threads" in out and "worker in this process" in err


@pytest.mark.parametrize("env, expected", [
    ({}, "[telegram] bot_token not set: export BANANAPICS_TELEGRAM__BOT_TOKEN"),
    ({"BANANAPICS_TELEGRAM__BOT_TOKEN": "12345:short"}, "bot_token does not look like a BotFather token"),
    ({"BANANAPICS_TELEGRAM__API_ID": "my-app", "BANANAPICS_TELEGRAM__BOT_TOKEN": "1:AAAAAAAAAAAAAAAAAAAAAAAA"},
     "api_id must be the number my.telegram.org shows"),
    ({"BANANAPICS_TELEGRAM__API_ID": "²", "BANANAPICS_TELEGRAM__BOT_TOKEN": "1:AAAAAAAAAAAAAAAAAAAAAAAA"},
     "api_id must be the number my.telegram.org shows"),
    ({"BANANAPICS_TELEGRAM__API_HASH": "secret-hash-xyz", "BANANAPICS_TELEGRAM__BOT_TOKEN": "1:AAAAAAAAAAAAAAAAAAAA"},
     "api_hash must be the 32 hex characters"),
])
def test_missing_or_malformed_secrets_are_one_line(run_cli, env, expected):
    code, out, err = run_cli("run", "bot", **env)
    assert code == 1 and out == "" and err.count("\n") == 1 and expected in err
    for value in env.values():  # a secret is named, never shown
        assert value not in err or value.startswith("BANANAPICS")


def test_token_refused_by_telegram_is_one_line(run_cli, monkeypatch, tmp_path):
    tg = FakeTelegram()

    async def never(bot):
        raise AssertionError("the bot must not start")

    simulated(monkeypatch, tg, never)
    code, out, err = run_cli("run", "all", BANANAPICS_TELEGRAM__BOT_TOKEN=tg.bot_token[:-4] + "beef")
    assert code == 1 and err.count("\n") == 1
    assert "Telegram refused the bot token (AccessTokenInvalidError)" in err and tg.bot_token[-8:] not in err
    assert stat.S_IMODE((tmp_path / "data" / "bot.session").stat().st_mode) == 0o600
