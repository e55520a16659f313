"""Metrics and logs as an operator sees them: a scrape of /metrics after users used the bot through
the simulated Telegram (updates, handlers, jobs, provider, delivery, Stars, refunds, flood control),
no user id in any label, the observability leader's gauges and ledger verify, JSON log lines
carrying the update's and the job's ids with secrets redacted."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import urllib.request

import pytest
from prometheus_client import REGISTRY

from bananapics import metrics
from bananapics.bot.delivery import deliver_once
from bananapics.bot.ratelimit import UserLimiter
from bananapics.config import DatabaseConfig, load_config
from bananapics.logs import JsonFormatter, SecretFilter, context, setup_logging
from bananapics.models import User
from bananapics.providers.base import ProviderError
from bananapics.services import jobs, observability, users
from bananapics.simtg import SimUser
from bananapics.worker import Runtime, run_job
from tasks.observability import Observer, dedicated_connection
from tests.helpers import new_user, scenario
from tests.test_jobs import Scripted
from tests.test_payments_bot import buy


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def test_a_bot_session_shows_up_in_the_scrape_without_user_ids(database):
    port = free_port()
    before = {
        "msg": value("bananapics_updates_total", kind="UpdateNewMessage"),
        "press": value("bananapics_updates_total", kind="UpdateBotCallbackQuery"),
        "start": value("bananapics_handler_seconds_count", handler="on_start"),
        "submitted": value("bananapics_jobs_total", state="submitted", model="nano-banana"),
        "succeeded": value("bananapics_jobs_total", state="succeeded", model="nano-banana"),
        "failed": value("bananapics_jobs_total", state="failed", model="nano-banana"),
        "job_refunds": value("bananapics_refunds_total", kind="job"),
        "sent": value("bananapics_deliveries_total", outcome="sent"),
        "calls": value("bananapics_provider_seconds_count", provider="gemini"),
        "down": value("bananapics_provider_errors_total", provider="gemini", kind="moderation"),
        "stars": value("bananapics_stars_received_total"),
        "tokens": value("bananapics_tokens_sold_total"),
        "refused": value("bananapics_flood_refusals_total", kind="button"),
    }
    seen: dict[str, object] = {}

    async def body(tg, bot):
        bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)
        assert metrics.serve(port) == port
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Balance")
        await ann.pay(await buy(ann))  # ⭐ 50 → tokens
        user = users.get(ann.id)
        ok = jobs.submit(user.id, "nano-banana", "a ripe banana", {"count": 1}, chat_id=ann.id)
        run_job(ok.id, Runtime(storage=bot.storage, provider_for=lambda _: Scripted()))
        bad = jobs.submit(user.id, "nano-banana", "a green banana", {"count": 1}, chat_id=ann.id)
        run_job(bad.id, Runtime(storage=bot.storage, provider_for=lambda _: Scripted(ProviderError("moderation", "blocked"))))
        tg.clock.advance(5)
        await deliver_once(bot.client, bot.storage, bot.sender)
        await tg.settle()
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        bot.limiter = UserLimiter(rate_per_min=6, burst=1)
        for _ in range(3):
            await bob.press_data(b"bal:open")
        seen.update(text=scrape(port), ids=(ann.id, bob.id, user.id))

    try:
        scenario(database, body)
    finally:
        metrics.stop_serving()
    assert value("bananapics_updates_total", kind="UpdateNewMessage") > before["msg"]
    assert value("bananapics_updates_total", kind="UpdateBotCallbackQuery") >= before["press"] + 4
    assert value("bananapics_handler_seconds_count", handler="on_start") >= before["start"] + 2
    assert value("bananapics_jobs_total", state="submitted", model="nano-banana") == before["submitted"] + 2
    assert value("bananapics_jobs_total", state="succeeded", model="nano-banana") == before["succeeded"] + 1
    assert value("bananapics_jobs_total", state="failed", model="nano-banana") == before["failed"] + 1
    assert value("bananapics_refunds_total", kind="job") == before["job_refunds"] + 1
    assert value("bananapics_deliveries_total", outcome="sent") >= before["sent"] + 2
    assert value("bananapics_provider_seconds_count", provider="gemini") == before["calls"] + 2
    assert value("bananapics_provider_errors_total", provider="gemini", kind="moderation") == before["down"] + 1
    assert value("bananapics_stars_received_total") == before["stars"] + 50
    assert value("bananapics_tokens_sold_total") > before["tokens"]
    assert value("bananapics_flood_refusals_total", kind="button") >= before["refused"] + 1
    text = seen["text"]
    for family in ("bananapics_updates_total", "bananapics_handler_seconds_bucket", "bananapics_jobs_total",
                   "bananapics_deliveries_total", "bananapics_provider_seconds_bucket",
                   "bananapics_stars_received_total", "process_resident_memory_bytes"):
        assert family in text
    label_values = {v for name, v in re.findall(r'(\w+)="([^"]*)"', text) if name not in ("le", "generation")}
    for user_id in seen["ids"]:
        assert str(user_id) not in label_values  # no user id (Telegram's or ours) as a label value
    tg_ids = seen["ids"][:2]
    assert not any(str(tg_id) in text for tg_id in tg_ids)  # nor anywhere else in the scrape


def test_port_zero_serves_nothing():
    assert metrics.serve(0) is None


@pytest.fixture
def observer_config(database_url):
    return load_config(None, environ={"BANANAPICS_DATABASE__URL": database_url})


def test_leader_sets_the_gauges_and_the_verify_finds_a_breach(database, observer_config):
    ann = new_user(start=40)
    job = jobs.submit(ann.id, "nano-banana", "queued banana", {"count": 1})
    lock = observability.LeaderLock(lambda: dedicated_connection(observer_config))
    observer = Observer(lock, verify_every_s=600)
    try:
        assert observer.tick() is True
        assert value("bananapics_observer_leader") == 1
        assert value("bananapics_queue_depth") == 1
        assert value("bananapics_jobs_active", state="queued", model=job.model) == 1
        assert value("bananapics_ledger_verify_breaches") == 0
        # someone edits a balance behind the ledger's back: the next verify round sees it
        User.update(available=User.available + 7).where(User.id == ann.id).execute()
        observer.tick()
        assert value("bananapics_ledger_verify_breaches") == 0  # not due yet (every 10 minutes)
        later = observer.clock() + 601  # past verify_every_s from now (not a fixed instant: the monotonic
        observer.clock = lambda: later  # clock counts from boot, so a fixed 10,000 s was "earlier" on a long-up machine)
        observer.tick()
        assert value("bananapics_ledger_verify_breaches") >= 1
    finally:
        lock.release()
        User.update(available=User.available - 7).where(User.id == ann.id).execute()


def test_only_one_worker_leads_on_postgres_and_another_takes_over(database, engine, observer_config):
    if engine != "postgres":
        pytest.skip("SQLite has a single worker, which always leads")
    first = observability.LeaderLock(lambda: dedicated_connection(observer_config))
    second = observability.LeaderLock(lambda: dedicated_connection(observer_config))
    try:
        assert first.held() is True
        assert second.held() is False
        assert first.held() is True  # still leading on the next round
        first.release()  # the leader's process stops (or its connection drops)
        assert second.held() is True
        assert first.held() is False
    finally:
        first.release()
        second.release()


def test_json_lines_carry_the_update_and_user_ids_set_for_the_update(database):
    lines: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(JsonFormatter().format(record)))

    async def body(tg, bot):
        log = logging.getLogger("bananapics.test_metrics")

        async def late_handler(event):  # registered after instrumenting: sees the context set first
            log.warning("update seen")

        bot.client.add_event_handler(late_handler)
        handler = Collect()
        log.addHandler(handler)
        try:
            ann = SimUser(tg, "Ann", lang_code="en")
            await ann.start()
            seen = [line for line in lines if line["msg"] == "update seen" and "user_id" in line]
            assert seen and all(line["user_id"] == ann.id for line in seen)
            assert any(isinstance(line.get("update_id"), int) for line in seen)
        finally:
            log.removeHandler(handler)

    scenario(database, body)


def test_json_format_with_job_and_charge_ids_and_secrets_redacted(capsys):
    cfg = load_config(None, environ={"BANANAPICS_LOGGING__FORMAT": "json",
                                     "BANANAPICS_PROVIDERS__OPENAI_API_KEY": "sk-proj-verysecretvalue"})
    setup_logging(cfg)
    log = logging.getLogger("bananapics.test")
    try:
        with context(job_id="j123", charge_id="ch_9"):
            log.warning("calling with key %s", "sk-proj-verysecretvalue")
            try:
                raise RuntimeError("bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw failed \x1b[31m")
            except RuntimeError:
                log.exception("boom")
        log.warning("outside")
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    records = [json.loads(line) for line in err.splitlines()]
    assert [r["msg"] for r in records] == ["calling with key ********", "boom", "outside"]
    assert records[0]["job_id"] == "j123" and records[0]["charge_id"] == "ch_9"
    assert "job_id" not in records[2]
    assert "Traceback" in records[1]["exc"] and "AAHdqTcv" not in err and "verysecret" not in err
    assert "\x1b" not in err  # escaped inside the JSON string


def test_auto_format_is_text_on_a_terminal():
    from bananapics.logs import wants_json

    class Tty(io.StringIO):
        def isatty(self):
            return True

    cfg = load_config(None, environ={})
    assert cfg.logging.format == "auto"
    assert wants_json(cfg, Tty()) is False
    assert wants_json(cfg, io.StringIO()) is True
    assert wants_json(load_config(None, environ={"BANANAPICS_LOGGING__FORMAT": "text"}), io.StringIO()) is False
    assert SecretFilter(["abcd1234"]).redact("x abcd1234") == "x ********"
