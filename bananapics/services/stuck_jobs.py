"""An operator's way out for a stuck generation: refund it now. The job fails with the kind
``timeout`` ("the model took too long"), its hold is refunded in full and the user is told (the same outcome and message as
the sweeper's deadline refund, only sooner); admin-logged with the reason. Retrying instead is
``jobs.requeue``. A job that already ended changes nothing (InvalidInput says how it ended).
"""

from __future__ import annotations

from bananapics.db import atomic
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import Job
from bananapics.models.jobs import TERMINAL
from bananapics.services import audit, jobs
from bananapics.services.audit import Actor

KIND = "timeout"  # what the user reads: "the model took too long" (their tokens are back)


def refund(job_id: str, *, reason: str, actor: Actor) -> Job:
    """Fail a queued or running job now and refund its hold (``jobs.retry`` permission: support too)."""
    audit.authorize(actor, "jobs.retry", f"job:{job_id}")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("refunding a job needs a reason")
    with atomic():
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status in TERMINAL:
            raise InvalidInput(f"job {job_id} is already {job.status}")
        done = jobs.fail(job_id, KIND, f"refunded by {actor.name}: {reason}")
        audit.record(actor, "jobs.refund", f"job:{job_id}", before={"status": job.status, "held": job.cost},
                     after={"status": done.status, "refunded": job.cost}, reason=reason)
    return done
