"""The `bananapics` CLI through its real entry point, on both engines, including bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bananapics.cli.main import app
from bananapics.models import AdminAction, Transfer
from bananapics.models import db as proxy
from tests.helpers import assert_ledger_clean

runner = CliRunner()


@pytest.fixture
def cli(database, database_url, tmp_path, monkeypatch):
    """Run `bananapics ARGS` against the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_OPERATOR__NAME": "tester"}

    def run(*args: str):
        result = runner.invoke(app, list(args), env=env)
        proxy.initialize(database)  # the CLI bound its own connection; hand the proxy back
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def js(output: str):
    return json.loads(output)


def test_db_upgrade_status_and_status(cli):
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and "up to date" in out
    code, out, _ = cli("db", "status", "--json")
    assert code == 0 and [m["name"] for m in js(out)][:2] == ["0001_core_schema", "0002_seed_catalog"]
    code, out, _ = cli("status", "--json")
    data = js(out)
    assert code == 0 and data["database"]["migrations_pending"] == []
    assert data["counts"]["models_enabled"] == 4 and data["telegram"]["bot_token"] is False
    code, out, _ = cli("status")
    assert code == 0 and "migrations applied" in out


def test_users_lifecycle(cli):
    code, out, err = cli("users", "add", "123456", "--username", "fox", "--role", "support", "--json")
    assert code == 0, err
    user = js(out)
    assert {k: user[k] for k in ("tg_id", "username", "role", "banned", "available", "held")} == {
        "tg_id": 123456, "username": "fox", "role": "support", "banned": False, "available": 0, "held": 0}
    code, out, _ = cli("users", "search", "@fo", "--json")
    assert [u["tg_id"] for u in js(out)] == [123456]
    code, out, _ = cli("users", "ban", "123456", "--reason", "spam", "--as", "bob")
    assert code == 0
    code, out, _ = cli("users", "show", "123456", "--json")
    assert js(out)["banned"] is True and js(out)["ban_reason"] == "spam"
    assert cli("users", "unban", "123456", "-r", "appeal")[0] == 0
    assert cli("users", "role", "123456", "admin")[0] == 0
    assert js(cli("users", "show", "123456", "--json")[1])["role"] == "admin"
    actors = [(a.actor, a.action) for a in AdminAction.select().order_by(AdminAction.id)]
    assert actors == [("cli:tester", "users.add"), ("cli:bob", "users.ban"), ("cli:tester", "users.unban"),
                      ("cli:tester", "users.role")]
    code, out, _ = cli("audit", "--target", "user:123456", "--json")
    assert [r["action"] for r in js(out)["items"]] == ["users.role", "users.unban", "users.ban", "users.add"]


def test_audit_shows_refused_calls(cli):
    from bananapics.errors import PermissionDenied
    from bananapics.services import users
    from bananapics.services.audit import Actor

    cli("users", "add", "777")
    with pytest.raises(PermissionDenied):
        users.ban(777, reason="spam", actor=Actor("tg:5", "user"))
    code, out, _ = cli("audit", "--json")
    assert code == 0 and [(r["action"], r["outcome"]) for r in js(out)["items"]] == [("users.ban", "denied"), ("users.add", "ok")]
    code, out, _ = cli("audit")
    assert code == 0 and "users.ban (denied)" in out and "tg:5" in out


def test_ledger_adjust_show_verify(cli):
    cli("users", "add", "555")
    code, out, err = cli("ledger", "adjust", "555", "100", "--reason", "welcome", "--key", "k1", "--json")
    assert code == 0, err
    assert js(out) == {"key": "k1", "amount": 100, "replayed": False, "available": 100, "held": 0}
    code, out, _ = cli("ledger", "adjust", "555", "100", "--reason", "welcome", "--key", "k1", "--json")
    assert js(out)["replayed"] is True and js(out)["available"] == 100
    code, out, _ = cli("ledger", "adjust", "555", "-30", "--reason", "correction")
    assert code == 0 and "available now 70" in out
    code, out, _ = cli("ledger", "show", "555", "--json")
    rows = js(out)
    assert [(r["kind"], r["amount"], r["debit"], r["credit"]) for r in rows] == [
        ("adjust", 30, "user:555:available", "sys:adjustment"),
        ("adjust", 100, "sys:adjustment", "user:555:available"),
    ]
    assert all({"kind", "ref", "amount", "debit", "credit", "created_at"} <= set(r) for r in rows)
    code, out, _ = cli("ledger", "verify", "--json")
    assert code == 0 and js(out) == {"ok": True, "breaches": []}
    assert cli("ledger", "verify")[0] == 0


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("users", "show", "999"), 3, "user 999 not found"),
        (("users", "show", "abc"), 2, "Invalid value for 'tg_id'"),
        (("ledger", "adjust", "555", "ten", "--reason", "x"), 1, "whole number"),
        (("ledger", "adjust", "555", "10"), 2, "Missing option '--reason'"),
        (("ledger", "adjust", "555", "10", "--reason", " "), 1, "needs a reason"),
        (("ledger", "adjust", "555", "-500", "--reason", "x"), 1, "insufficient tokens: 20 available, 500 needed"),
        (("ledger", "adjust", "999", "5", "--reason", "x"), 3, "user 999 not found"),
        (("users", "role", "555", "king"), 1, "unknown role"),
        (("users", "ban", "555"), 2, "Missing option '--reason'"),
        (("settings", "set", "referral.percent", "500"), 1, "between 0 and 100"),
        (("nonsense",), 2, "No such command"),
        (("usrs", "show", "555"), 2, "No such command 'usrs'. Did you mean 'users'?"),
        (("users", "shw", "555"), 2, "No such command 'shw'. Did you mean 'show'?"),  # a lazily built group
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(cli, args, code, needle):
    cli("users", "add", "555")
    cli("ledger", "adjust", "555", "20", "--reason", "seed")
    before = (Transfer.select().count(), AdminAction.select().count())
    got, out, err = cli(*args)
    assert got == code
    assert needle in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert (Transfer.select().count(), AdminAction.select().count()) == before
    assert_ledger_clean()


def test_settings_and_config_show(cli, monkeypatch):
    code, out, _ = cli("settings", "set", "referral.mode", "first", "--reason", "launch", "--json")
    assert code == 0 and js(out) == {"referral.mode": "first"}
    assert js(cli("settings", "show", "--json")[1])["referral.mode"] == "first"
    monkeypatch.setenv("BANANAPICS_TELEGRAM__BOT_TOKEN", "123456789:AAtopsecretvalue0123456789abcdefghij")
    code, out, _ = cli("config", "show", "--json")
    assert code == 0 and "topsecret" not in out
    assert js(out)["telegram"]["bot_token"] == "********"
    assert "topsecret" not in cli("config", "show")[1]


def test_malformed_config_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text("[database]\npool_max = -1\n")
    result = runner.invoke(app, ["--config", "bad.toml", "status"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: bad.toml: [database] pool_max: must be at least 1"


def test_unreachable_database_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": "postgresql://postgres:pw@127.0.0.1:1/none"}
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 5
    assert result.stderr.startswith("error: database unreachable") and "pw@" not in result.stderr


def test_console_script_entry_point(tmp_path):
    """The installed `bananapics` script runs (real process, real argv)."""
    exe = __import__("shutil").which("bananapics", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe, "the bananapics console script is not installed next to this interpreter"
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and "users" in proc.stdout and "ledger" in proc.stdout
    proc = subprocess.run([exe, "users", "show", "1"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/x.db"})
    assert proc.returncode == 5
    assert proc.stderr.strip().startswith("error: the database schema is not up to date (")
    assert proc.stderr.strip().endswith("run `bananapics db upgrade`")
