"""What a worker does with one job id: claim → provider call → store → finish.

No database connection or transaction is held during the provider call: the claim and the finish
each borrow a connection briefly. A crash anywhere leaves the job row in a state the sweeper
recognises (queued or running with a lease), so every paid job still ends delivered or refunded.
``Runtime.fault`` lets tests inject a crash at each boundary.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bananapics import __version__, logs, metrics
from bananapics.providers.base import GenerationRequest, ImageIn, Provider, ProviderError
from bananapics.images import EXT_BY_MIME
from bananapics.services import breaker, jobs, system
from bananapics.storage import ObjectNotFound, job_output_key
from bananapics.services.jobs import Timing

log = logging.getLogger(__name__)

MIME_BY_EXT = {ext: mime for mime, ext in EXT_BY_MIME.items()} | {"jpeg": "image/jpeg"}
BACKOFF_S = (5.0, 20.0, 60.0)


@dataclass(frozen=True)
class Outcome:
    status: str  # skipped | retry | succeeded | partial | failed
    delay_s: float = 0.0


@dataclass
class Runtime:
    storage: object  # bananapics.storage.Storage
    provider_for: Callable[[str], Provider]
    timing: Timing = field(default_factory=Timing)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    fault: Callable[[str, str], None] | None = None  # (boundary, job_id) → may raise, for crash tests
    breaker: breaker.Policy = field(default_factory=breaker.Policy)  # [providers] breaker_*

    def worker_name(self) -> str:
        return f"{self.name}:{threading.get_ident() % 100000}"

    def at(self, boundary: str, job_id: str) -> None:
        if self.fault is not None:
            self.fault(boundary, job_id)


def _mime_of(key: str) -> str:
    return MIME_BY_EXT.get(key.rsplit(".", 1)[-1].lower(), "image/jpeg")


def run_job(job_id: str, rt: Runtime) -> Outcome:
    """Run one delivery of a job id; safe to call any number of times for the same id."""
    with logs.context(job_id=job_id):  # the job's id on every log line of this run, and only of this run
        return _run_job(job_id, rt)


def _run_job(job_id: str, rt: Runtime) -> Outcome:
    gate = breaker.gate(job_id, rt.timing.lease_s)  # the model's circuit breaker (services.breaker)
    if gate.action == "refuse" and jobs.cancel_queued(job_id, breaker.UNAVAILABLE, "circuit breaker open") is not None:
        return Outcome("failed")  # refunded without calling a provider that keeps failing
    if gate.action == "wait":
        return Outcome("retry", gate.delay_s)  # another job is probing the provider
    job = jobs.claim(job_id, rt.worker_name(), timing=rt.timing)
    if job is None and gate.action == "probe":
        breaker.release_probe(gate.model, job_id)
    if job is None:
        waiting = jobs.waiting_for(job_id)
        # Still queued (no free model slot, or a retry delay not over): try again soon rather than
        # leave it to the sweeper; anything else (done, or running elsewhere) is a duplicate.
        return Outcome("retry", waiting) if waiting is not None else Outcome("skipped")
    rt.at("after_claim", job_id)
    try:
        references = [ImageIn(rt.storage.get(key), _mime_of(key)) for key in job.refs]
    except ObjectNotFound as exc:  # purged by retention since it was attached: no attempt can succeed
        log.warning("job %s: reference gone from storage (%s)", job_id, exc)
        return Outcome(jobs.fail(job_id, "reference", str(exc)).status)
    try:
        request = GenerationRequest(job.prompt, job.provider_model, job.settings_dict, references, job.id)
        provider = rt.provider_for(job.provider)
        rt.at("before_call", job_id)
        started = time.perf_counter()
        try:
            images = provider.generate(request)
        except ProviderError as exc:
            metrics.provider_call(job.provider, time.perf_counter() - started, exc.kind)
            raise
        metrics.provider_call(job.provider, time.perf_counter() - started)
        rt.at("after_call", job_id)
    except ProviderError as exc:
        log.warning("job %s attempt %s: %s (%s)", job_id, job.attempts, exc.kind, exc.detail[:200])
        breaker.record(job.model, exc.kind, gate, rt.breaker, job_id)
        if exc.retryable:
            delay = exc.retry_after if exc.retry_after is not None else BACKOFF_S[min(job.attempts, len(BACKOFF_S)) - 1]
            if jobs.retry_later(job_id, delay, exc.kind, exc.detail) is not None:
                return Outcome("retry", delay)
        return Outcome(jobs.fail(job_id, exc.kind, exc.detail).status)
    breaker.record(job.model, None, gate, rt.breaker, job_id)
    keys = []
    for n, image in enumerate(images[: job.count]):
        keys.append(job_output_key(job.id, n, EXT_BY_MIME.get(image.mime, "png")))
        rt.storage.put(keys[-1], image.data, image.mime)
    rt.at("before_finish", job_id)
    finished = jobs.succeed(job_id, keys)
    rt.at("after_finish", job_id)
    return Outcome(finished.status)


class Heartbeat:
    """This process's heartbeat row (``host:pid``), written every ``system.HEARTBEAT_EVERY_S``
    by a daemon thread; one per process however many consumers or threads it runs."""

    _lock = threading.Lock()
    _current: "Heartbeat | None" = None

    def __init__(self, worker_id: str, every_s: float) -> None:
        self.worker_id, self.every_s = worker_id, every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    @classmethod
    def ensure_started(cls, every_s: float = system.HEARTBEAT_EVERY_S) -> "Heartbeat":
        with cls._lock:
            if cls._current is None:
                cls._current = cls(f"{socket.gethostname()}:{os.getpid()}", every_s)
                cls._current.beat()
                cls._current.thread.start()
            return cls._current

    @classmethod
    def shutdown(cls) -> None:
        """Stop beating and remove the row (a killed process just goes stale)."""
        with cls._lock:
            current, cls._current = cls._current, None
        if current is not None:
            current.stop.set()
            try:
                system.forget_worker(current.worker_id)
            except Exception as exc:  # the database is gone at shutdown: the row goes stale instead
                log.warning("heartbeat: could not remove %s: %s", current.worker_id, exc)

    def beat(self) -> None:
        try:
            system.beat(self.worker_id, __version__)
            metrics.heartbeat()
        except Exception as exc:  # a database hiccup must not stop the worker; the next beat retries
            log.warning("heartbeat: %s", exc)

    def _run(self) -> None:
        while not self.stop.wait(self.every_s):
            self.beat()
