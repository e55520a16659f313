"""Huey tasks: ``generate(job_id)``, the periodic ``sweep`` and the periodic Stars ``reconcile``.

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

from bananapics.errors import TelegramError
from bananapics.models import db
from bananapics.services import jobs, privacy, reconcile
from bananapics.services.stars import StarsApi
from bananapics.worker import Heartbeat, Runtime, run_job

log = logging.getLogger(__name__)


@dataclass
class Tasks:
    huey: Huey
    generate: TaskWrapper
    sweep: TaskWrapper
    reconcile: TaskWrapper | None = None

    def enqueue(self, job_id: str, delay: float = 0.0) -> None:
        """Schedule a job id; Huey may deliver it twice or never — the DB claim and sweeper cope."""
        if delay > 0:
            self.generate.schedule((job_id,), delay=delay)
        else:
            self.generate(job_id)

    def enqueue_after_commit(self, job_id: str) -> None:
        """Enqueue once the surrounding transaction commits (dropped on rollback). The job is
        committed by then, so a queue that is away (Redis restarting) must not fail the caller: the
        user would be told nothing about a job that was held and will run — the sweeper re-enqueues
        a job left queued (``[jobs] requeue_after_s``)."""
        db.after_commit(lambda: self._enqueue_committed(job_id))

    def _enqueue_committed(self, job_id: str) -> None:
        try:
            self.enqueue(job_id)
        except Exception as exc:  # noqa: BLE001 - redis.ConnectionError, TimeoutError, …: the sweeper's turn
            log.warning("job %s: not enqueued (%s: %s); the sweeper re-enqueues it", job_id, type(exc).__name__, exc)


def every(minutes: int) -> crontab:
    """A crontab for "every N minutes" (N ≥ 60 runs on the hour, every N // 60 hours)."""
    if minutes < 60:
        return crontab(minute=f"*/{minutes}")
    return crontab(minute="0", hour=f"*/{max(1, minutes // 60)}")


def reconcile_stars(stars_api: Callable[[], StarsApi | None]) -> reconcile.Report | None:
    """One reconcile of the bot's Stars history; None when no Telegram access is configured."""
    api = stars_api()
    if api is None:
        return None
    try:
        report = reconcile.reconcile(api)
    except TelegramError as exc:  # Telegram unreachable or refusing: the next run tries again
        log.warning("reconcile skipped: %s", exc)
        return None
    finally:
        close = getattr(api, "close", None)
        if close is not None:
            close()
    if report.credited or report.reversed:
        log.warning("reconcile: credited %d missed payment(s) %s, reversed %d missed refund(s) %s",
                    len(report.credited), report.credited, len(report.reversed), report.reversed)
    for m in report.mismatches:
        log.error("reconcile mismatch %s: %s", m.charge_id, m.problem)
    return report


def register(huey: Huey, runtime: Callable[[], Runtime], *, sweep_minutes: int = 1, retention_days: int = 30,
             stars_api: Callable[[], StarsApi | None] | None = None, reconcile_minutes: int = 0) -> Tasks:
    """Declare the tasks on ``huey``; ``runtime()`` builds the worker's dependencies lazily.

    ``stars_api()`` gives the Telegram side of the periodic reconcile (a Bot API client), or None
    when there is no bot token; ``reconcile_minutes = 0`` leaves the reconcile out."""
    holder: dict[str, Tasks] = {}

    # A database hiccup inside the task is retried by Huey (claim and finish are idempotent); the
    # sweeper stays the backstop for anything that never comes back.
    @huey.task(name="bananapics.generate", retries=2, retry_delay=2)
    def generate(job_id: str) -> None:
        outcome = run_job(job_id, runtime())
        if outcome.status == "retry":
            holder["tasks"].enqueue(job_id, outcome.delay_s)

    @huey.periodic_task(every(sweep_minutes), name="bananapics.sweep")
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
        done = privacy.apply_retention(runtime().storage, retention_days)
        if done.files_deleted or done.prompts_cleared:
            log.info("retention: deleted %d stored images older than %d days, cleared %d deleted prompts",
                     done.files_deleted, retention_days, done.prompts_cleared)

    # Every consumer (``bananapics worker``, ``run all``) writes this process's heartbeat row.
    @huey.on_startup(name="bananapics.heartbeat")
    def start_heartbeat() -> None:
        Heartbeat.ensure_started()

    @huey.on_shutdown(name="bananapics.heartbeat")
    def stop_heartbeat() -> None:
        Heartbeat.shutdown()

    periodic_reconcile = None
    if stars_api is not None and reconcile_minutes > 0:
        periodic_reconcile = _register_reconcile(huey, stars_api, reconcile_minutes)
    holder["tasks"] = Tasks(huey, generate, sweep, periodic_reconcile)
    return holder["tasks"]


def _register_reconcile(huey: Huey, stars_api: Callable[[], StarsApi | None], minutes: int) -> TaskWrapper:
    @huey.periodic_task(every(minutes), name="bananapics.reconcile_stars")
    @huey.lock_task("bananapics-reconcile")
    def reconcile_task() -> None:
        reconcile_stars(stars_api)

    return reconcile_task
