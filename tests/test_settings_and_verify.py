"""Settings (typed, validated, cached across processes) and `verify` catching real breaches."""

from __future__ import annotations

import pytest

from bananapics import db as dbm
from bananapics.config import DatabaseConfig
from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound, PermissionDenied
from bananapics.models import AdminAction, Hold, Setting, User, db
from bananapics.services import ledger, settings
from bananapics.services.audit import Actor
from bananapics.services.verify import verify
from tests.helpers import new_user

ADMIN = Actor.operator("ops")


def test_settings_types_validation_and_log(database):
    assert settings.get("referral.percent") == 10
    assert settings.set_value("referral.percent", "25", actor=ADMIN, reason="promo") == 25
    assert settings.get("referral.percent") == 25
    for bad in ("abc", "101", -1, True, 2.5):
        with pytest.raises(InvalidInput):
            settings.set_value("referral.percent", bad, actor=ADMIN)
    with pytest.raises(NotFound):
        settings.get("no.such.key")
    with pytest.raises(PermissionDenied):
        settings.set_value("referral.mode", "first", actor=Actor("tg:1", "support"))
    log = AdminAction.get(AdminAction.action == "settings.set")
    assert (log.before, log.after, log.reason) == ('{"referral.percent": 10}', '{"referral.percent": 25}', "promo")


def test_a_change_from_another_process_is_seen(database, database_url):
    assert settings.get("referral.mode") == "every"
    other = dbm.make_database(DatabaseConfig(url=database_url, pool_max=2))
    with other.connection_context():
        other.execute_sql("UPDATE settings SET value = '\"first\"', version = version + 1 WHERE key = 'referral.mode'")
    if hasattr(other, "close_all"):
        other.close_all()
    assert settings.get("referral.mode") == "first"


def test_another_process_is_seen_within_the_recheck_interval_and_our_own_change_at_once(
        database, database_url, monkeypatch):
    """The cache asks the table's version stamp at most every RECHECK_S (the bot reads settings on
    every update): another process's change shows once the interval has passed; this process's own
    ``set_value`` shows at once."""
    clock = [1000.0]
    monkeypatch.setattr(settings, "RECHECK_S", 1.0)
    monkeypatch.setattr(settings.time, "monotonic", lambda: clock[0])
    settings.clear_cache()
    assert settings.get("referral.mode") == "every"
    other = dbm.make_database(DatabaseConfig(url=database_url, pool_max=2))
    with other.connection_context():
        other.execute_sql("UPDATE settings SET value = '\"first\"', version = version + 1 WHERE key = 'referral.mode'")
    if hasattr(other, "close_all"):
        other.close_all()
    clock[0] += 0.5
    assert settings.get("referral.mode") == "every"  # still trusted
    clock[0] += 0.6
    assert settings.get("referral.mode") == "first"  # the stamp moved: reloaded
    settings.set_value("referral.percent", 33, actor=ADMIN)
    assert settings.get("referral.percent") == 33  # no wait for our own change


def test_verify_reports_each_kind_of_breach(database):
    user = new_user(50)
    ledger.hold(user.id, 20, "job-v")
    assert verify() == []
    with atomic():  # a read-modify-write bug: cache no longer matches the ledger
        User.update(available=User.available + 5).where(User.id == user.id).execute()
    assert {b.check for b in verify()} >= {"cache_matches_ledger", "sum_is_zero"}
    with atomic():
        User.update(available=User.available - 5).where(User.id == user.id).execute()
        Hold.update(amount=25).where(Hold.ref == "job-v").execute()
    checks = {b.check for b in verify()}
    assert {"held_equals_open_holds", "one_hold_transfer_per_hold"} <= checks
    with atomic():
        Hold.update(amount=20).where(Hold.ref == "job-v").execute()
        db.execute_sql("INSERT INTO payments (charge_id, provider_charge_id, user_id, stars, tokens, bonus_tokens,"
                       " status, created_at) VALUES ('ghost', '', %s, 5, 10, 0, 'paid', '2026-01-01')"
                       .replace("%s", str(user.id)))
    assert [b.check for b in verify()] == ["charge_credited_once"]


def test_setting_the_value_it_holds_changes_and_logs_nothing(database):
    """As every other admin change: nothing to change, nothing to log (and no version bump that
    would make every process reload its settings)."""
    settings.set_value("referral.mode", "first", actor=ADMIN)
    with connection():
        version = Setting.get(Setting.key == "referral.mode").version
        rows = AdminAction.select().count()
    assert settings.set_value("referral.mode", "first", actor=ADMIN) == "first"
    with connection():
        assert Setting.get(Setting.key == "referral.mode").version == version
        assert AdminAction.select().count() == rows
