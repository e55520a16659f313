"""Migrations: idempotent upgrade, status, seed data as a migration, Postgres search indexes."""

from __future__ import annotations

from bananapics import db as dbm
from bananapics.config import DatabaseConfig
from bananapics.models import Package, Setting, SystemAccount


def test_upgrade_is_idempotent_and_status_lists_applied(database):
    assert dbm.upgrade(database) == []
    states = dbm.migration_status(database)
    assert [s.name for s in states][:2] == ["0001_core_schema", "0002_seed_catalog"]
    assert all(s.applied for s in states)


def test_fresh_sqlite_upgrade_and_pending_status(tmp_path):
    database = dbm.make_database(DatabaseConfig(url=f"sqlite:///{tmp_path}/fresh.db"))
    assert not any(s.applied for s in dbm.migration_status(database))
    applied = dbm.upgrade(database)
    assert applied[:2] == ["0001_core_schema", "0002_seed_catalog"]
    assert dbm.upgrade(database) == []
    database.close()


def test_pending_migrations_agrees_with_the_runner(tmp_path):
    """The check every command makes (files vs the history table, no runner import) says what the
    runner's status says: all pending on a fresh file, none after upgrade, the one whose row is gone."""
    database = dbm.make_database(DatabaseConfig(url=f"sqlite:///{tmp_path}/fresh.db"))

    def runner_pending():
        return [s.name for s in dbm.migration_status(database) if not s.applied]

    assert dbm.pending_migrations(database) == runner_pending() and len(runner_pending()) >= 16
    dbm.upgrade(database)
    assert dbm.pending_migrations(database) == runner_pending() == []
    with database.connection_context():
        database.execute_sql("DELETE FROM schema_migrations WHERE name = '0016_model_breakers'")
    assert dbm.pending_migrations(database) == runner_pending() == ["0016_model_breakers"]
    database.close()


def test_seed_data(database):
    assert {a.name for a in SystemAccount.select()} == {"stars_in", "bonus", "referral", "adjustment", "revenue", "debt"}
    packages = [(p.stars, p.tokens, p.bonus_pct) for p in Package.select().order_by(Package.sort)]
    assert packages[0] == (50, 100, 0) and len(packages) == 5
    assert {s.key for s in Setting.select()} >= {"referral.percent", "referral.mode"}


def test_postgres_has_search_indexes(database, engine):
    if engine != "postgres":
        indexes = {row[1] for row in database.execute_sql("PRAGMA index_list(users)")}
        assert {"users_username_lower", "users_name_lower", "users_tg_id"} <= indexes
        return
    names = {row[0] for row in database.execute_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")}
    assert {"users_tg_id", "users_username_prefix", "users_name_prefix", "users_search_trgm"} <= names
    plan = "\n".join(r[0] for r in database.execute_sql(
        "EXPLAIN SELECT * FROM users WHERE lower(coalesce(username, '') || ' ' || first_name || ' ' || last_name)"
        " LIKE '%%karim%%'"
    ))
    assert "users_search_trgm" in plan or "Seq Scan" in plan  # tiny tables may still scan; the index exists


def test_redact_url():
    assert dbm.redact_url("postgresql://u:secret@h:5432/db") == "postgresql://u:********@h:5432/db"
    assert dbm.redact_url("sqlite:///data/x.db") == "sqlite:///data/x.db"


def test_migration_numbers_are_unique():
    """Two branches that each add "the next" migration must not both land as the same number: the
    runner would order them by name, and `db status` would show two 0018s."""
    numbers = [p.name.split("_")[0] for p in dbm.MIGRATIONS_DIR.glob("[0-9]*.py")]
    assert len(numbers) == len(set(numbers)), sorted(numbers)
