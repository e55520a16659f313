"""Shared fixtures: every service test runs on SQLite and on the real Postgres.

* SQLite: each test gets a copy of a migrated template file (fast, isolated).
* Postgres: one fresh database per test session (``BANANAPICS_TEST_PG`` names the server,
  default ``postgresql://postgres@127.0.0.1:5432/postgres``), migrated once; each test truncates
  the tables and restores the seed rows the migrations wrote.
* With ``CI=true`` an unreachable Postgres or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import peewee as pw
import pytest

from bananapics import db as dbm
from bananapics.config import DatabaseConfig
from bananapics.models import db as proxy
from bananapics.services import settings

PG_ADMIN_URL = os.environ.get("BANANAPICS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BANANAPICS_TEST_REDIS", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Tests write settings from other connections and processes and look at once: no recheck interval
# here (tests/test_settings_and_verify.py checks the interval itself).
settings.RECHECK_S = 0.0


def _unavailable(what: str, why: object) -> None:
    message = f"{what} is not reachable: {why}"
    if IN_CI:
        pytest.fail(message + " (CI=true: services must run, not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = dbm.make_database(DatabaseConfig(url=f"sqlite:///{path}"))
    dbm.upgrade(database)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


class PostgresServer:
    """A throwaway database on the machine's Postgres, migrated once, reset per test."""

    def __init__(self) -> None:
        self.name = f"bananapics_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"
        self.admin = dbm.make_database(DatabaseConfig(url=PG_ADMIN_URL, pool_max=2))
        self.admin.execute_sql(f'CREATE DATABASE "{self.name}"')
        self.admin.close()
        database = dbm.make_database(DatabaseConfig(url=self.url, pool_max=4))
        dbm.upgrade(database)
        with database.connection_context():
            self.tables = [t for t in database.get_tables() if t != "schema_migrations"]
            self.seed = {t: database.execute_sql(f'SELECT * FROM "{t}"').fetchall() for t in self.tables}
            self.columns = {
                t: [c.name for c in database.get_columns(t)] for t in self.tables
            }
            # Seeded tables with a serial id: after TRUNCATE … RESTART IDENTITY the seed rows come back
            # with their ids, so the sequence must move past them or the next insert collides.
            self.serials = [
                (t, c) for t, c in database.execute_sql(
                    "SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND column_default LIKE %s", ("nextval(%",))
                if self.seed.get(t)
            ]
        database.close_all()

    def reset(self, database: pw.Database) -> None:
        with database.connection_context(), database.atomic():
            database.execute_sql(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables) + " RESTART IDENTITY CASCADE"
            )
            for table, rows in self.seed.items():
                if rows:
                    cols = ", ".join(f'"{c}"' for c in self.columns[table])
                    marks = ", ".join(["%s"] * len(self.columns[table]))
                    cursor = database.cursor()
                    cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
            for table, column in self.serials:
                database.execute_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'),"
                    f' (SELECT MAX("{column}") FROM "{table}"))')

    def drop(self) -> None:
        self.admin.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name,),
        )
        self.admin.execute_sql(f'DROP DATABASE IF EXISTS "{self.name}"')
        self.admin.close()


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = PostgresServer()
    except pw.OperationalError as exc:
        _unavailable("Postgres", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
    yield server
    server.drop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, seeded, empty-of-users database URL on each engine."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "bananapics.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    database = dbm.make_database(DatabaseConfig(url=server.url, pool_max=2))
    server.reset(database)
    database.close_all()
    return server.url


@pytest.fixture
def database(database_url: str):
    """The models' proxy bound to a fresh database on each engine."""
    database = dbm.connect(DatabaseConfig(url=database_url, pool_max=16))
    settings.clear_cache()
    yield database
    settings.clear_cache()
    dbm.close(database)
    proxy.initialize(None)


@pytest.fixture
def engine(database: pw.Database) -> str:
    return "postgres" if isinstance(database, pw.PostgresqlDatabase) else "sqlite"


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    finally:
        client.close()
    return REDIS_URL
