"""Fixtures of the process-level chaos tests (``procs.py``): Postgres only (the workers are other
processes: an in-memory or file SQLite is not what production shares), a moto S3 server, the
machine's Redis (``BANANAPICS_TEST_REDIS``) flushed per test, and the workers stopped whatever
happens."""

from __future__ import annotations

import pytest

from bananapics import db as dbm
from bananapics.config import DatabaseConfig
from bananapics.models import db as proxy
from bananapics.services import settings
from tests.chaos.procs import Stack, TcpProxy, Worker
from tests.fakes.s3 import ACCESS_KEY, SECRET_KEY, MotoS3


@pytest.fixture(scope="module")
def s3_server():
    with MotoS3() as server:
        yield server


@pytest.fixture
def pg_url(postgres_server) -> str:
    """The session's Postgres test database, emptied (seed rows restored)."""
    database = dbm.make_database(DatabaseConfig(url=postgres_server.url, pool_max=2))
    postgres_server.reset(database)
    database.close_all()
    return postgres_server.url


@pytest.fixture
def queue_url(redis_url) -> str:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    yield redis_url
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def bind(url: str):
    """This process's models on ``url`` (the bot and the test's own reads)."""
    database = dbm.connect(DatabaseConfig(url=url, pool_max=16, pool_timeout_s=5.0))
    settings.clear_cache()
    return database


@pytest.fixture
def make_stack(tmp_path, pg_url, s3_server):
    """``make_stack(redis_url, via_proxy=False)``: the Stack, this process bound to its database;
    with ``via_proxy`` every process (this one too) reaches Postgres through a TcpProxy."""
    made: dict = {}

    def make(redis_url: str, *, via_proxy: bool = False, latency_s: float = 0.05) -> Stack:
        url = pg_url
        if via_proxy:
            host_port, name = pg_url.split("@", 1)[1].split("/", 1)
            host, port = host_port.split(":")
            made["proxy"] = TcpProxy(host, int(port)).start()
            url = pg_url.replace(host_port, f"127.0.0.1:{made['proxy'].port}")
        stack = Stack(tmp_path, url, redis_url, s3_server.endpoint, s3_server.new_bucket(),
                      (ACCESS_KEY, SECRET_KEY), latency_s=latency_s)
        stack.proxy = made.get("proxy")
        made["db"] = bind(url)
        return stack

    yield make
    if "db" in made:
        settings.clear_cache()
        dbm.close(made["db"])
        proxy.initialize(None)
    if "proxy" in made:
        made["proxy"].close()


@pytest.fixture
def workers():
    """``workers(stack, n)`` starts n worker processes; all are stopped (SIGKILL) at the end."""
    started: list[Worker] = []

    def start(stack: Stack, n: int = 2, threads: int = 4) -> list[Worker]:
        new = [Worker(stack, f"worker{len(started) + i + 1}", threads).start() for i in range(n)]
        started.extend(new)
        for worker in new:
            worker.wait_ready()
        return new

    yield start
    for worker in started:
        worker.kill()
