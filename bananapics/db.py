"""Database connection from a URL, transactions, and the migration runner.

* ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``: WAL, foreign keys, a busy timeout,
  ``synchronous=FULL`` by default (money must survive power loss) and ``BEGIN IMMEDIATE`` for every
  top-level transaction, so a read-then-write never hits ``SQLITE_BUSY_SNAPSHOT``.
* ``postgresql://user:pass@host:port/db``: a connection pool with a configured maximum.

:func:`connect` binds :data:`bananapics.models.db` (a proxy) to the new database; the rest of the
code base only sees that proxy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from bananapics.config import DatabaseConfig, redact_url
from bananapics.errors import ConfigError
from bananapics.models import db as proxy
from bananapics.models import migrations as _migrations_pkg

if TYPE_CHECKING:  # imported by the commands that migrate: ~10 ms every other command need not pay
    from playhouse.migrations import Runner

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "schema_migrations"
MIGRATIONS_DIR = Path(_migrations_pkg.__file__).resolve().parent

MIGRATION_LOCK_ID = 0x42414E41  # "BANA": Postgres advisory lock held while migrating


def create_private_file(path: str | os.PathLike[str]) -> None:
    """Create ``path`` (and its directory) readable by this account only (mode 600) unless it exists.
    SQLite then creates its -wal/-shm files with the same mode: users' names, prompts and balances
    are in there."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from None


def make_database(cfg: DatabaseConfig) -> pw.Database:
    """Build (but do not open) the database the URL names."""
    url = cfg.url
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path  # sqlite:///rel → rel, sqlite:////abs → /abs
        if not path or path == ":memory:":
            path = ":memory:"
        else:
            create_private_file(path)
        # Pooled: opening a SQLite connection and applying the pragmas costs ~1 ms, and every
        # service call borrows one; the pool keeps them open (busy_timeout is the pragma: the
        # pool's ``timeout`` is how long to wait for a free connection).
        return PooledSqliteDatabase(
            path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": cfg.busy_timeout_ms,
                "synchronous": cfg.sqlite_synchronous,
            },
            max_connections=cfg.pool_max,
            stale_timeout=cfg.pool_stale_s,
            timeout=cfg.pool_timeout_s,
            check_same_thread=False,  # a pooled connection is used by one thread at a time, not always the same
            lock_type="IMMEDIATE",
            returning_clause=True,
        )
    if scheme in ("postgres", "postgresql"):
        name = parts.path.lstrip("/")
        if not name:
            raise ConfigError(f"[database] url: no database name in {redact_url(url)}")
        kwargs: dict[str, object] = {}
        if parts.hostname:
            kwargs["host"] = parts.hostname
        if parts.port:
            kwargs["port"] = parts.port
        if parts.username:
            kwargs["user"] = unquote(parts.username)
        if parts.password:
            kwargs["password"] = unquote(parts.password)
        for key, values in parse_qs(parts.query).items():
            kwargs[key] = values[-1]
        return PooledPostgresqlDatabase(
            name,
            max_connections=cfg.pool_max,
            stale_timeout=cfg.pool_stale_s,
            timeout=cfg.pool_timeout_s,
            autorollback=False,
            **kwargs,
        )
    raise ConfigError(f"[database] url: unsupported scheme {parts.scheme!r} (use sqlite:/// or postgresql://)")


def close(database: pw.Database) -> None:
    """Close every connection the database holds (pooled ones included), e.g. at exit or test end."""
    if hasattr(database, "close_all"):
        database.close_all()
    else:
        database.close()


def connect(cfg: DatabaseConfig) -> pw.Database:
    """Create the database for ``cfg`` and bind the models' proxy to it."""
    database = make_database(cfg)
    proxy.initialize(database)
    return database


def is_postgres(database: pw.Database | None = None) -> bool:
    database = database or proxy.obj
    return isinstance(database, pw.PostgresqlDatabase)


def check_connection(database: pw.Database) -> None:
    """Open a connection once; a failure becomes a one-line ConfigError."""
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1")
    except pw.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"database unreachable: {first}") from None


def connection() -> contextlib.AbstractContextManager[None]:
    """Borrow a connection for reads; nested uses share it, the outermost returns it to the pool."""
    return proxy.connection_context()


@contextlib.contextmanager
def atomic() -> Iterator[None]:
    """A transaction (a savepoint when nested) on a borrowed connection.

    Every service write goes through this, so a pooled connection is always returned and a
    top-level SQLite transaction is always ``BEGIN IMMEDIATE``. When the outermost one ends
    (committed or rolled back) it runs what :func:`after_transaction` queued.
    """
    outermost = not proxy.in_transaction()
    try:
        with proxy.connection_context(), proxy.atomic():
            yield
    finally:
        if outermost:
            _run_after_transaction()


_after = threading.local()


def after_transaction(fn: Callable[[], None]) -> None:
    """Run ``fn`` once this thread's outermost :func:`atomic` block ends, whether it commits or
    rolls back (the admin log's ``denied`` rows, which must outlive the caller's rollback)."""
    pending = getattr(_after, "pending", None)
    if pending is None:
        pending = _after.pending = []
    pending.append(fn)


def _run_after_transaction() -> None:
    pending = getattr(_after, "pending", None)
    if not pending:
        return
    _after.pending = None
    for fn in pending:
        try:
            fn()
        except Exception:  # pragma: no cover - a database gone between the two writes
            log.exception("a post-transaction write failed")


@contextlib.contextmanager
def atomic_statement() -> Iterator[None]:
    """For a block whose writes are ONE statement: joins a running transaction without a savepoint
    (a statement is atomic by itself; an error aborts the caller's transaction, which then rolls
    back as a whole), else opens a transaction like :func:`atomic`. Saves two round trips."""
    if proxy.in_transaction():
        yield
        return
    with atomic():
        yield


@dataclass(frozen=True)
class MigrationState:
    name: str
    applied: bool
    applied_at: str | None


def _runner(database: pw.Database) -> Runner:
    from playhouse.migrations import Runner

    return Runner(database, str(MIGRATIONS_DIR), table_name=MIGRATIONS_TABLE)


@contextlib.contextmanager
def _migration_lock(database: pw.Database) -> Iterator[None]:
    """Two processes upgrading at once must not both run a migration."""
    if is_postgres(database):
        database.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            yield
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    else:
        yield


def upgrade(database: pw.Database) -> list[str]:
    """Apply every pending migration in order; returns the names applied (empty when up to date)."""
    with database.connection_context(), _migration_lock(database):
        applied = _runner(database).up()
    for name in applied:
        log.info("applied migration %s", name)
    return applied


def pending_migrations(database: pw.Database) -> list[str]:
    """The migration files not applied yet, in order: what every command checks before it runs, so
    it reads the directory and the history table without importing the migration runner."""
    files = sorted((p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py")), key=lambda n: (int(n.split("_")[0]), n))
    with database.connection_context():
        if not database.table_exists(MIGRATIONS_TABLE):
            return files
        applied = {row[0] for row in database.execute_sql(f"SELECT name FROM {MIGRATIONS_TABLE}")}
    return [name for name in files if name not in applied]


def migration_status(database: pw.Database) -> list[MigrationState]:
    with database.connection_context():
        rows = _runner(database).status()
    return [
        MigrationState(m.name, m.applied is not None, m.applied.isoformat(sep=" ") if m.applied else None)
        for m in rows
    ]
