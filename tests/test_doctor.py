"""`bananapics doctor` through the CLI entry point: a ready installation passes with one line per
check and exit 0; each kind of trouble an operator meets gives its own FAIL line saying what to do,
exit 1, and never a secret."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from bananapics.cli.main import app
from bananapics.models import db as proxy

runner = CliRunner()
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX"
API_HASH = "0123456789abcdef0123456789abcdef"
SIGNING = "doctor-signing-key-verysecret"


class FakeBotApi(BaseHTTPRequestHandler):
    """Answers getMe for TOKEN (as @BananaPicsBot), 401 for any other token."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        good = self.path == f"/bot{TOKEN}/getMe"
        body = {"ok": True, "result": {"id": 123456789, "is_bot": True, "username": "BananaPicsBot"}} if good \
            else {"ok": False, "error_code": 401, "description": "Unauthorized"}
        data = json.dumps(body).encode()
        self.send_response(200 if good else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def bot_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def doctor(database, database_url, tmp_path, monkeypatch, bot_api):
    """Run `bananapics doctor` with a ready configuration plus ``overrides``; (code, lines)."""
    monkeypatch.chdir(tmp_path)
    base = {
        "BANANAPICS_DATABASE__URL": database_url,
        "BANANAPICS_QUEUE__BACKEND": "sqlite",
        "BANANAPICS_QUEUE__SQLITE_PATH": str(tmp_path / "queue.db"),
        "BANANAPICS_QUEUE__SIGNING_KEY": SIGNING,
        "BANANAPICS_STORAGE__PATH": str(tmp_path / "media"),
        "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "local",
        "BANANAPICS_TELEGRAM__BOT_TOKEN": TOKEN,
        "BANANAPICS_TELEGRAM__API_ID": "12345",
        "BANANAPICS_TELEGRAM__API_HASH": API_HASH,
        "BANANAPICS_TELEGRAM__BOT_API_URL": bot_api,
        "BANANAPICS_TELEGRAM__SESSION_PATH": str(tmp_path / "bot.session"),
    }

    def run(*args: str, **overrides: str | None):
        env = {**base, **overrides}
        env = {k: v for k, v in env.items() if v is not None}
        for key in [k for k in os.environ if k.startswith("BANANAPICS_") and k not in env]:
            monkeypatch.delenv(key)
        result = runner.invoke(app, ["doctor", *args], env=env)
        proxy.initialize(database)  # the CLI bound its own connection; hand the proxy back
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        output = result.stdout + result.stderr
        for secret in (TOKEN, API_HASH, SIGNING, "AAHdqTcv"):
            assert secret not in output
        return result.exit_code, result.stdout.splitlines()

    return run


def by_name(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        status, _, rest = line.partition(" ")
        name, _, message = rest.strip().partition(": ")
        found[name] = f"{status} {message}"
    return found


def test_a_ready_installation_passes_one_line_per_check(doctor, engine):
    code, lines = doctor()
    checks = by_name(lines)
    assert code == 0, lines
    assert list(checks) == ["database", "queue", "signing key", "storage", "providers", "telegram", "session file",
                            "clock"]
    assert all(v.startswith(("ok", "skip")) for v in checks.values()), lines
    assert "migrations applied" in checks["database"] and engine in checks["database"]
    assert "@BananaPicsBot" in checks["telegram"]
    assert "write, read, delete" in checks["storage"]
    if engine == "postgres":
        assert checks["clock"].startswith("ok") and "against the database server" in checks["clock"]
    code, out = doctor("--json")
    assert code == 0 and {c["check"] for c in json.loads("\n".join(out))} >= {"database", "clock"}


def test_a_session_file_others_can_read_fails(doctor, tmp_path):
    session = tmp_path / "bot.session"
    session.write_bytes(b"")
    session.chmod(0o644)
    code, lines = doctor()
    assert code == 1
    assert by_name(lines)["session file"] == f"FAIL {session} has mode 644: it logs in as the bot; run chmod 600 {session}"
    session.chmod(0o600)
    assert doctor()[0] == 0


def test_a_rejected_token_and_missing_credentials_fail(doctor):
    code, lines = doctor(BANANAPICS_TELEGRAM__BOT_TOKEN="123456789:" + "B" * 35)
    assert code == 1 and by_name(lines)["telegram"] == "FAIL Telegram rejected the bot token (401 Unauthorized)"
    code, lines = doctor(BANANAPICS_TELEGRAM__API_HASH=None)
    assert code == 1 and by_name(lines)["telegram"].startswith("FAIL [telegram] api_hash not set")


def test_a_provider_the_models_use_without_a_key_fails(doctor):
    code, lines = doctor(BANANAPICS_PROVIDERS__FORCE_PROVIDER="")
    checks = by_name(lines)
    assert code == 1
    assert checks["provider gemini"].startswith("FAIL key missing (set BANANAPICS_PROVIDERS__GEMINI_API_KEY)")
    assert checks["provider fal"].startswith("skip")  # no enabled model uses it


def test_queue_problems_fail(doctor, tmp_path):
    code, lines = doctor(BANANAPICS_QUEUE__BACKEND="redis", BANANAPICS_QUEUE__SIGNING_KEY=None)
    assert code == 1 and by_name(lines)["queue"].startswith("FAIL [queue] signing_key: required with the redis backend")
    code, lines = doctor(BANANAPICS_QUEUE__BACKEND="redis", BANANAPICS_QUEUE__REDIS_URL="redis://127.0.0.1:1/0")
    assert code == 1 and by_name(lines)["queue"].startswith("FAIL redis redis://127.0.0.1:1/0 does not answer")


def test_storage_that_cannot_be_written_fails(doctor, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the media directory should be")
    code, lines = doctor(BANANAPICS_STORAGE__PATH=str(blocker))
    assert code == 1 and by_name(lines)["storage"].startswith(f"FAIL {blocker}:")


def test_pending_migrations_and_an_unreachable_database_fail(doctor, tmp_path):
    code, lines = doctor(BANANAPICS_DATABASE__URL=f"sqlite:///{tmp_path / 'empty.db'}")
    checks = by_name(lines)
    assert code == 1 and "migration(s) pending" in checks["database"] and "bananapics db upgrade" in checks["database"]
    code, lines = doctor(BANANAPICS_DATABASE__URL="postgresql://app:hunter2@127.0.0.1:1/none")
    checks = by_name(lines)
    assert code == 1 and checks["database"].startswith("FAIL unreachable:")
    assert checks["clock"].startswith("skip") and "hunter2" not in "\n".join(lines)


def test_a_clock_off_the_database_fails(doctor, engine, monkeypatch):
    if engine != "postgres":
        pytest.skip("SQLite has no clock of its own")
    import time

    from bananapics.services import observability

    monkeypatch.setattr(observability, "time", type("Clock", (), {"time": staticmethod(lambda: time.time() + 42)}))
    code, lines = doctor()
    assert code == 1 and by_name(lines)["clock"].startswith("FAIL this machine is +42")
