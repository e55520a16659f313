"""Generation jobs: submit with a hold, claim with a lease, finish exactly once, sweep the stale.

Lifecycle (reliability.md §2.4)::

    submit   one txn: validate → price → users.inflight guard → hold → job row (queued)
             → the caller enqueues the job id after commit
    claim    guarded UPDATE: queued (or running with an expired lease) → running, attempts+1,
             lease; plus a per-model slot (guarded counter). 0 rows ⇒ duplicate delivery, exit.
    (provider call: no connection, no transaction held)
    succeed  one txn: running → succeeded/partial, settle (or partial settle), release slot,
             inflight−1, outbox row for the bot
    fail     one txn: → failed, refund, release slot, inflight−1, outbox row
    retry    running → queued with not_before (transient provider error, attempts left)
    sweep    re-enqueue queued-too-long and expired leases, fail past the deadline or attempts

Every transition is ``UPDATE … WHERE status IN (…)`` and checks the row count, so two workers, a
worker and the sweeper, or a replayed task can never both finish a job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any


from bananapics import metrics
from bananapics.db import atomic, connection, is_postgres
from bananapics.db import proxy as db_proxy
from bananapics.errors import BananaError, CashbackLocked, InDebt, InvalidInput, NotFound, PriceChanged, UserBanned
from bananapics.models import AiModel, Job, Outbox, User, utcnow
from bananapics.models.jobs import ACTIVE, TERMINAL
from bananapics.services import audit, breaker, conversation, invoices, ledger, outbox, pricing, referrals, settings
from bananapics.services.audit import Actor

PROMPT_MAX = 2000
# Format characters a prompt keeps: newline and tab, and the zero-width (non-)joiner that emoji
# sequences (👨‍👩‍👧) and Persian/Arabic-script spelling need. Other control and format characters go.
KEEP = "\n\t\u200c\u200d"


class TooManyJobs(BananaError):
    code = "too_many_jobs"


@dataclass(frozen=True)
class Timing:
    """How long things may take (from config ``[jobs]``)."""

    lease_s: float = 150.0
    deadline_s: float = 900.0
    requeue_after_s: float = 120.0


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outbox_released: int = 0
    intents_expired: int = 0
    conversations_expired: int = 0

    def as_dict(self) -> dict[str, Any]:
        """What the pass did (the admin-log row of an operator's sweep, ``jobs sweep --json``)."""
        return dataclasses.asdict(self)


def clean_prompt(prompt: str | None) -> str:
    """NFC-normalise, drop control characters (not the joiners in :data:`KEEP`), trim; refuse empty or too long."""
    text = unicodedata.normalize("NFC", prompt or "")
    text = "".join(ch for ch in text if ch in KEEP or unicodedata.category(ch)[0] != "C").strip()
    if not text.strip(KEEP):  # nothing visible: joiners alone are no description
        raise InvalidInput("the prompt is empty", title="prompt_empty")
    if len(text) > PROMPT_MAX:
        raise InvalidInput(f"the prompt is {len(text)} characters; the limit is {PROMPT_MAX}", title="prompt_too_long")
    return text


def enabled_model(model_id: str) -> AiModel:
    """The model, if it exists and is switched on; else a typed error naming which."""
    model = pricing.find_model(model_id)
    if model is None:
        raise NotFound(f"unknown model {model_id!r}", title="model_unknown")
    if not model.enabled:
        raise InvalidInput(f"{model.name} is switched off right now", title="model_disabled")
    return model


def submit(user_id: int, model_id: str, prompt: str, job_settings: dict[str, Any] | None = None, *,
           ref_keys: list[str] | None = None, chat_id: int | None = None, source: str = "bot",
           job_id: str | None = None, free: bool = False, expected_cost: int | None = None,
           timing: Timing = Timing(), actor: Actor | None = None) -> Job:
    """Validate, price and hold in one transaction; returns the queued job (enqueue it after commit).

    ``job_id`` makes a double-tapped confirm a no-op: the same id returns the existing job.
    ``free`` (operator test runs) records cost 0 and holds nothing. ``expected_cost``: the price
    the user confirmed; a request that costs anything else now raises PriceChanged and holds nothing.
    ``actor``: an operator spending the user's tokens (``generate --user``): admin only, recorded on
    the hold and in the admin log, in this transaction.
    """
    if actor is not None:
        audit.authorize(actor, "jobs.generate", f"user:{user_id}")
    text = clean_prompt(prompt)
    ref_keys = list(ref_keys or [])
    wanted = dict(job_settings or {})
    wanted["refs"] = len(ref_keys)
    job_id = job_id or uuid.uuid4().hex
    with atomic():
        # The user's row is locked first (Postgres; SQLite's BEGIN IMMEDIATE serialises anyway): the
        # other tap of a double tap then waits here and finds the job, instead of taking the row for
        # ``inflight`` and racing the first tap's worker to the job's key (a deadlock).
        query = User.select().where(User.id == user_id)
        user = (query.for_update() if is_postgres() else query).first()
        existing = Job.get_or_none(Job.id == job_id)
        if existing is not None:
            if existing.user_id != user_id:
                raise InvalidInput("that job id belongs to someone else")
            return existing
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        if user.banned:
            raise UserBanned("this account is banned")
        if user.debt and not free:  # a forced refund left a debt: the next top-up repays it first
            raise InDebt(user.debt)
        model = enabled_model(model_id)
        breaker.ensure_available(model)  # its provider keeps failing: refuse before anything is held
        quote = pricing.cost(model, wanted)
        cost = 0 if free else quote.total
        if expected_cost is not None and cost != expected_cost:
            raise PriceChanged(expected_cost, cost)
        cap = int(settings.get("limits.user_parallel_jobs"))
        took = (
            User.update(inflight=User.inflight + 1)
            .where((User.id == user_id) & (User.inflight < cap))
            .execute()
        )
        if took != 1:
            raise TooManyJobs(f"you already have {cap} generation(s) running; wait for one to finish")
        if cost:
            locked = referrals.locked_cashback(user_id)  # on the locked user row: no spend can slip past
            if locked and user.available - locked < cost <= user.available:
                raise CashbackLocked(user.available - locked, cost, locked)
            ledger.hold(user_id, cost, job_id, actor=actor.name if actor else f"user:{user.tg_id}")
        now = utcnow()
        Job.insert(
            id=job_id, user=user_id, model=model.id, provider=model.provider, provider_model=model.provider_model,
            prompt=text, settings=json.dumps(quote.settings), ref_keys=json.dumps(ref_keys), count=quote.count,
            cost=cost, max_attempts=int(settings.get("jobs.max_attempts")),
            deadline_at=now + dt.timedelta(seconds=timing.deadline_s), chat_id=chat_id, source=source,
            created_at=now, updated_at=now,
        ).execute()
        if actor is not None:
            audit.record(actor, "jobs.generate", f"user:{user.tg_id}",
                         after={"job": job_id, "model": model.id, "count": quote.count, "cost": cost,
                                "deliver": chat_id is not None})
    metrics.job("submitted", model.id)
    return get(job_id)


def get(job_id: str) -> Job:
    with connection():
        job = Job.get_or_none(Job.id == job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def get_for_user(user_id: int, job_id: str) -> Job:
    """The job, if it is this user's and still in their history; anyone else's, one they deleted
    (or an unknown id) is ``NotFound`` titled ``stale`` (the bot answers "this button is outdated")."""
    with connection():
        job = Job.by(Job.id, job_id)
    if job is None or job.user_id != user_id or job.hidden_at is not None:  # deleted from their history
        raise NotFound("no such job", title="stale")
    return job


class _Unclaimed(Exception):
    """Raised inside the claim transaction to roll back the model slot it took."""


def claim(job_id: str, worker: str, *, timing: Timing = Timing()) -> Job | None:
    """Take the job for this worker with a lease; None when someone else has it or it is done.

    Also takes a slot of the model's concurrency cap; with none free the job stays queued (the
    caller schedules it again) and None is returned.
    """
    try:
        return _claim(job_id, worker, timing)
    except _Unclaimed:
        return None


# --- the worker's hot path: hand-written statements (peewee builds SQL at ~100 calls per query,
# a third of a job's worker CPU); each is one round trip and the same text on both engines.

_FIELDS = Job._meta.sorted_fields
_RETURNING = "RETURNING " + ", ".join(f.column_name for f in _FIELDS)
_CLAIM = ("UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = {p}, updated_at = {p},"
          " lease_until = {p}, started_at = COALESCE(started_at, {p})"
          " WHERE id = {p} AND attempts < max_attempts AND {guard} " + _RETURNING)
_SQL = {
    "claim_queued": _CLAIM.replace("{guard}", "status = 'queued' AND (not_before IS NULL OR not_before <= {p})"),
    "claim_expired": _CLAIM.replace("{guard}", "status = 'running' AND lease_until < {p}"),
    # the model's own cap, else limits.model_concurrency, read inside the statement: always fresh,
    # no extra round trip
    "slot_take": ("UPDATE model_slots SET running = running + 1 WHERE model = {p} AND running < COALESCE(cap, "
                  "(SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'limits.model_concurrency'), {p})"),
    "slot_release": "UPDATE model_slots SET running = running - 1 WHERE model = {p} AND running > 0",
    "inflight_down": "UPDATE users SET inflight = inflight - 1 WHERE id = {p} AND inflight > 0",
    "succeed": ("UPDATE jobs SET status = CASE WHEN count <= {p} THEN 'succeeded' ELSE 'partial' END,"
                " delivered = CASE WHEN count <= {p} THEN count ELSE {p} END, result_keys = {p},"
                " updated_at = {p}, finished_at = {p}, lease_until = NULL"
                " WHERE id = {p} AND status = 'running' " + _RETURNING),
}
_CACHE: dict[tuple[str, str], str] = {}


def _run(name: str, *params: Any) -> Any:
    """Execute a hot statement (placeholders in the connected engine's style); returns the cursor."""
    mark = db_proxy.obj.param
    sql = _CACHE.get((name, mark))
    if sql is None:
        sql = _CACHE[(name, mark)] = _SQL[name].replace("{p}", mark)
    return db_proxy.execute_sql(sql, params)


def _job_row(cursor: Any) -> Job | None:
    """The RETURNING row as a Job (values converted as peewee would), or None."""
    row = cursor.fetchone()
    if row is None:
        return None
    return Job.from_row(row)


def _claim(job_id: str, worker: str, timing: Timing) -> Job | None:
    """Two statements in the common case: the guarded job UPDATE … RETURNING and the slot UPDATE."""
    now = utcnow()
    fields = (worker, now, now + dt.timedelta(seconds=timing.lease_s), now, job_id)
    with atomic():
        job = _job_row(_run("claim_queued", *fields, now))
        if job is None:
            # Not queued: perhaps running with an expired lease (a takeover: the dead worker's
            # slot passes to this one, so no slot is taken); anything else is not ours.
            return _job_row(_run("claim_expired", *fields, now))
        # The hot model_slots row is updated last, so its lock is held only until the commit.
        cap = settings.REGISTRY["limits.model_concurrency"].default
        if _run("slot_take", job.model, cap).rowcount != 1:
            raise _Unclaimed()  # no free slot: roll the claim back
    return job


SLOT_RETRY_S = 1.0


def waiting_for(job_id: str) -> float | None:
    """Seconds until a queued job can be claimed (≥ SLOT_RETRY_S), or None when it is not queued."""
    with connection():
        job = Job.get_or_none(Job.id == job_id)
    if job is None or job.status != "queued":
        return None
    if job.not_before is not None:
        return max(SLOT_RETRY_S, (job.not_before - utcnow()).total_seconds())
    return SLOT_RETRY_S


def _release_slot(model: str, was_running: bool) -> None:
    if was_running:
        _run("slot_release", model)


def _outbox(job: Job, kind: str, payload: dict[str, Any]) -> None:
    if job.chat_id is None:
        return  # an operator job (CLI) has nobody to tell
    outbox.enqueue(user_id=job.user_id, chat_id=job.chat_id, kind=kind, payload=payload,
                   dedupe_key=f"job:{job.id}:{kind}", job_id=job.id)


def _terminal(job_id: str, status: str, from_statuses: tuple[str, ...],
              **fields: Any) -> tuple[Job, str] | None:
    """Move to a terminal status once; None when another actor already finished it.

    Returns the job as it is now and the status it left. The UPDATE is guarded by that exact status,
    so the model slot is released only when this call took the job out of ``running`` (a sweeper
    may have requeued it in between). The common case, leaving ``running``, is one statement.
    """
    for _ in range(3):
        now = utcnow()
        changes = dict(status=status, updated_at=now, finished_at=now, lease_until=None, **fields)
        for before in ("running",) + tuple(s for s in from_statuses if s != "running"):
            if before not in from_statuses:
                continue
            job = next(iter(Job.update(**changes).where((Job.id == job_id) & (Job.status == before))
                            .returning(Job).execute()), None)
            if job is not None:
                _run("inflight_down", job.user_id)
                return job, before  # the caller releases the model slot as its last statement
        current = Job.select(Job.status).where(Job.id == job_id).scalar()
        if current is None:
            raise NotFound(f"job {job_id} not found")
        if current not in from_statuses:
            return None
    return None


def succeed(job_id: str, result_keys: list[str], *, worker: str | None = None) -> Job:
    """Store the outcome of a run: all images → settle, K of N → partial settle; then tell the user.

    ``result_keys`` beyond the job's count are ignored; the status (succeeded when every requested
    image came, partial otherwise) is decided in the UPDATE, so the job is read only once.
    """
    if not result_keys:
        return fail(job_id, "no_image", "the provider returned no image")
    n = len(result_keys)
    now = utcnow()
    with atomic():
        job = _job_row(_run("succeed", n, n, n, json.dumps(result_keys), now, now, job_id))
        if job is None:
            return get(job_id)  # finished by someone else (or not running): nothing to do
        _run("inflight_down", job.user_id)
        if n > job.count:  # a provider that sent more than asked: keep what was paid for
            job.result_keys = json.dumps(result_keys[: job.count])
            Job.update(result_keys=job.result_keys).where(Job.id == job_id).execute()
        outcome = ledger.partial_settle(job_id, job.delivered, job.count) if job.cost else None
        _outbox(job, "job_result", {"images": job.results, "requested": job.count,
                                     "refunded": outcome.refunded if outcome else 0, "model": job.model})
        _release_slot(job.model, True)
    metrics.job(job.status, job.model)
    return job


def fail(job_id: str, kind: str, detail: str) -> Job:
    """Give up on a job: refund its hold in full and tell the user why (in their words, by kind)."""
    with atomic():
        moved = _terminal(job_id, "failed", ACTIVE, error_kind=kind, error_detail=detail[:2000])
        if moved is None:
            return get(job_id)
        job, before = moved
        outcome = ledger.refund(job_id) if job.cost else None
        _outbox(job, "job_failed", {"reason": kind, "refunded": outcome.refunded if outcome else 0,
                                    "model": job.model})
        _release_slot(job.model, before == "running")
    metrics.job("failed", job.model)
    if job.cost:
        metrics.REFUNDS.labels("job").inc()
    return job


def retry_later(job_id: str, delay_s: float, kind: str, detail: str) -> Job | None:
    """A transient failure with attempts left: back to queued, not before ``delay_s``.

    Returns None when attempts are exhausted (the caller then fails the job).
    """
    now = utcnow()
    with atomic():
        job = Job.get_or_none(Job.id == job_id)
        if job is None or job.status != "running" or job.attempts >= job.max_attempts:
            return None
        moved = (
            Job.update(status="queued", lease_until=None, updated_at=now, error_kind=kind, error_detail=detail[:2000],
                       not_before=now + dt.timedelta(seconds=max(0.0, delay_s)))
            .where((Job.id == job_id) & (Job.status == "running"))
            .execute()
        )
        if moved != 1:
            return None
        _release_slot(job.model, True)
    metrics.job("retry", job.model)
    return get(job_id)


def requeue(job_id: str, *, actor: Actor, extra_attempt: bool = False, reason: str | None = None) -> Job:
    """Operator retry of a stuck queued/running job (resets the lease; attempts stay); admin-logged.
    The caller enqueues the id after commit.

    A job that has used all its attempts cannot be claimed again: re-queued as it is, the worker and
    the sweeper would re-enqueue it forever until its deadline refunds it. So it is refused, unless
    ``extra_attempt`` (admin, logged): then it gets exactly one more attempt.
    """
    audit.authorize(actor, "jobs.retry", f"job:{job_id}")
    now = utcnow()
    with atomic():
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status in TERMINAL:
            raise InvalidInput(f"job {job_id} is already {job.status}")
        if job.attempts >= job.max_attempts:
            if not extra_attempt:
                raise InvalidInput(
                    f"job {job_id} has used all {job.max_attempts} of its attempts: retry it with --extra-attempt "
                    "to grant one more, or leave it to the sweeper, which refunds it at its deadline")
            audit.authorize(actor, "jobs.extra_attempt", f"job:{job_id}")
            (Job.update(max_attempts=job.attempts + 1, updated_at=now)
             .where((Job.id == job_id) & (Job.attempts == job.attempts)).execute())
            audit.record(actor, "jobs.extra_attempt", f"job:{job_id}", before={"max_attempts": job.max_attempts},
                         after={"max_attempts": job.attempts + 1}, reason=reason)
        if job.status == "running":
            moved = (Job.update(status="queued", lease_until=None, not_before=None, updated_at=now)
                     .where((Job.id == job_id) & (Job.status == "running")).execute())
            if moved:
                _release_slot(job.model, True)
        else:
            Job.update(not_before=None, updated_at=now).where(Job.id == job_id).execute()
        audit.record(actor, "jobs.retry", f"job:{job_id}", before={"status": job.status},
                     after={"status": "queued"}, reason=reason)
    return get(job_id)


def cancel_queued(job_id: str, kind: str, detail: str) -> Job | None:
    """Refund a job that has not started (still queued) and tell the user why (``kind`` picks the
    words); None when it is no longer queued (a worker took it, or it ended). The status change
    and the ledger refund happen once, so a replay changes nothing. Call inside the caller's
    transaction when it must commit with something else (an admin switching a model off)."""
    with atomic():
        moved = _terminal(job_id, "failed", ("queued",), error_kind=kind, error_detail=detail[:2000])
        if moved is None:
            return None
        job, _ = moved
        outcome = ledger.refund(job_id) if job.cost else None
        _outbox(job, "job_failed", {"reason": kind, "refunded": outcome.refunded if outcome else 0,
                                    "model": job.model})
    return job


def sweep(timing: Timing = Timing(), now: dt.datetime | None = None, *, actor: Actor | None = None) -> SweepReport:
    """One pass of the sweeper; returns what it did (the caller enqueues ``requeued``). An operator's
    run (``actor``) is logged with what it did, in its last transaction."""
    if actor is not None:
        audit.authorize(actor, "jobs.sweep", "jobs")
    now = now or utcnow()
    report = SweepReport()
    with connection():
        overdue = [j.id for j in Job.select(Job.id).where(Job.status.in_(ACTIVE) & (Job.deadline_at < now))]
        for job_id in overdue:
            if fail(job_id, "timeout", "past the job deadline").status == "failed":
                report.failed.append(job_id)
        stale_queue = now - dt.timedelta(seconds=timing.requeue_after_s)
        waiting = Job.select(Job.id).where(
            (Job.status == "queued") & (Job.updated_at < stale_queue)
            & (Job.not_before.is_null() | (Job.not_before <= now))
        )
        for job in waiting:
            Job.update(updated_at=now).where((Job.id == job.id) & (Job.status == "queued")).execute()
            report.requeued.append(job.id)
        expired = Job.select().where((Job.status == "running") & (Job.lease_until < now))
        for job in expired:
            if job.attempts >= job.max_attempts:
                if fail(job.id, "timeout", "the worker stopped answering").status == "failed":
                    report.failed.append(job.id)
                continue
            with atomic():
                moved = (Job.update(status="queued", lease_until=None, updated_at=now)
                         .where((Job.id == job.id) & (Job.status == "running") & (Job.lease_until < now)).execute())
                if moved:
                    _release_slot(job.model, True)
                    report.requeued.append(job.id)
        with atomic():
            report.outbox_released = (
                Outbox.update(status="pending", locked_until=None)
                .where((Outbox.status == "sending") & (Outbox.locked_until < now)).execute()
            )
        report.intents_expired = invoices.expire_intents(now)
        report.conversations_expired = conversation.expire(now)
        if actor is not None:
            with atomic():
                audit.record(actor, "jobs.sweep", "jobs", after=report.as_dict())
    return report


def queue_position(job: Job) -> int:
    """1 + how many queued jobs were submitted before this one (the "position in queue" users see)."""
    with connection():
        ahead = Job.select().where((Job.status == "queued") & (Job.created_at < job.created_at)).count()
    return ahead + 1


def active_chats(limit: int = 1000) -> list[int]:
    """Chats waiting for a queued or running job (the bot shows them the upload_photo action)."""
    with connection():
        rows = (Job.select(Job.chat_id).where(Job.status.in_(ACTIVE) & Job.chat_id.is_null(False))
                .distinct().limit(limit))
        return [row.chat_id for row in rows]
