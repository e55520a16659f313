"""The pipeline end to end: Huey tasks (immediate, and a real consumer process on Redis killed with
SIGKILL), a Redis restart, the operator CLI (`generate`, `jobs`, `providers check`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from bananapics.config import SecretStr
from typer.testing import CliRunner

from bananapics.cli.main import app
from bananapics.config import Config, load_config
from bananapics.models import AdminAction, AiModel, Job, Outbox, Transfer, utcnow
from bananapics.models import db as proxy
from bananapics.services import jobs, ledger
from bananapics.wiring import build_runtime, build_tasks, timing
from tests.helpers import assert_ledger_clean, new_user

runner = CliRunner()


def use_local_provider() -> None:
    AiModel.update(provider="local").execute()


def make_config(database_url: str, tmp_path: Path, **env: str) -> Config:
    base = {
        "BANANAPICS_DATABASE__URL": database_url,
        "BANANAPICS_STORAGE__PATH": str(tmp_path / "media"),
        "BANANAPICS_QUEUE__SQLITE_PATH": str(tmp_path / "queue.db"),
    }
    base.update(env)
    return load_config(None, environ=base)


def test_immediate_queue_runs_after_commit(database, database_url, tmp_path):
    use_local_provider()
    cfg = make_config(database_url, tmp_path, BANANAPICS_QUEUE__BACKEND="immediate")
    tasks = build_tasks(cfg)
    user = new_user(100)
    from bananapics.db import atomic

    with atomic():
        job = jobs.submit(user.id, "nano-banana", "a banana on the moon", {"count": 2}, chat_id=1)
        tasks.enqueue_after_commit(job.id)
        assert jobs.get(job.id).status == "queued"  # nothing runs before the commit
    job = jobs.get(job.id)
    assert (job.status, job.delivered) == ("succeeded", 2)
    storage = build_runtime(cfg).storage
    image = Image.open(__import__("io").BytesIO(storage.get(job.results[0])))
    assert image.size[0] > 0
    assert ledger.balance(user.id) == (70, 0)
    assert_ledger_clean()


def test_rollback_enqueues_nothing(database, database_url, tmp_path):
    use_local_provider()
    tasks = build_tasks(make_config(database_url, tmp_path, BANANAPICS_QUEUE__BACKEND="immediate"))
    user = new_user(100)
    from bananapics.db import atomic

    with pytest.raises(RuntimeError):
        with atomic():
            job = jobs.submit(user.id, "nano-banana", "never", chat_id=1)
            tasks.enqueue_after_commit(job.id)
            raise RuntimeError("the handler failed after submit")
    assert Job.select().count() == 0 and ledger.balance(user.id) == (100, 0)


# ---------------------------------------------------------------- real consumer processes

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _worker_env(database_url: str, redis_url: str, tmp_path: Path, latency: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANANAPICS_")}
    env.update({
        "BANANAPICS_DATABASE__URL": database_url,
        "BANANAPICS_QUEUE__BACKEND": "redis",
        "BANANAPICS_QUEUE__REDIS_URL": redis_url,
        "BANANAPICS_QUEUE__SIGNING_KEY": "test-signing-key",
        "BANANAPICS_STORAGE__PATH": str(tmp_path / "media"),
        "BANANAPICS_PROVIDERS__LOCAL_LATENCY_S": str(latency),
        "BANANAPICS_JOBS__LEASE_S": "8",
        "BANANAPICS_PROVIDERS__TIMEOUT_S": "6",
    })
    return env


def _start_worker(env: dict[str, str], tmp_path: Path, name: str) -> subprocess.Popen:
    exe = shutil.which("bananapics", path=str(Path(sys.executable).parent))
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([exe, "worker", "-w", "4", "--no-periodic"], env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _status(job_id: str) -> str:
    with proxy.connection_context():
        return Job.get_by_id(job_id).status


def _finish_all(job_ids: list[str], tasks, lease_s: float, timeout: float = 60) -> None:
    """Wait for every job to end, running the sweeper every few seconds as production does.

    Huey delivers at most once: a message pushed while a killed consumer's BRPOP is still
    registered in Redis goes to the dead socket and is lost. The sweeper re-enqueues such jobs.
    """
    from bananapics.services.jobs import Timing

    sweeper = Timing(lease_s=lease_s, requeue_after_s=2)
    deadline = time.monotonic() + timeout
    next_sweep = time.monotonic() + 3
    while time.monotonic() < deadline:
        if all(_status(j) == "succeeded" for j in job_ids):
            return
        if time.monotonic() >= next_sweep:
            for job_id in jobs.sweep(sweeper).requeued:
                tasks.enqueue(job_id)
            next_sweep = time.monotonic() + 3
        time.sleep(0.2)
    raise AssertionError("timed out waiting for every job to finish")


def _exactly_once(job_ids: list[str]) -> None:
    for job_id in job_ids:
        assert _status(job_id) == "succeeded"
        assert Transfer.select().where((Transfer.ref == job_id) & (Transfer.kind == "settle")).count() == 1
        assert Outbox.select().where(Outbox.job == job_id).count() == 1
    assert_ledger_clean()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_consumer_killed_mid_job_then_restarted_finishes_each_job_once(database, database_url, redis_url, tmp_path):
    use_local_provider()
    env = _worker_env(database_url, redis_url, tmp_path, latency=2.0)
    cfg = make_config(database_url, tmp_path, BANANAPICS_QUEUE__BACKEND="redis", BANANAPICS_QUEUE__REDIS_URL=redis_url,
                      BANANAPICS_QUEUE__SIGNING_KEY="test-signing-key", BANANAPICS_JOBS__LEASE_S="8",
                      BANANAPICS_PROVIDERS__TIMEOUT_S="6")
    tasks = build_tasks(cfg)
    tasks.huey.flush()
    users = [new_user(100) for _ in range(3)]
    ids = [jobs.submit(u.id, "nano-banana", f"job {n}", chat_id=n).id for n, u in enumerate(users)]
    for job_id in ids:
        tasks.enqueue(job_id)
    worker = _start_worker(env, tmp_path, "worker1")
    try:
        _wait(lambda: any(_status(j) == "running" for j in ids), 30, "a running job")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    running = [j for j in ids if _status(j) == "running"]
    assert running, "the kill should catch a job mid-call"
    assert_ledger_clean()  # mid-job state is consistent: holds open, nothing settled twice
    # the sweeper (past the lease) re-enqueues what the dead worker held
    report = jobs.sweep(timing(cfg), now=utcnow() + dt.timedelta(seconds=9))
    assert set(running) <= set(report.requeued)
    for job_id in report.requeued:
        tasks.enqueue(job_id)
    worker = _start_worker(env, tmp_path, "worker2")
    try:
        _finish_all(ids, tasks, lease_s=8)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    _exactly_once(ids)
    assert [ledger.balance(u.id) for u in users] == [(85, 0)] * 3
    tasks.huey.flush()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_redis_restart_loses_no_paid_job(database, database_url, tmp_path, redis_url):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server binary not installed")
    use_local_provider()
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        cfg = make_config(database_url, tmp_path, BANANAPICS_QUEUE__BACKEND="redis", BANANAPICS_QUEUE__REDIS_URL=url,
                          BANANAPICS_QUEUE__SIGNING_KEY="test-signing-key")
        tasks = build_tasks(cfg)
        _wait(lambda: __import__("bananapics.tasks.queue", fromlist=["ping"]).ping(tasks.huey) is None, 10, "redis")
        user = new_user(100)
        ids = [jobs.submit(user.id, "seedream-4", f"queued {n}", chat_id=1).id for n in range(2)]
        for job_id in ids:
            tasks.enqueue(job_id)
        assert tasks.huey.pending_count() == 2
        server.kill()  # Redis dies with the messages (no persistence) …
        server.wait(10)
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: __import__("bananapics.tasks.queue", fromlist=["ping"]).ping(tasks.huey) is None, 10, "redis")
        assert tasks.huey.pending_count() == 0  # … and comes back empty
        assert all(_status(j) == "queued" for j in ids)  # the database still knows
        report = jobs.sweep(timing(cfg), now=utcnow() + dt.timedelta(seconds=cfg.jobs.requeue_after_s + 1))
        assert sorted(report.requeued) == sorted(ids)
        for job_id in report.requeued:
            tasks.enqueue(job_id)
        worker = _start_worker(_worker_env(database_url, url, tmp_path, latency=0.0), tmp_path, "worker-redis")
        _finish_all(ids, tasks, lease_s=cfg.jobs.lease_s)
        _exactly_once(ids)
        assert ledger.balance(user.id) == (80, 0)
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        server.kill()
        server.wait(10)


# ---------------------------------------------------------------- operator CLI

@pytest.fixture
def cli(database, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_STORAGE__PATH": str(tmp_path / "media"),
           "BANANAPICS_QUEUE__BACKEND": "immediate"}

    def run(*args: str):
        result = runner.invoke(app, list(args), env=env)
        proxy.initialize(database)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def _photo(path: Path) -> Path:
    Image.new("RGB", (64, 48), (10, 120, 200)).save(path, "JPEG")
    return path


def test_cli_generate_writes_images_and_charges_the_user(cli, tmp_path):
    use_local_provider()
    user = new_user(100)
    code, out, err = cli("generate", "--model", "nano-banana-pro", "--prompt", "a red fox", "--ref",
                         str(_photo(tmp_path / "ref.jpg")), "--set", "resolution=2K", "--count", "2",
                         "--user", str(user.tg_id), "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["status"], data["delivered"], data["cost"]) == ("succeeded", 2, 2 * (30 + 1))
    assert len(data["references"]) == 1 and len(data["files"]) == 2
    assert all(Path(f).stat().st_size > 0 for f in data["files"])
    assert ledger.balance(user.id) == (100 - 62, 0)
    code, out, _ = cli("jobs", "list", "--user", str(user.tg_id), "--json")
    assert [j["id"] for j in json.loads(out)] == [data["id"]]
    code, out, _ = cli("jobs", "show", data["id"], "--json")
    assert json.loads(out)["settings"]["resolution"] == "2K" and json.loads(out)["hidden_at"] is None
    assert_ledger_clean()


def test_force_provider_routes_every_model_offline(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("BANANAPICS_PROVIDERS__FORCE_PROVIDER", "local")
    code, out, err = cli("generate", "-m", "gpt-image", "-p", "offline", "--set", "quality=low", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "succeeded"


def test_cli_generate_free_house_job_and_failures(cli, tmp_path):
    use_local_provider()
    code, out, err = cli("generate", "-m", "seedream-4", "-p", "house test", "--out", str(tmp_path / "o"))
    assert code == 0, err and "succeeded" in out
    code, out, _ = cli("generate", "-m", "seedream-4", "-p", "blocked #fail:moderation", "--out", str(tmp_path / "o"))
    assert code == 1 and "failed" in out and "moderation" in out
    (tmp_path / "notes.txt").write_text("not an image")
    code, _, err = cli("generate", "-m", "seedream-4", "-p", "x", "--ref", str(tmp_path / "notes.txt"))
    assert code == 1 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    code, _, err = cli("generate", "-m", "seedream-4", "-p", "x", "--set", "resolution")
    assert code == 1 and "key=value" in err
    code, _, err = cli("generate", "-m", "nope", "-p", "x")
    assert code == 3 and "unknown model" in err
    assert Transfer.select().where(Transfer.kind == "hold").count() == 0  # house jobs are free
    assert_ledger_clean()


def test_cli_jobs_retry_and_sweep(cli, tmp_path):
    use_local_provider()
    user = new_user(100)
    job = jobs.submit(user.id, "nano-banana", "stuck", chat_id=4)
    code, out, err = cli("jobs", "retry", job.id, "--as", "alice")
    assert code == 0, err
    assert jobs.get(job.id).status == "succeeded"  # immediate queue ran it
    retried = AdminAction.get(AdminAction.action == "jobs.retry")  # the retry is admin-logged
    assert (retried.actor, retried.target, retried.outcome) == ("cli:alice", f"job:{job.id}", "ok")
    assert cli("jobs", "retry", job.id)[0] == 1
    code, out, _ = cli("jobs", "sweep", "--json")
    assert code == 0 and json.loads(out)["requeued"] == []
    assert cli("jobs", "show", "missing")[0] == 3


def test_cli_providers_check_never_prints_keys(cli, monkeypatch):
    code, out, _ = cli("providers", "check", "--json")
    rows = {r["provider"]: r for r in json.loads(out)}
    assert code == 0 and rows["local"]["ok"] and rows["gemini"]["key_present"] is False
    monkeypatch.setenv("BANANAPICS_PROVIDERS__OPENAI_API_KEY", "sk-test-do-not-print")
    monkeypatch.setenv("BANANAPICS_PROVIDERS__OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    code, out, _ = cli("providers", "check")
    assert code == 1 and "sk-test-do-not-print" not in out and "FAILED" in out


def test_config_secret_is_typed():
    cfg = Config()
    cfg.queue.signing_key = SecretStr("x")
    assert "x" not in repr(cfg.queue)


def test_cli_purge_media_applies_retention(cli, tmp_path):
    from bananapics.storage import LocalStorage

    storage = LocalStorage(tmp_path / "media")
    storage.put("jobs/old/0.png", b"x", "image/png")
    storage.put("refs/1/new.jpg", b"y", "image/jpeg")
    old = time.time() - 40 * 86400
    os.utime(tmp_path / "media" / "jobs" / "old" / "0.png", (old, old))
    code, out, _ = cli("jobs", "purge-media", "--json")
    assert code == 0 and json.loads(out) == {"deleted": 1, "days": 30, "prompts_cleared": 0}
    assert not storage.exists("jobs/old/0.png") and storage.exists("refs/1/new.jpg")
