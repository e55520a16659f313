"""services.dashboard on SQLite and Postgres: every figure after real writes (registrations,
payments and a refund, jobs submitted, claimed and failed, a worker heartbeat), the counters the
triggers of migration 0015 keep, and who may read the dashboard."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from bananapics.errors import PermissionDenied
from bananapics.models import Job, Payment, User, utcnow
from bananapics.models.stats import StatCounter
from bananapics.services import dashboard, jobs, payments, system, users
from bananapics.services.audit import Actor
from tests.helpers import new_user

OPS = Actor.operator("ops")


def test_snapshot_counts_todays_and_total_figures(database):
    old = utcnow() - dt.timedelta(days=3)
    with database.connection_context():  # two users who registered three days ago (bulk insert: one statement)
        User.insert_many([{"tg_id": 5, "referral_code": "oldcode5", "created_at": old},
                          {"tg_id": 6, "referral_code": "oldcode6", "created_at": old}]).execute()
    ann, bob = new_user(200), new_user(200)
    payments.credit(ann.id, "charge-ann-000001", stars=50, tokens=100, bonus=10)
    payments.credit(bob.id, "charge-bob-000001", stars=250, tokens=500, bonus=50)
    payments.credit(bob.id, "charge-bob-000002", stars=100, tokens=200)
    payments.mark_refunded("charge-bob-000002", actor=OPS, reason="asked")
    with database.connection_context():
        Payment.update(created_at=old).where(Payment.charge_id == "charge-ann-000001").execute()  # its day stays

    queued = jobs.submit(ann.id, "nano-banana", "a fox", chat_id=1)
    running = jobs.submit(bob.id, "nano-banana", "a cat", chat_id=2)
    jobs.claim(running.id, "w1")
    failed = jobs.submit(bob.id, "nano-banana", "a dog", chat_id=2)
    jobs.fail(failed.id, "moderation", "blocked")
    system.beat("host:1", "1.0")

    snap = dashboard.snapshot(actor=OPS, keys={"gemini": True})
    assert (snap.users_today, snap.users_total) == (2, 4)
    assert (snap.jobs_queued, snap.jobs_running, snap.jobs_failed_today) == (1, 1, 1)
    # bob's refunded payment counts no more; ann's, moved to three days ago, counts on that day
    assert (snap.payments_today, snap.stars_today, snap.tokens_today) == (1, 250, 550)
    assert snap.stars_per_day[-1] == (utcnow().date(), 250) and snap.stars_per_day[-4] == (old.date(), 50)
    assert len(snap.stars_per_day) == dashboard.DAYS
    assert sum(snap.jobs_per_minute) == 3 and snap.jobs_per_minute[-1] == 3 and len(snap.jobs_per_minute) == 60
    assert snap.workers_alive == 1 and snap.workers[0].id == "host:1"
    assert {p.name: p.key for p in snap.providers}["gemini"] == "configured"
    data = snap.as_dict()
    assert data["stars_per_day"][-1] == [utcnow().date().isoformat(), 250] and data["workers_alive"] == 1
    assert queued.status == "queued"


def test_series_place_jobs_in_their_minute_and_days(database):
    now = utcnow().replace(second=30, microsecond=0)
    made = [jobs.submit(new_user(100).id, "nano-banana", f"p{n}", chat_id=1) for n in range(3)]
    for job, minutes_ago in zip(made, (0, 10, 90)):
        with database.connection_context():
            Job.update(created_at=now - dt.timedelta(minutes=minutes_ago)).where(Job.id == job.id).execute()
    per_minute = dashboard.snapshot(actor=OPS, now=now).jobs_per_minute
    assert per_minute[-1] == 1 and per_minute[-11] == 1 and sum(per_minute) == 2  # 90 min ago is out of the hour
    with database.connection_context():
        User.insert(tg_id=7, referral_code="oldcode7", created_at=now - dt.timedelta(days=20)).execute()
    later = dashboard.snapshot(actor=OPS, now=now + dt.timedelta(days=1))  # tomorrow: nobody new yet
    assert later.users_today == 0 and later.users_total == 4
    assert later.stars_per_day[0][0] == (now + dt.timedelta(days=1)).date() - dt.timedelta(days=13)


def test_counters_follow_deletes_and_match_a_recount(database, engine):
    user = new_user()
    payments.credit(user.id, "charge-del-000001", stars=50, tokens=100)
    with database.connection_context(), database.atomic():
        Payment.delete().where(Payment.charge_id == "charge-del-000001").execute()
    snap = dashboard.snapshot(actor=OPS)
    assert (snap.payments_today, snap.stars_today, snap.users_total) == (0, 0, 1)
    with database.connection_context():
        kept = sorted((str(c.day), c.name, c.value) for c in StatCounter.select().where(StatCounter.value != 0))
        from bananapics.models.migrations import __path__ as mig_path
        import importlib.util
        spec = importlib.util.spec_from_file_location("m0015", f"{mig_path[0]}/0015_console_data.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with database.atomic():
            module.backfill(database)
        recount = sorted((str(c.day), c.name, c.value) for c in StatCounter.select().where(StatCounter.value != 0))
    assert kept == recount  # what the triggers kept is what the tables say (shards summed below)
    assert sum(v for _, n, v in kept if n == "users") == 1


def test_dashboard_needs_the_read_permission(database):
    plain = new_user()
    with pytest.raises(PermissionDenied):
        dashboard.snapshot(actor=Actor.for_user(plain))
    users.set_role(plain.tg_id, "support", actor=OPS)
    assert dashboard.snapshot(actor=Actor.for_user(plain)).users_total == 1


def test_list_counts_stop_at_the_cap_and_the_user_count_is_the_counter(database, monkeypatch):
    """The admin lists' "of M": a filtered count stops at COUNT_CAP + 1 (shown "1000+"), the
    unfiltered user count is the triggers' counter — neither walks a big table."""
    from bananapics.services import lists

    people = [new_user(10) for _ in range(5)]
    assert lists.count_users(actor=OPS) == 5 == dashboard.users_total()
    assert lists.count_transfers(actor=OPS, kind="grant") == 5
    monkeypatch.setattr(lists, "COUNT_CAP", 3)
    assert lists.count_transfers(actor=OPS, kind="grant") == 4  # cap + 1: "3+"
    assert lists.count_transfers(actor=OPS, user=people[0].tg_id) == 1
    with pytest.raises(PermissionDenied):
        lists.count_transfers(actor=Actor.for_user(people[0]))


def _finished_job(user_id: int, provider: str, status: str, finished: dt.datetime, seconds: float,
                  error: str | None = None) -> None:
    """A finished job row as the worker leaves it (inserted: dozens of them exceed the parallel cap)."""
    Job.insert(id=uuid.uuid4().hex, user=user_id, model="m", provider=provider, provider_model="m", prompt="p",
               count=1, cost=0, status=status, deadline_at=finished, started_at=finished - dt.timedelta(seconds=seconds),
               finished_at=finished, error_kind=error).execute()


def test_provider_health_takes_the_newest_success_failure_and_latencies(database):
    """Per provider: the newest success (``partial`` counts), the newest failure and the median
    latency of the newest RECENT_JOBS successes only — however the statuses interleave."""
    user = new_user(10_000)
    now = utcnow().replace(microsecond=0)
    recent = system.RECENT_JOBS
    with database.connection_context():
        # gemini: RECENT_JOBS fast successes (2 s) hide older slow ones (60 s); the newest is a partial
        for n in range(recent):
            _finished_job(user.id, "gemini", "succeeded" if n else "partial", now - dt.timedelta(minutes=n), 2)
        for n in range(5):
            _finished_job(user.id, "gemini", "succeeded", now - dt.timedelta(hours=2, minutes=n), 60)
        _finished_job(user.id, "gemini", "failed", now - dt.timedelta(hours=3), 1, "timeout")
        _finished_job(user.id, "gemini", "failed", now - dt.timedelta(hours=1), 1, "provider_down")
        # openai: failures only
        _finished_job(user.id, "openai", "failed", now - dt.timedelta(minutes=5), 1, "moderation")
    by_name = {p.name: p for p in dashboard.snapshot(actor=OPS, now=now).providers}
    gemini, openai, fal = by_name["gemini"], by_name["openai"], by_name["fal"]
    assert (gemini.last_success, gemini.p50_latency_s) == (now, 2.0)
    assert (gemini.last_error, gemini.last_error_at) == ("provider_down", now - dt.timedelta(hours=1))
    assert (openai.last_success, openai.p50_latency_s) == (None, None)
    assert (openai.last_error, openai.last_error_at) == ("moderation", now - dt.timedelta(minutes=5))
    assert (fal.last_success, fal.last_error, fal.p50_latency_s) == (None, None, None)
    assert [p.name for p in system.snapshot(actor=OPS, now=now).providers] == list(system.PROVIDERS)


def test_provider_health_is_index_seeks_on_sqlite(database, engine):
    """The statements behind provider health read jobs only through (provider, status, finished_at)
    with both equalities in the seek: no walk over another provider's or another status's jobs
    (SQLite once took (status, finished_at) and walked every failed job, refreshed every second)."""
    if engine != "sqlite":
        pytest.skip("the plan checked is SQLite's (Postgres plans by table size)")
    import logging

    statements: list = []
    handler = logging.Handler()
    handler.emit = lambda record: statements.append(record.msg) if isinstance(record.msg, tuple) else None
    logger = logging.getLogger("peewee")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        system.providers_health(None)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert len(statements) == 2  # whatever the number of providers
    with database.connection_context():
        for sql, params in statements:
            plan = [row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
            reads = [step for step in plan if step.startswith(("SEARCH t", "SCAN t"))]
            assert reads and all("jobs_provider_status_finished (provider=? AND status=?" in step for step in reads), plan
