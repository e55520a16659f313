"""A user's past generations: pages of jobs, one job's detail (owner only), re-sending results, and
from a job: regenerate (its request back in the draft) or reuse its prompt in a new draft.

Re-sending queues an outbox row with the job's storage keys; the bot's delivery loop sends it
(reusing the Telegram file references it cached the first time). One re-send of a job is queued
at a time, so a double tap sends the images once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AiModel, Draft, Hold, Job, Outbox, User, utcnow
from bananapics.models.jobs import TERMINAL
from bananapics.services import drafts, jobs, outbox, pricing, tgfiles

PAGE_SIZE = 5
DELIVERED = ("succeeded", "partial")


@dataclass(frozen=True)
class Page:
    jobs: list[Job]
    page: int  # 0-based, clamped into range
    pages: int
    total: int


def page(user_id: int, number: int, size: int = PAGE_SIZE) -> Page:
    """Newest first; a page past the end shows the last one (jobs may have been purged)."""
    mine = Job.select().where((Job.user == user_id) & Job.hidden_at.is_null())
    with connection():
        total = mine.count()
        pages = max(1, -(-total // size))
        number = min(max(number, 0), pages - 1)
        rows = list(mine.order_by(Job.created_at.desc(), Job.id.desc()).offset(number * size).limit(size))
    return Page(rows, number, pages, total)


def page_of(user_id: int, job: Job, size: int = PAGE_SIZE) -> int:
    """The page a job is listed on (for the detail's Back button)."""
    with connection():
        newer = Job.select().where((Job.user == user_id) & Job.hidden_at.is_null() & (
            (Job.created_at > job.created_at) | ((Job.created_at == job.created_at) & (Job.id > job.id)))).count()
    return newer // size


def charged(jobs: list[Job]) -> dict[str, int]:
    """Tokens each job cost: what was settled once it ended (failures: 0), what is held while it runs."""
    ended = [job.id for job in jobs if job.status in TERMINAL and job.cost]
    with connection():
        settled = {h.ref: int(h.settled) for h in Hold.select(Hold.ref, Hold.settled).where(Hold.ref.in_(ended))} \
            if ended else {}
    return {job.id: settled.get(job.id, 0) if job.status in TERMINAL else int(job.cost) for job in jobs}


def model_names() -> dict[str, str]:
    with connection():
        return {m.id: m.name for m in AiModel.select(AiModel.id, AiModel.name)}


def files_available(job: Job, storage) -> bool:
    return job.status in DELIVERED and bool(job.results) and all(storage.exists(key) for key in job.results)


def resend(user_id: int, job_id: str, chat_id: int, storage) -> bool:
    """Queue the job's images again; False when a re-send of it is still on its way."""
    job = jobs.get_for_user(user_id, job_id)
    if not files_available(job, storage):
        raise InvalidInput("the files of this generation are no longer stored", title="files_gone")
    prefix = f"job:{job.id}:resend:"
    with atomic():
        earlier = Outbox.select(Outbox.status).where(Outbox.dedupe_key.startswith(prefix))
        if any(row.status in ("pending", "sending") for row in earlier):
            return False
        payload = {"images": job.results, "requested": len(job.results), "refunded": 0, "model": job.model,
                   "resend": True}
        return outbox.enqueue(user_id=user_id, chat_id=chat_id, kind="job_result", payload=payload,
                              dedupe_key=f"{prefix}{earlier.count() + 1}", job_id=job.id)


def delete(user_id: int, job_id: str, storage) -> int:
    """The user deletes a finished generation from their history: it is no longer listed, its
    buttons become outdated, and its images are deleted from storage — the results, and the
    reference photos no other generation in their history (nor their current draft) still uses.
    The job row stays for the money records (its hold, settle and refund name it). Returns how many
    stored files were deleted. A running job is refused; deleting twice is "not found"."""
    job = jobs.get_for_user(user_id, job_id)
    if job.status not in TERMINAL:
        raise InvalidInput("a generation that is still running cannot be deleted", title="job_running")
    with atomic():
        hidden = Job.update(hidden_at=utcnow()).where((Job.id == job.id) & Job.hidden_at.is_null()).execute()
        if not hidden:  # deleted by a concurrent tap
            raise NotFound("no such job", title="stale")
        kept = set()
        for (ref_keys,) in Job.select(Job.ref_keys).where(
                (Job.user == user_id) & Job.hidden_at.is_null() & (Job.ref_keys != "[]")).tuples():
            kept.update(json.loads(ref_keys))
        draft = Draft.by(Draft.user, user_id)
        if draft is not None:
            kept.update(draft.refs)
        gone = [key for key in job.refs if key not in kept] + list(job.results)
        tgfiles.forget_keys(gone)
    deleted = 0
    for key in gone:  # after the commit: a file deleted for a row that rolled back could not come back
        if storage.exists(key):
            storage.delete(key)
            deleted += 1
    return deleted


def regenerate(user_id: int, job: Job, storage) -> Draft:
    """The job's model, prompt, settings and reference photos back in the user's draft, at the
    confirm step (priced and held anew when submitted). Nothing changes when its model is switched off
    or gone (InvalidInput ``model_disabled``), a reference photo is no longer stored (NotFound
    ``refs_gone``) or the model no longer takes its settings."""
    model = pricing.find_model(job.model)
    if model is None or not model.enabled:
        raise InvalidInput(f"{model.name if model is not None else job.model} is switched off", title="model_disabled")
    if not all(storage.exists(key) for key in job.refs):
        raise NotFound("a reference photo of this job is no longer stored", title="refs_gone")
    return drafts.from_job(user_id, job)


def reuse(user_id: int, job: Job, user: User | None = None) -> Draft:
    """A new draft with the job's prompt (and its model while that is switched on), at the
    references step. ``user``: the caller's row of the user, if it has one."""
    drafts.reset(user_id, user)
    model = pricing.find_model(job.model)
    if model is not None and model.enabled:
        drafts.choose_model(user_id, job.model, user)
    return drafts.set_prompt(user_id, job.prompt)
