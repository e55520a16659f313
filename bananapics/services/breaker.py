"""A circuit breaker per model: a provider that keeps failing makes its model "temporarily unavailable".

The state is a ``model_breakers`` row (migration 0016), so the bot and every worker process see
the same thing. States::

    closed     failures counts consecutive provider failures of the model; a success resets it.
               Reaching ``[providers] breaker_failures`` opens the breaker.
    open       until ``open_until`` (now + ``breaker_cooldown_seconds``): the wizard marks the model
               unavailable and refuses it (picked or confirmed: no hold, nothing charged), and a
               worker refunds every queued job of the model instead of calling the provider.
               After ``open_until`` the model is offered again and the next job a worker takes
               becomes the probe.
    half_open  one probe job (``probe_job``) calls the provider; other jobs of the model wait for it
               (they stay queued; their attempts are not used). A success closes the breaker, a
               failure opens it for another cooldown. A probe whose worker died (``probe_until``,
               the job lease, passed) is replaced by the next job.

What counts as a failure is the provider's health, not the request: ``rate_limited``,
``provider_down`` (5xx, unreachable, garbage answers), ``timeout``, ``auth`` and ``quota`` (every job
would fail until an operator acts). A refusal of the request itself (``moderation``,
``bad_request``, ``no_image``) proves the provider answered: it counts as a success.

**Queued jobs of an open model are refunded**, not kept waiting: a user who paid gets a clear
answer at once ("temporarily unavailable, N tokens returned", with Try again / Other model) rather
than tokens held for an outage of unknown length. Only jobs queued while a probe runs wait, for at
most the probe's provider call.

"Consecutive" is per model across all workers: a success resets the count only when the worker saw
a non-zero count (or a non-closed state) when it took the job. The healthy path costs no statement
per job: each process reads which models have a breaker row that is not clean at most every
:data:`RECHECK_S` seconds (at once after its own change), and reads a job's breaker only while one
is. So another process's breaker reaches a worker within that time.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from bananapics.db import atomic, connection, is_postgres
from bananapics.db import proxy as db_proxy
from bananapics.errors import InvalidInput
from bananapics.models import AiModel, ModelBreaker, utcnow

log = logging.getLogger(__name__)

# Provider error kinds that say the provider (not the request) is unwell.
HEALTH_KINDS = frozenset({"rate_limited", "provider_down", "timeout", "auth", "quota"})
UNAVAILABLE = "unavailable"  # the job error kind of a job refunded because its model's breaker is open
MIN_WAIT_S = 1.0  # how soon a job waiting for a probe looks again
MAX_WAIT_S = 10.0
RECHECK_S = 1.0  # how stale a worker's "every breaker is clean" may be (tests set 0)


@dataclass(frozen=True)
class Policy:
    """``[providers] breaker_failures`` (0: the breaker never opens) and ``breaker_cooldown_seconds``."""

    failures: int = 5
    cooldown_s: float = 60.0


class ModelUnavailable(InvalidInput):
    """The model's breaker is open: nothing is held; the user can try again later or pick another."""

    def __init__(self, model: AiModel, until: dt.datetime) -> None:
        super().__init__(f"{model.name} is temporarily unavailable (its provider keeps failing); "
                         f"try again after {until:%H:%M:%S} UTC or pick another model", title="model_unavailable")
        self.model = model
        self.until = until


@dataclass(frozen=True)
class Gate:
    """What a worker may do with a job before claiming it.

    ``action``: ``run`` (closed, or no row), ``probe`` (this job tests a provider after the
    cooldown), ``wait`` (another job is probing: look again in ``delay_s``), ``refuse`` (open:
    refund the job, call nothing). ``dirty``: the row had failures or was not closed, so a success
    must reset it."""

    action: str
    model: str = ""
    dirty: bool = False
    delay_s: float = 0.0


RUN = Gate("run")

# --- reads -------------------------------------------------------------------------------------

_GATE_SQL = ("SELECT j.model, j.status, b.state, b.failures, b.open_until, b.probe_job, b.probe_until"
             " FROM jobs j JOIN model_breakers b ON b.model = j.model WHERE j.id = {p}")


def _sql(text: str) -> str:
    return text.replace("{p}", db_proxy.obj.param)


def unavailable(now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """Models whose breaker is open now → until when (the wizard marks them)."""
    now = now or utcnow()
    with connection():
        rows = ModelBreaker.select(ModelBreaker.model, ModelBreaker.open_until).where(
            (ModelBreaker.state == "open") & (ModelBreaker.open_until > now)).tuples()
        return dict(rows)


def open_until(model_id: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the model becomes available again, or None when it is available now."""
    now = now or utcnow()
    with connection():
        row = ModelBreaker.by(ModelBreaker.model, model_id)
    if row is not None and row.state == "open" and row.open_until is not None and row.open_until > now:
        return row.open_until
    return None


def ensure_available(model: AiModel, now: dt.datetime | None = None) -> None:
    """Raise :class:`ModelUnavailable` while the model's breaker is open (before anything is held)."""
    until = open_until(model.id, now)
    if until is not None:
        raise ModelUnavailable(model, until)


def state(model_id: str) -> ModelBreaker | None:
    """The model's breaker row (None: never failed)."""
    with connection():
        return ModelBreaker.by(ModelBreaker.model, model_id)


# --- the worker's side -----------------------------------------------------------------------------


class _Dirty:
    """This process's view of which models have a breaker that is not clean (failures or not closed)."""

    lock = threading.Lock()
    checked = float("-inf")
    models: frozenset[str] = frozenset()

    @classmethod
    def any(cls) -> bool:
        with cls.lock:
            if time.monotonic() - cls.checked < RECHECK_S:
                return bool(cls.models)
        with connection():
            rows = ModelBreaker.select(ModelBreaker.model).where(
                (ModelBreaker.state != "closed") | (ModelBreaker.failures > 0)).tuples()
            models = frozenset(model for (model,) in rows)
        with cls.lock:
            cls.models, cls.checked = models, time.monotonic()
        return bool(models)

    @classmethod
    def forget(cls) -> None:
        with cls.lock:
            cls.checked = float("-inf")


def gate(job_id: str, lease_s: float, now: dt.datetime | None = None) -> Gate:
    """Before claiming ``job_id``: may it call the provider? No statement while every breaker is clean.

    A finished (or unknown) job always gets ``run``: the claim then finds nothing to do."""
    if not _Dirty.any():
        return RUN
    now = now or utcnow()
    with connection():
        row = db_proxy.execute_sql(_sql(_GATE_SQL), (job_id,)).fetchone()
        if row is None:
            return RUN
        model, status, current, failures, until, probe_job, probe_until = row
        until, probe_until = _dt(until), _dt(probe_until)
        if status not in ("queued", "running"):
            return RUN
        if current == "closed":
            return Gate("run", model, dirty=failures > 0)
        if current == "open" and until is not None and until > now:
            return Gate("refuse", model, dirty=True)
        if current == "half_open" and probe_job == job_id:  # the probe again (a retry, a takeover)
            return Gate("probe", model, dirty=True)
        if _take_probe(model, job_id, now, lease_s):
            log.info("breaker %s: half-open, job %s probes the provider", model, job_id)
            return Gate("probe", model, dirty=True)
        wait = (probe_until - now).total_seconds() if probe_until is not None else MIN_WAIT_S
        return Gate("wait", model, dirty=True, delay_s=min(max(wait, MIN_WAIT_S), MAX_WAIT_S))


def _dt(value: Any) -> dt.datetime | None:
    """A raw timestamp column as peewee would give it (SQLite returns text)."""
    return ModelBreaker.open_until.python_value(value) if value is not None else None


def _take_probe(model: str, job_id: str, now: dt.datetime, lease_s: float) -> bool:
    """Make this job the probe: after the cooldown (open), or when the last probe's lease ran out."""
    with atomic():
        return ModelBreaker.update(
            state="half_open", probe_job=job_id, probe_until=now + dt.timedelta(seconds=lease_s), updated_at=now,
        ).where(
            (ModelBreaker.model == model)
            & (((ModelBreaker.state == "open") & (ModelBreaker.open_until <= now))
               | ((ModelBreaker.state == "half_open")
                  & (ModelBreaker.probe_until.is_null() | (ModelBreaker.probe_until < now))))
        ).execute() == 1


def release_probe(model: str, job_id: str) -> None:
    """The probe job was not claimed after all (a duplicate delivery, no free slot): let another probe."""
    with atomic():
        (ModelBreaker.update(probe_until=None, updated_at=utcnow())
         .where((ModelBreaker.model == model) & (ModelBreaker.probe_job == job_id)
                & (ModelBreaker.state == "half_open")).execute())


def record(model: str, kind: str | None, seen: Gate, policy: Policy, job_id: str = "") -> None:
    """After a provider call of ``model``: ``kind`` is the error kind, None for a success."""
    if kind in HEALTH_KINDS:
        failure(model, kind, policy, job_id)
    elif seen.dirty or seen.action == "probe":
        success(model, job_id)


def success(model: str, job_id: str = "") -> None:
    """The provider answered: close the breaker and reset the count."""
    with atomic():
        row = ModelBreaker.by(ModelBreaker.model, model)
        if row is None or (row.state == "closed" and row.failures == 0):
            return
        (ModelBreaker.update(state="closed", failures=0, open_until=None, probe_job=None, probe_until=None,
                             updated_at=utcnow()).where(ModelBreaker.model == model).execute())
    _Dirty.forget()
    if row.state != "closed":
        log.warning("breaker %s: closed, the provider answered again (job %s)", model, job_id)


def failure(model: str, kind: str, policy: Policy, job_id: str = "") -> None:
    """A provider failure of ``model``: count it; the Nth in a row (or a failed probe) opens the breaker."""
    if policy.failures <= 0:
        return
    now = utcnow()
    until = now + dt.timedelta(seconds=policy.cooldown_s)
    with atomic():
        ModelBreaker.insert(model=model, updated_at=now).on_conflict_ignore().execute()
        row = ModelBreaker.select().where(ModelBreaker.model == model)
        row = (row.for_update() if is_postgres() else row).get()
        lapsed = row.state == "open" and (row.open_until is None or row.open_until <= now)  # no probe yet
        opens = (row.state == "half_open" or lapsed
                 or (row.state == "closed" and row.failures + 1 >= policy.failures))
        changes: dict[str, Any] = dict(failures=row.failures + 1, last_error=kind, updated_at=now)
        if opens:
            changes.update(state="open", open_until=until, probe_job=None, probe_until=None)
        ModelBreaker.update(**changes).where(ModelBreaker.model == model).execute()
    _Dirty.forget()
    if opens:
        log.warning("breaker %s: open until %s UTC after %d consecutive provider failure(s), last %s (job %s)",
                    model, f"{until:%H:%M:%S}", row.failures + 1, kind, job_id)
