"""The operator dashboard: one snapshot of the live figures, cheap enough to refresh every second.

No figure scans a big table:

* users today/total, payments, Stars and tokens per day come from ``stat_counters`` (migration
  0015), which triggers keep in the same transaction as each registration, payment and refund: a
  few dozen rows whatever the size of ``users`` and ``payments``;
* jobs queued/running, failed today and jobs per minute over the last hour are indexed ranges
  (``jobs (status, updated_at)``, ``jobs_status_finished``, ``jobs (created_at, id)``): they read
  only the rows they count;
* provider status and worker heartbeats are the system snapshot's (:mod:`services.system`): the
  providers' figures are two statements, each one index seek per provider and status
  (``jobs (provider, status, finished_at)``, migration 0018).

Days are UTC days (the timestamps' zone). Stars and tokens are those of payments not refunded,
counted on the day the payment was made; tokens include the package bonus.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import peewee as pw

from bananapics.db import connection, is_postgres
from bananapics.models import Job, WorkerHeartbeat, utcnow
from bananapics.models.stats import StatCounter
from bananapics.services import audit, system
from bananapics.services.audit import Actor
from bananapics.services.system import ProviderHealth, WorkerState

MINUTES = 60  # jobs per minute over the last hour
DAYS = 14  # Stars per day over the last two weeks


@dataclass(frozen=True)
class Dashboard:
    at: dt.datetime
    users_today: int
    users_total: int
    jobs_queued: int
    jobs_running: int
    jobs_failed_today: int
    payments_today: int
    stars_today: int
    tokens_today: int  # tokens sold today, bonus included
    jobs_per_minute: list[int]  # MINUTES values, oldest first; the last is the current minute
    stars_per_day: list[tuple[dt.date, int]]  # DAYS values, oldest first; the last is today
    providers: list[ProviderHealth] = field(default_factory=list)
    workers: list[WorkerState] = field(default_factory=list)

    @property
    def workers_alive(self) -> int:
        return sum(w.alive for w in self.workers)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stars_per_day"] = [[day.isoformat(), stars] for day, stars in self.stars_per_day]
        data["workers_alive"] = self.workers_alive
        return data


def users_total() -> int:
    """Every user, from the counters the ``users`` triggers keep (no table count)."""
    with connection():
        return int(StatCounter.select(pw.fn.COALESCE(pw.fn.SUM(StatCounter.value), 0))
                   .where(StatCounter.name == "users").scalar())


def snapshot(*, actor: Actor, keys: dict[str, bool] | None = None, now: dt.datetime | None = None) -> Dashboard:
    """Every dashboard figure now. ``keys``: :func:`services.system.provider_keys` of the caller's
    config (which provider keys are set), or None when unknown."""
    audit.authorize(actor, "read", "system")
    now = now or utcnow()
    today = now.date()
    midnight = dt.datetime.combine(today, dt.time())
    with connection():
        days = _counters(today - dt.timedelta(days=DAYS - 1))
        total_users = users_total()
        active = dict(Job.select(Job.status, pw.fn.COUNT(Job.id)).where(Job.status.in_(("queued", "running")))
                      .group_by(Job.status).tuples())
        failed = Job.select().where((Job.status == "failed") & (Job.finished_at >= midnight)).count()
        per_minute = _jobs_per_minute(now)
        workers = [WorkerState(w.id, w.version, w.started_at, w.last_seen,
                               (now - w.last_seen).total_seconds() <= system.STALE_AFTER_S)
                   for w in WorkerHeartbeat.select().order_by(WorkerHeartbeat.id)]
        providers = system.providers_health(keys)
    todays = days.get(today, {})
    return Dashboard(
        at=now, users_today=todays.get("users", 0), users_total=total_users,
        jobs_queued=int(active.get("queued", 0)), jobs_running=int(active.get("running", 0)),
        jobs_failed_today=failed, payments_today=todays.get("payments", 0), stars_today=todays.get("stars", 0),
        tokens_today=todays.get("tokens", 0), jobs_per_minute=per_minute,
        stars_per_day=[(day, days.get(day, {}).get("stars", 0))
                       for day in (today - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1))],
        providers=providers, workers=workers,
    )


def _counters(since: dt.date) -> dict[dt.date, dict[str, int]]:
    """{day: {counter: value}} from ``since`` on (shards summed)."""
    rows = (StatCounter.select(StatCounter.day, StatCounter.name, pw.fn.SUM(StatCounter.value))
            .where(StatCounter.day >= since).group_by(StatCounter.day, StatCounter.name).tuples())
    days: dict[dt.date, dict[str, int]] = {}
    for day, name, value in rows:
        if isinstance(day, str):  # SQLite returns the grouped DATE as text
            day = dt.date.fromisoformat(day)
        days.setdefault(day, {})[name] = int(value)
    return days


def _jobs_per_minute(now: dt.datetime) -> list[int]:
    """Jobs submitted in each of the last MINUTES minutes (the last one is the current minute)."""
    current = now.replace(second=0, microsecond=0)
    start = current - dt.timedelta(minutes=MINUTES - 1)
    if is_postgres():
        minute = pw.fn.date_trunc("minute", Job.created_at)
    else:  # the stored text's "YYYY-MM-DD HH:MM" (strftime parses every row's date: twice the time)
        minute = pw.fn.substr(Job.created_at, 1, 16)
    counts = [0] * MINUTES
    for stamp, count in (Job.select(minute, pw.fn.COUNT(Job.id)).where(Job.created_at >= start)
                         .group_by(minute).tuples()):
        if isinstance(stamp, str):
            stamp = dt.datetime.fromisoformat(stamp)
        index = int((stamp - start).total_seconds() // 60)
        if 0 <= index < MINUTES:
            counts[index] = int(count)
    return counts
