"""System health for the admin tools: queue, jobs, workers, providers, sales (reads only).

* Every worker process writes a heartbeat row (``host:pid``, version, last seen) every few seconds
  (:func:`beat`, called by :class:`bananapics.worker.Heartbeat`); a worker not seen for
  :data:`STALE_AFTER_S` counts as gone.
* Per provider: whether its key is configured (never the key itself), the last success, the kind
  of the last error and the median latency (claim to finish) over its recent successful jobs.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

import peewee as pw

from bananapics.db import atomic, connection, is_postgres
from bananapics.models import AiModel, Hold, Job, Package, Payment, User, WorkerHeartbeat, utcnow
from bananapics.services import audit, ledger
from bananapics.services.audit import Actor

HEARTBEAT_EVERY_S = 10.0
STALE_AFTER_S = 60.0
RECENT_JOBS = 50  # latency is the median over this many latest successes per provider
PROVIDERS = ("gemini", "openai", "ark", "fal", "local")
DONE = ("succeeded", "partial")  # a success: some or all of the pictures


@dataclass(frozen=True)
class ProviderHealth:
    name: str
    key: str  # configured | missing | not needed
    last_success: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    p50_latency_s: float | None


@dataclass(frozen=True)
class WorkerState:
    id: str
    version: str
    started_at: dt.datetime
    last_seen: dt.datetime
    alive: bool


@dataclass(frozen=True)
class Snapshot:
    at: dt.datetime
    queue_depth: int  # jobs waiting for a worker now
    running: int
    last_hour: dict[str, int]  # jobs submitted, succeeded, failed in the last hour
    workers: list[WorkerState] = field(default_factory=list)
    providers: list[ProviderHealth] = field(default_factory=list)
    users_today: int = 0
    users_total: int = 0
    stars_today: int = 0  # payments made today and not refunded
    tokens_today: int = 0  # their tokens, bonus included

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def beat(worker_id: str, version: str, *, now: dt.datetime | None = None) -> None:
    """Record that worker ``worker_id`` (``host:pid``) is alive now; one upsert."""
    now = now or utcnow()
    with atomic():
        inserted = (WorkerHeartbeat.insert(id=worker_id[:128], version=version[:32], started_at=now, last_seen=now)
                    .on_conflict_ignore().execute())
        if not inserted:
            WorkerHeartbeat.update(version=version[:32], last_seen=now).where(
                WorkerHeartbeat.id == worker_id[:128]).execute()
        # rows of processes gone for a day (killed, never shut down cleanly) stop cluttering the list
        WorkerHeartbeat.delete().where(WorkerHeartbeat.last_seen < now - dt.timedelta(days=1)).execute()


def forget_worker(worker_id: str) -> None:
    """A worker stopping cleanly removes its row (a killed one just goes stale)."""
    with atomic():
        WorkerHeartbeat.delete().where(WorkerHeartbeat.id == worker_id[:128]).execute()


def _key_state(provider: str, keys: dict[str, bool] | None) -> str:
    if provider == "local":
        return "not needed"
    if keys is None:
        return "unknown"
    return "configured" if keys.get(provider) else "missing"


def provider_keys(cfg: Any) -> dict[str, bool]:
    """Which provider keys a config holds (booleans only: a key never leaves the config object)."""
    return {name: getattr(cfg.providers, f"{name}_api_key", None) is not None for name in PROVIDERS if name != "local"}


def _health_statements(names: tuple[str, ...]) -> tuple[tuple[str, list], tuple[str, list]]:
    """The two statements of :func:`providers_health` as (sql, params), built once per engine and
    list of providers: peewee rebuilding these 15-part unions took ~2.5 ms of CPU per refresh, more
    than running them."""
    key = (is_postgres(), names)
    if key not in _HEALTH_SQL:
        def newest(name: str, status: str, limit: int, *columns: pw.Field) -> pw.SelectQuery:
            return (Job.select(Job.provider, *columns)
                    .where((Job.provider == name) & (Job.status == status) & Job.finished_at.is_null(False))
                    .order_by(Job.finished_at.desc()).limit(limit))

        def union(parts: list[pw.SelectQuery]) -> tuple[str, list]:
            query = parts[0]
            for part in parts[1:]:
                query = query.union_all(part)
            return query.sql()

        _HEALTH_SQL[key] = (union([newest(name, status, RECENT_JOBS, Job.started_at, Job.finished_at)
                                   for name in names for status in DONE]),
                            union([newest(name, "failed", 1, Job.error_kind, Job.finished_at) for name in names]))
    return _HEALTH_SQL[key]


_HEALTH_SQL: dict[tuple[bool, tuple[str, ...]], tuple[tuple[str, list], tuple[str, list]]] = {}


def providers_health(keys: dict[str, bool] | None, names: tuple[str, ...] = PROVIDERS) -> list[ProviderHealth]:
    """Each provider's last success, last error and median latency, in two statements whatever
    their number: a UNION ALL of one index seek per (provider, status) on ``jobs (provider, status,
    finished_at)`` (migration 0018), newest first. The dashboard refreshes this every second next to
    the bot on the same database, so it must not walk the jobs of a provider that never fails nor
    the failures of one that never succeeds: one statement per provider and figure, with SQLite
    walking every failed job for "last error", was 20 of the 27 ms a refresh spent in SQLite at
    50k jobs (5 ms per provider without a failure)."""
    if not names:
        return []
    (done_sql, done_params), (failed_sql, failed_params) = _health_statements(names)
    when = Job.finished_at.python_value  # SQLite returns the timestamps as text
    with connection():
        database = Job._meta.database
        done = database.execute_sql(done_sql, done_params).fetchall()
        failed = database.execute_sql(failed_sql, failed_params).fetchall()
    successes: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for name, started, finished in done:
        successes.setdefault(name, []).append((when(finished), when(started)))
    last_failure = {name: (kind, when(finished)) for name, kind, finished in failed}
    out = []
    for name in names:
        recent = sorted(successes.get(name, ()), key=lambda row: row[0], reverse=True)[:RECENT_JOBS]
        latencies = [(finished - started).total_seconds() for finished, started in recent if started is not None]
        kind, failed_at = last_failure.get(name, (None, None))
        out.append(ProviderHealth(name, _key_state(name, keys), recent[0][0] if recent else None, kind, failed_at,
                                  round(statistics.median(latencies), 3) if latencies else None))
    return out


def snapshot(*, actor: Actor, keys: dict[str, bool] | None = None, now: dt.datetime | None = None) -> Snapshot:
    """The admin's system screen. ``keys``: :func:`provider_keys` of the caller's config."""
    audit.authorize(actor, "read", "system")
    now = now or utcnow()
    hour_ago = now - dt.timedelta(hours=1)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with connection():
        by_status = dict(Job.select(Job.status, pw.fn.COUNT(Job.id)).where(Job.status.in_(("queued", "running")))
                         .group_by(Job.status).tuples())
        last_hour = {
            "submitted": Job.select().where(Job.created_at >= hour_ago).count(),
            "succeeded": Job.select().where(Job.status.in_(("succeeded", "partial")) & (Job.finished_at >= hour_ago)).count(),
            "failed": Job.select().where((Job.status == "failed") & (Job.finished_at >= hour_ago)).count(),
        }
        workers = [WorkerState(w.id, w.version, w.started_at, w.last_seen,
                               (now - w.last_seen).total_seconds() <= STALE_AFTER_S)
                   for w in WorkerHeartbeat.select().order_by(WorkerHeartbeat.id)]
        providers = providers_health(keys)
        paid_today = Payment.select(pw.fn.COALESCE(pw.fn.SUM(Payment.stars), 0),
                                    pw.fn.COALESCE(pw.fn.SUM(Payment.tokens + Payment.bonus_tokens), 0)) \
            .where((Payment.created_at >= midnight) & (Payment.status == "paid")).tuples().first()
        return Snapshot(
            at=now, queue_depth=int(by_status.get("queued", 0)), running=int(by_status.get("running", 0)),
            last_hour=last_hour, workers=workers, providers=providers,
            users_today=User.select().where(User.created_at >= midnight).count(),
            users_total=User.select().count(),
            stars_today=int(paid_today[0]), tokens_today=int(paid_today[1]),
        )


def totals(*, actor: Actor) -> dict[str, Any]:
    """Row counts and system account balances (``bananapics status``)."""
    audit.authorize(actor, "read", "system")
    with connection():
        counts = {
            "users": User.select().count(),
            "banned": User.select().where(User.banned == True).count(),  # noqa: E712
            "open_holds": Hold.select().where(Hold.status == "open").count(),
            "models_enabled": AiModel.select().where(AiModel.enabled == True).count(),  # noqa: E712
            "packages_active": Package.select().where(Package.active == True).count(),  # noqa: E712
        }
    return {"counts": counts, "system_accounts": ledger.system_balances()}


@dataclass(frozen=True)
class ModelHealth:
    """One model as the admin's system screen shows it: on/off, its provider, the breaker, load."""

    id: str
    name: str
    provider: str
    enabled: bool
    breaker: str  # closed | open | half_open
    open_until: dt.datetime | None
    failures: int
    last_error: str | None
    running: int  # provider calls in flight (its concurrency slots taken)
    queued: int
    cap: int | None = None  # its own concurrency cap; None: limits.model_concurrency


def models_health(*, actor: Actor) -> list[ModelHealth]:
    """Every model with its circuit breaker and its slots taken / jobs queued (reads only)."""
    from bananapics.models import ModelBreaker, ModelSlot

    audit.authorize(actor, "read", "system")
    with connection():
        breakers = {b.model: b for b in ModelBreaker.select()}
        slots = dict(ModelSlot.select(ModelSlot.model, ModelSlot.running).tuples())
        caps = dict(ModelSlot.select(ModelSlot.model, ModelSlot.cap).tuples())
        queued = dict(Job.select(Job.model, pw.fn.COUNT(Job.id)).where(Job.status == "queued")
                      .group_by(Job.model).tuples())
        out = []
        for m in AiModel.select().order_by(AiModel.sort, AiModel.id):
            b = breakers.get(m.id)
            out.append(ModelHealth(m.id, m.name, m.provider, bool(m.enabled), b.state if b else "closed",
                                   b.open_until if b else None, b.failures if b else 0, b.last_error if b else None,
                                   int(slots.get(m.id, 0)), int(queued.get(m.id, 0)), caps.get(m.id)))
        return out
