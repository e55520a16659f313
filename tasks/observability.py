"""The observer: in every worker process a daemon thread that, while this process is the leader
(``services.observability.LeaderLock``: a Postgres advisory lock; on SQLite the single worker),
sets the database-wide gauges every :data:`GAUGES_EVERY_S` and runs the ledger verify every
``[metrics] verify_minutes``, feeding ``bananapics_ledger_verify_breaches``. Other workers export
``bananapics_observer_leader 0`` and leave those gauges at 0, so ``max()`` over all processes is
the figure.

Started by the consumer's startup hook (``register``) together with the metrics server, so
``bananapics worker`` and ``bananapics run all`` both get it; the bot process alone has no observer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import msgspec
from huey.api import Huey

from bananapics import metrics
from bananapics.config import Config
from bananapics.services import observability

log = logging.getLogger(__name__)

GAUGES_EVERY_S = 15.0


class Observer:
    """One per process. ``tick()`` does one round (tests call it directly)."""

    _lock = threading.Lock()
    _current: "Observer | None" = None

    def __init__(self, lock: observability.LeaderLock, *, verify_every_s: float,
                 every_s: float = GAUGES_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.lock, self.verify_every_s, self.every_s, self.clock = lock, verify_every_s, every_s, clock
        self.last_verify: float | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="observer", daemon=True)

    def tick(self) -> bool:
        """One round; returns whether this process leads."""
        try:
            leading = self.lock.held()
        except Exception as exc:  # noqa: BLE001 - never kill the observer; the next round retries
            log.warning("observability: leader check failed: %s", exc)
            leading = False
        metrics.LEADER.set(1 if leading else 0)
        if not leading:
            self.last_verify = None
            return False
        try:
            found = observability.gauges()
            metrics.QUEUE_DEPTH.set(found.queue_depth)
            metrics.OUTBOX_BACKLOG.set(found.outbox_backlog)
            metrics.WORKERS_ALIVE.set(found.workers_alive)
            metrics.JOBS_ACTIVE.clear()
            for (state, model), n in found.jobs_active.items():
                metrics.JOBS_ACTIVE.labels(state, model).set(n)
        except Exception as exc:  # noqa: BLE001 - a database hiccup: the next round
            log.warning("observability: gauges not read: %s", exc)
        now = self.clock()
        if self.verify_every_s > 0 and (self.last_verify is None or now - self.last_verify >= self.verify_every_s):
            self.run_verify()
            self.last_verify = now
        return True

    def run_verify(self) -> int | None:
        try:
            breaches = observability.verify_breaches()
        except Exception as exc:  # noqa: BLE001
            log.warning("observability: ledger verify did not run: %s", exc)
            return None
        metrics.VERIFY_BREACHES.set(len(breaches))
        metrics.VERIFY_LAST_RUN.set(time.time())
        for breach in breaches[:20]:
            log.error("ledger verify breach %s: %s", breach.check, breach.detail)
        return len(breaches)

    def _run(self) -> None:
        while True:
            self.tick()
            if self.stop.wait(self.every_s):
                break
        self.lock.release()

    @classmethod
    def ensure_started(cls, config: Config) -> "Observer":
        with cls._lock:
            if cls._current is None:
                cls._current = cls(observability.LeaderLock(lambda: dedicated_connection(config)),
                                   verify_every_s=config.metrics.verify_minutes * 60.0)
                cls._current.thread.start()
            return cls._current

    @classmethod
    def shutdown(cls) -> None:
        with cls._lock:
            current, cls._current = cls._current, None
        if current is not None:
            current.stop.set()
            metrics.LEADER.set(0)


def dedicated_connection(config: Config):
    """A connection outside the process's pool, for the leader lock (it lives as long as the lock)."""
    from bananapics.db import make_database

    cfg = msgspec.structs.replace(config.database, pool_max=1)
    return make_database(cfg)


def register(huey: Huey, config: Config) -> None:
    """Consumer startup: the metrics server (``[metrics] port``) and the observer thread."""

    @huey.on_startup(name="bananapics.observability")
    def start_observability() -> None:
        try:
            metrics.serve(config.metrics.port, config.metrics.host)
        except OSError as exc:  # a port taken must not stop the worker from working
            log.error("metrics: cannot listen on %s:%s: %s", config.metrics.host, config.metrics.port, exc)
        Observer.ensure_started(config)

    @huey.on_shutdown(name="bananapics.observability")
    def stop_observability() -> None:
        Observer.shutdown()
