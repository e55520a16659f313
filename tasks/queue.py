"""The Huey instance, built from ``[queue]`` config.

* ``sqlite`` (embedded default): ``SqliteHuey`` in its own file, apart from the main database.
* ``redis`` (production): ``RedisExpireHuey`` (results expire, so the result hash cannot grow
  without bound), a connection pool sized to the workers plus slack, and a signing key required.
* ``immediate`` (tests): tasks run inline in the caller, in memory.

Payloads are signed with ``SignedSerializer`` whenever a signing key is set (always for Redis): Huey
pickles task data, so an unsigned message on a shared Redis would be remote code execution. Task
payloads carry only ids; the database, not the queue, is the source of truth.
"""

from __future__ import annotations

import redis
from huey import Huey, MemoryHuey, RedisExpireHuey, SqliteHuey
from huey.serializer import Serializer, SignedSerializer

from bananapics.config import QueueConfig
from bananapics.db import create_private_file
from bananapics.errors import ConfigError

REDIS_POOL_SLACK = 10


def serializer(cfg: QueueConfig) -> Serializer:
    if cfg.signing_key is not None:
        return SignedSerializer(secret=cfg.signing_key.get_secret_value(), salt="bananapics")
    return Serializer()


def make_huey(cfg: QueueConfig, name: str = "bananapics") -> Huey:
    if cfg.backend == "immediate":
        return MemoryHuey(name, immediate=True, results=False, serializer=serializer(cfg))
    if cfg.backend == "sqlite":
        create_private_file(cfg.sqlite_path)  # mode 600, as the database
        return SqliteHuey(name, filename=cfg.sqlite_path, results=False, serializer=serializer(cfg))
    if cfg.signing_key is None:
        raise ConfigError("[queue] signing_key: required with the redis backend "
                          "(set BANANAPICS_QUEUE__SIGNING_KEY or signing_key_file)")
    # Each worker blocks on one connection; the default pool of 100 loses tasks at high -w.
    pool = redis.ConnectionPool.from_url(cfg.redis_url, max_connections=cfg.workers + REDIS_POOL_SLACK)
    return RedisExpireHuey(
        name,
        connection_pool=pool,
        serializer=serializer(cfg),
        expire_time=86400,
    )


def ping(huey: Huey) -> str | None:
    """None when the queue's storage answers, else a one-line reason (for `bananapics status`)."""
    try:
        huey.pending_count()
    except Exception as exc:  # storage errors differ per backend (redis, sqlite3, …)
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None
