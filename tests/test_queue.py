"""The Huey queue built from config: SQLite and real Redis round-trips, signed payloads."""

from __future__ import annotations

import pytest
from huey.api import Huey
from bananapics.config import SecretStr

from bananapics.config import QueueConfig
from bananapics.errors import ConfigError
from bananapics.tasks.queue import make_huey, ping


def _roundtrip(huey: Huey) -> list[int]:
    seen: list[int] = []

    @huey.task()
    def remember(job_id: int) -> None:
        seen.append(job_id)

    huey.flush()
    remember(41)
    remember(42)
    assert huey.pending_count() == 2
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    return seen


def test_sqlite_queue_roundtrip(tmp_path):
    huey = make_huey(QueueConfig(backend="sqlite", sqlite_path=str(tmp_path / "q.db")))
    assert ping(huey) is None
    assert _roundtrip(huey) == [41, 42]


def test_redis_queue_roundtrip_with_signed_payloads(redis_url):
    cfg = QueueConfig(backend="redis", redis_url=redis_url, signing_key=SecretStr("k1"), workers=4)
    huey = make_huey(cfg, name="bananapics-test")
    assert ping(huey) is None
    assert huey.storage.pool.max_connections == 14
    assert _roundtrip(huey) == [41, 42]
    # a message signed with another key is refused, not unpickled
    forged = make_huey(QueueConfig(backend="redis", redis_url=redis_url, signing_key=SecretStr("other")),
                       name="bananapics-test")
    forged.flush()

    @forged.task()
    def evil(x: int) -> None:
        raise AssertionError("must never run")

    evil(1)
    with pytest.raises(Exception, match="(?i)signature|mismatch|invalid"):
        huey.dequeue()
    huey.flush()


def test_redis_needs_a_signing_key(redis_url):
    with pytest.raises(ConfigError, match="signing_key"):
        make_huey(QueueConfig(backend="redis", redis_url=redis_url))


def test_unreachable_redis_is_reported():
    huey = make_huey(QueueConfig(backend="redis", redis_url="redis://127.0.0.1:1/0", signing_key=SecretStr("k")))
    assert ping(huey)


def test_immediate_runs_inline():
    huey = make_huey(QueueConfig(backend="immediate"))
    seen = []

    @huey.task()
    def now(x: int) -> None:
        seen.append(x)

    now(7)
    assert seen == [7]
