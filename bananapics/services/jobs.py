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

import datetime as dt
import json
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from bananapics.db import atomic, connection
from bananapics.errors import BananaError, InDebt, InvalidInput, NotFound, UserBanned
from bananapics.models import AiModel, InvoiceIntent, Job, ModelSlot, Outbox, User, utcnow
from bananapics.models.jobs import ACTIVE, TERMINAL
from bananapics.services import ledger, pricing, settings

PROMPT_MAX = 2000


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


def clean_prompt(prompt: str | None) -> str:
    """NFC-normalise, drop control characters, trim; refuse empty or too long."""
    text = unicodedata.normalize("NFC", prompt or "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    if not text:
        raise InvalidInput("the prompt is empty", title="prompt_empty")
    if len(text) > PROMPT_MAX:
        raise InvalidInput(f"the prompt is {len(text)} characters; the limit is {PROMPT_MAX}", title="prompt_too_long")
    return text


def _enabled_model(model_id: str) -> AiModel:
    model = AiModel.get_or_none(AiModel.id == model_id)
    if model is None:
        raise NotFound(f"unknown model {model_id!r}", title="model_unknown")
    if not model.enabled:
        raise InvalidInput(f"{model.name} is switched off right now", title="model_disabled")
    return model


def submit(user_id: int, model_id: str, prompt: str, job_settings: dict[str, Any] | None = None, *,
           ref_keys: list[str] | None = None, chat_id: int | None = None, source: str = "bot",
           job_id: str | None = None, free: bool = False, timing: Timing = Timing()) -> Job:
    """Validate, price and hold in one transaction; returns the queued job (enqueue it after commit).

    ``job_id`` makes a double-tapped confirm a no-op: the same id returns the existing job.
    ``free`` (operator test runs) records cost 0 and holds nothing.
    """
    text = clean_prompt(prompt)
    ref_keys = list(ref_keys or [])
    wanted = dict(job_settings or {})
    wanted["refs"] = len(ref_keys)
    job_id = job_id or uuid.uuid4().hex
    with atomic():
        existing = Job.get_or_none(Job.id == job_id)
        if existing is not None:
            if existing.user_id != user_id:
                raise InvalidInput("that job id belongs to someone else")
            return existing
        user = User.get_or_none(User.id == user_id)
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        if user.banned:
            raise UserBanned("this account is banned")
        if user.debt and not free:  # a forced refund left a debt: the next top-up repays it first
            raise InDebt(user.debt)
        model = _enabled_model(model_id)
        quote = pricing.cost(model, wanted)
        cost = 0 if free else quote.total
        cap = int(settings.get("limits.user_parallel_jobs"))
        took = (
            User.update(inflight=User.inflight + 1)
            .where((User.id == user_id) & (User.inflight < cap))
            .execute()
        )
        if took != 1:
            raise TooManyJobs(f"you already have {cap} generation(s) running; wait for one to finish")
        if cost:
            ledger.hold(user_id, cost, job_id, actor=f"user:{user.tg_id}")
        now = utcnow()
        Job.insert(
            id=job_id, user=user_id, model=model.id, provider=model.provider, provider_model=model.provider_model,
            prompt=text, settings=json.dumps(quote.settings), ref_keys=json.dumps(ref_keys), count=quote.count,
            cost=cost, max_attempts=int(settings.get("jobs.max_attempts")),
            deadline_at=now + dt.timedelta(seconds=timing.deadline_s), chat_id=chat_id, source=source,
            created_at=now, updated_at=now,
        ).execute()
    return get(job_id)


def get(job_id: str) -> Job:
    with connection():
        job = Job.get_or_none(Job.id == job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
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


def _claim(job_id: str, worker: str, timing: Timing) -> Job | None:
    now = utcnow()
    with atomic():
        job = Job.get_or_none(Job.id == job_id)
        if job is None or job.status in TERMINAL:
            return None
        if job.not_before and job.not_before > now:
            return None
        cap = int(settings.get("limits.model_concurrency"))
        # Guard on the exact state just read: queued, or running with an expired lease (a takeover).
        same_state = (Job.status == "queued") if job.status == "queued" else \
            ((Job.status == "running") & (Job.lease_until < now))
        claimed = (
            Job.update(status="running", attempts=Job.attempts + 1, worker=worker, updated_at=now,
                       lease_until=now + dt.timedelta(seconds=timing.lease_s),
                       started_at=pw.fn.COALESCE(Job.started_at, now))
            .where((Job.id == job_id) & same_state & (Job.attempts < Job.max_attempts))
            .execute()
        )
        if claimed != 1:
            return None
        if job.status == "running":
            return get(job_id)  # a lease taken over: the dead worker's slot passes to this one
        # The hot model_slots row is updated last, so its lock is held only until the commit.
        slot = (
            ModelSlot.update(running=ModelSlot.running + 1)
            .where((ModelSlot.model == job.model) & (ModelSlot.running < cap))
            .execute()
        )
        if slot != 1:
            raise _Unclaimed()  # no free slot: roll the claim back
    return get(job_id)


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
        (ModelSlot.update(running=ModelSlot.running - 1)
         .where((ModelSlot.model == model) & (ModelSlot.running > 0)).execute())


def _outbox(job: Job, kind: str, payload: dict[str, Any]) -> None:
    if job.chat_id is None:
        return  # an operator job (CLI) has nobody to tell
    Outbox.insert(
        dedupe_key=f"job:{job.id}:{kind}", job=job.id, user=job.user_id, chat_id=job.chat_id,
        kind=kind, payload=json.dumps(payload, ensure_ascii=False),
    ).on_conflict_ignore().execute()


def _terminal(job_id: str, status: str, from_statuses: tuple[str, ...], **fields: Any) -> Job | None:
    """Move to a terminal status once; None when another actor already finished it.

    The UPDATE is guarded by the exact status just read, so the model slot is released only when
    this call took the job out of ``running`` (a sweeper may have requeued it in between).
    """
    for _ in range(3):
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status not in from_statuses:
            return None
        now = utcnow()
        moved = (
            Job.update(status=status, updated_at=now, finished_at=now, lease_until=None, **fields)
            .where((Job.id == job_id) & (Job.status == job.status))
            .execute()
        )
        if moved == 1:
            (User.update(inflight=User.inflight - 1)
             .where((User.id == job.user_id) & (User.inflight > 0)).execute())
            return job  # the caller releases the model slot as its last statement
    return None


def succeed(job_id: str, result_keys: list[str], *, worker: str | None = None) -> Job:
    """Store the outcome of a run: all images → settle, K of N → partial settle; then tell the user."""
    with atomic():
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        delivered = min(len(result_keys), job.count)
        if delivered == 0:
            return fail(job_id, "no_image", "the provider returned no image")
        status = "succeeded" if delivered == job.count else "partial"
        before = _terminal(job_id, status, ("running",), result_keys=json.dumps(result_keys[:delivered]),
                           delivered=delivered)
        if before is None:
            return get(job_id)
        outcome = ledger.partial_settle(job_id, delivered, job.count) if job.cost else None
        refunded = outcome.refunded if outcome else 0
        _outbox(job, "job_result", {"images": result_keys[:delivered], "requested": job.count,
                                     "refunded": refunded, "model": job.model})
        _release_slot(before.model, before.status == "running")
    return get(job_id)


def fail(job_id: str, kind: str, detail: str) -> Job:
    """Give up on a job: refund its hold in full and tell the user why (in their words, by kind)."""
    with atomic():
        before = _terminal(job_id, "failed", ACTIVE, error_kind=kind, error_detail=detail[:2000])
        if before is None:
            return get(job_id)
        outcome = ledger.refund(job_id) if before.cost else None
        _outbox(before, "job_failed", {"reason": kind, "refunded": outcome.refunded if outcome else 0,
                                        "model": before.model})
        _release_slot(before.model, before.status == "running")
    return get(job_id)


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
    return get(job_id)


def requeue(job_id: str) -> Job:
    """Operator retry of a stuck queued/running job (resets the lease; attempts stay)."""
    now = utcnow()
    with atomic():
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status in TERMINAL:
            raise InvalidInput(f"job {job_id} is already {job.status}")
        if job.status == "running":
            moved = (Job.update(status="queued", lease_until=None, not_before=None, updated_at=now)
                     .where((Job.id == job_id) & (Job.status == "running")).execute())
            if moved:
                _release_slot(job.model, True)
        else:
            Job.update(not_before=None, updated_at=now).where(Job.id == job_id).execute()
    return get(job_id)


def sweep(timing: Timing = Timing(), now: dt.datetime | None = None) -> SweepReport:
    """One pass of the sweeper; returns what it did (the caller enqueues ``requeued``)."""
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
            report.intents_expired = (
                InvoiceIntent.update(status="expired")
                .where((InvoiceIntent.status == "open") & (InvoiceIntent.expires_at < now)).execute()
            )
    return report


def list_jobs(status: str | None = None, user_id: int | None = None, limit: int = 50) -> list[Job]:
    with connection():
        query = Job.select().order_by(Job.created_at.desc()).limit(limit)
        if status:
            query = query.where(Job.status == status)
        if user_id is not None:
            query = query.where(Job.user == user_id)
        return list(query)
