"""Huey tasks: ``generate(job_id)`` and the periodic ``sweep``.

Tasks are registered on a Huey instance built from config (``tasks.queue.make_huey``), so the bot,
the CLI and every worker process register the same task names on the same storage. Payloads carry
only the job id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from huey import crontab
from huey.api import Huey, TaskWrapper

from bananapics.models import db
from bananapics.services import jobs
from bananapics.worker import Runtime, run_job

log = logging.getLogger(__name__)


@dataclass
class Tasks:
    huey: Huey
    generate: TaskWrapper
    sweep: TaskWrapper

    def enqueue(self, job_id: str, delay: float = 0.0) -> None:
        """Schedule a job id; Huey may deliver it twice or never — the DB claim and sweeper cope."""
        if delay > 0:
            self.generate.schedule((job_id,), delay=delay)
        else:
            self.generate(job_id)

    def enqueue_after_commit(self, job_id: str) -> None:
        """Enqueue once the surrounding transaction commits (dropped on rollback)."""
        db.after_commit(lambda: self.enqueue(job_id))


def purge_old_media(storage, retention_days: int) -> int:
    """Apply the retention setting to generated images and uploaded references."""
    if retention_days <= 0:
        return 0
    return sum(storage.purge_older_than(retention_days, prefix=prefix) for prefix in ("jobs/", "refs/"))


def register(huey: Huey, runtime: Callable[[], Runtime], *, sweep_minutes: int = 1, retention_days: int = 30) -> Tasks:
    """Declare the tasks on ``huey``; ``runtime()`` builds the worker's dependencies lazily."""
    holder: dict[str, Tasks] = {}

    # A database hiccup inside the task is retried by Huey (claim and finish are idempotent); the
    # sweeper stays the backstop for anything that never comes back.
    @huey.task(name="bananapics.generate", retries=2, retry_delay=2)
    def generate(job_id: str) -> None:
        outcome = run_job(job_id, runtime())
        if outcome.status == "retry":
            holder["tasks"].enqueue(job_id, outcome.delay_s)

    @huey.periodic_task(crontab(minute=f"*/{sweep_minutes}"), name="bananapics.sweep")
    @huey.lock_task("bananapics-sweep")
    def sweep() -> None:
        report = jobs.sweep(runtime().timing)
        for job_id in report.requeued:
            holder["tasks"].enqueue(job_id)
        if report.requeued or report.failed:
            log.info("sweep: requeued %d, failed %d", len(report.requeued), len(report.failed))

    @huey.periodic_task(crontab(hour="3", minute="17"), name="bananapics.purge_media")
    @huey.lock_task("bananapics-purge")
    def purge_media() -> None:
        removed = purge_old_media(runtime().storage, retention_days)
        if removed:
            log.info("retention: deleted %d stored images older than %d days", removed, retention_days)

    holder["tasks"] = Tasks(huey, generate, sweep)
    return holder["tasks"]
