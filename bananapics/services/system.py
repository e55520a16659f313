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

from bananapics.db import atomic, connection
from bananapics.models import AiModel, Hold, Job, Package, Payment, User, WorkerHeartbeat, utcnow
from bananapics.services import audit, ledger
from bananapics.services.audit import Actor

HEARTBEAT_EVERY_S = 10.0
STALE_AFTER_S = 60.0
RECENT_JOBS = 50  # latency is the median over this many latest successes per provider
PROVIDERS = ("gemini", "openai", "ark", "fal", "local")


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


def _provider(name: str, keys: dict[str, bool] | None) -> ProviderHealth:
    done = Job.status.in_(("succeeded", "partial"))
    last_ok = (Job.select(Job.finished_at).where((Job.provider == name) & done & Job.finished_at.is_null(False))
               .order_by(Job.finished_at.desc()).limit(1).scalar())
    failed = (Job.select(Job.error_kind, Job.finished_at)
              .where((Job.provider == name) & (Job.status == "failed") & Job.finished_at.is_null(False))
              .order_by(Job.finished_at.desc()).limit(1).first())
    recent = (Job.select(Job.started_at, Job.finished_at)
              .where((Job.provider == name) & done & Job.started_at.is_null(False) & Job.finished_at.is_null(False))
              .order_by(Job.finished_at.desc()).limit(RECENT_JOBS))
    latencies = [(j.finished_at - j.started_at).total_seconds() for j in recent]
    return ProviderHealth(name, _key_state(name, keys), last_ok, failed.error_kind if failed else None,
                          failed.finished_at if failed else None,
                          round(statistics.median(latencies), 3) if latencies else None)


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
        providers = [_provider(name, keys) for name in PROVIDERS]
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
