"""What the observability leader reads for the metrics gauges, and how one worker becomes it.

* :func:`gauges`: queue depth, outbox backlog, unfinished jobs by state and model, workers alive
  (reads only, a few indexed counts).
* :func:`verify_breaches`: the ledger verify (``services.verify``), the same checks as
  ``bananapics ledger verify``; the count feeds ``bananapics_ledger_verify_breaches``.
* :class:`LeaderLock`: exactly one worker process runs the periodic verify and sets the gauges. On
  Postgres it is the one holding a session-level advisory lock on a connection of its own (not a
  pooled one: a pooled connection goes back to the pool with the lock). The lock goes with the
  connection, so a worker that dies or loses the database hands the role to another within one
  round. On SQLite (one machine, the embedded setup) every caller leads: there is one worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import peewee as pw

from bananapics.db import connection, is_postgres
from bananapics.db import proxy as db_proxy
from bananapics.models import AiModel, Job, WorkerHeartbeat, utcnow
from bananapics.models.jobs import ACTIVE
from bananapics.services import outbox, system, verify

log = logging.getLogger(__name__)

LEADER_LOCK_ID = 0x42414E42  # "BANB" (the migration lock is "BANA")


@dataclass(frozen=True)
class Gauges:
    queue_depth: int
    outbox_backlog: int
    workers_alive: int
    jobs_active: dict[tuple[str, str], int] = field(default_factory=dict)  # (state, model) → count


def gauges(now: dt.datetime | None = None) -> Gauges:
    """The database-wide figures the metrics gauges show (one process sets them: the leader)."""
    now = now or utcnow()
    with connection():
        active = {(status, model): int(n) for status, model, n in
                  Job.select(Job.status, Job.model, pw.fn.COUNT(Job.id))
                  .where(Job.status.in_(ACTIVE)).group_by(Job.status, Job.model).tuples()}
        alive = (WorkerHeartbeat.select()
                 .where(WorkerHeartbeat.last_seen >= now - dt.timedelta(seconds=system.STALE_AFTER_S)).count())
        backlog = outbox.pending_count()
    queued = sum(n for (status, _), n in active.items() if status == "queued")
    return Gauges(queue_depth=queued, outbox_backlog=backlog, workers_alive=alive, jobs_active=active)


def verify_breaches() -> list[verify.Breach]:
    """The ledger verify on the live database (reads only)."""
    return verify.verify()


class LeaderLock:
    """The observability leader's lock. ``connect()`` returns a new, unpooled connection to the
    same database (a peewee Database, opened by this class); ``held()`` says whether this process
    leads now, trying to take the lock when it does not."""

    def __init__(self, connect: Callable[[], pw.Database] | None, *, postgres: bool | None = None) -> None:
        self.connect = connect
        self.postgres = is_postgres() if postgres is None else postgres
        self.conn: pw.Database | None = None
        self.leading = False

    def held(self) -> bool:
        if not self.postgres:
            self.leading = True  # SQLite: a single worker
            return True
        try:
            if self.conn is None:
                self.conn = self.connect()
                self.conn.connect(reuse_if_open=True)
            if self.leading:
                self.conn.execute_sql("SELECT 1")  # still connected, so still holding it
            else:
                self.leading = bool(self.conn.execute_sql("SELECT pg_try_advisory_lock(%s)",
                                                          (LEADER_LOCK_ID,)).fetchone()[0])
        except pw.DatabaseError as exc:  # the database went away: so did the lock
            if self.leading:
                log.warning("observability: lost the leader lock (%s)", str(exc).strip().splitlines()[:1])
            self.release()
        return self.leading

    def release(self) -> None:
        conn, leading, self.conn, self.leading = self.conn, self.leading, None, False
        if conn is not None and leading and self.postgres:
            try:  # at once: a closed session's locks go only when the server notices the close
                conn.execute_sql("SELECT pg_advisory_unlock(%s)", (LEADER_LOCK_ID,))
            except pw.DatabaseError:
                pass
        if conn is not None:
            try:  # closing the session drops the advisory lock (a pooled close would keep it open)
                getattr(conn, "manual_close", conn.close)()
            except pw.DatabaseError:
                pass


def providers_in_use() -> list[str]:
    """The provider adapters the enabled catalog models call (what must have a key that works)."""
    with connection():
        return sorted({p for (p,) in AiModel.select(AiModel.provider).where(AiModel.enabled).distinct().tuples()})


def database_clock_skew_s() -> float | None:
    """This machine's clock minus the database server's, in seconds (None on SQLite: the database
    has no clock of its own). Leases, deadlines and invoice expiry compare both."""
    if not is_postgres():
        return None
    with connection():
        db_now = float(db_proxy.execute_sql("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()[0])
    return time.time() - db_now
