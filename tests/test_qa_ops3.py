"""Operator QA (third pass): what the README promises an operator and a first-time user.

The README's command table and configuration keys against the real Typer app and Config; bad
input through the CLI entry point (one line on stderr, a non-zero exit, never a traceback); the
`bananapics demo` terminal chat; the wheel a production `pip install .` gets.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from bananapics.cli.main import app
from bananapics.config import SECTIONS, Config, fields_of, is_secret, load_config
from bananapics.errors import ConfigError
from bananapics.models import db as proxy
from bananapics.services import settings as settings_service

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
runner = CliRunner()


@pytest.fixture
def cli(database, database_url, tmp_path, monkeypatch):
    """`bananapics ARGS` on the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    base = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_STORAGE__PATH": str(tmp_path / "media")}

    def run(*args: str, **env: str):
        result = runner.invoke(app, list(args), env={**base, **env})
        proxy.initialize(database)  # the CLI bound its own connection; hand the proxy back
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def one_line_error(code: int, out: str, err: str, needle: str, expected_code: int = 1) -> None:
    assert code == expected_code, (code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert needle in err, err
    assert "Traceback" not in out + err


# ---------------------------------------------------------------- README ↔ the Typer app and Config

def _click_tree() -> dict[str, object]:
    """Every leaf command of the app by its full name ("users show"), as click commands."""
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    found: dict[str, object] = {}

    def walk(group, prefix: str) -> None:  # the root loads its commands lazily: ask it for each
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            full = f"{prefix} {name}".strip()
            if hasattr(command, "commands"):
                walk(command, full)
            else:
                found[full] = command
    walk(root, "")
    return found


def _readme_commands() -> dict[str, str]:
    """The README's command table: full command name → the usage text documented for it."""
    groups = {name.split()[0] for name in _click_tree() if " " in name}
    documented: dict[str, str] = {}
    for line in README.splitlines():
        if not line.startswith("| `bananapics "):
            continue
        cell = line.replace("\\|", "/").split("|")[1].strip()
        usages = re.findall(r"`([^`]+)`", cell)
        first = usages[0].split()[1:]  # drop "bananapics"
        group = first[0]
        for n, usage in enumerate(usages):
            words = usage.split() if n else first
            if words[0] == "bananapics":
                words = words[1:]
            if n and words[0] not in groups:
                words = [group] + words  # "/ `unban TG_ID …`" continues the first command's group
            name = []
            for word in words:
                if not re.fullmatch(r"[a-z][a-z-]*", word) or (name and name[0] not in groups):
                    break
                name.append(word)
            documented[" ".join(name)] = usage
    return documented


def test_readme_command_table_matches_the_app():
    documented, real = _readme_commands(), _click_tree()
    assert set(documented) == set(real), (
        f"documented only: {sorted(set(documented) - set(real))}; in the app only: {sorted(set(real) - set(documented))}")
    for name, usage in documented.items():
        options = {opt for param in real[name].params for opt in (*param.opts, *param.secondary_opts)}
        for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage):
            assert option in options, f"README documents `{option}` for `bananapics {name}`; it has {sorted(options)}"
    reads = [name for name in real if name.split()[-1] in ("show", "list", "search", "verify", "check", "status", "audit")]
    assert len(reads) >= 22  # the reads so far (broadcast status the newest); each must take --json
    for name in reads:  # "Every read command takes `--json`"
        assert "--json" in {opt for param in real[name].params for opt in param.opts}, name


def test_readme_configuration_keys_exist():
    fields = {(section, key) for section in SECTIONS for key in fields_of(section)}
    for section, key in re.findall(r"`\[([a-z]+)\] ([a-z0-9_]+)`", README):
        assert (section, key) in fields, f"README names [{section}] {key}, which Config does not have"
    listed = re.search(r"^Sections: (.+?)\.$", README, re.S | re.M).group(1)
    assert set(re.findall(r"`\[([a-z]+)\]`", listed)) == set(SECTIONS)
    secrets_paragraph = re.search(r"^Secrets — (.+?)— come only", README, re.S | re.M).group(1)
    named = set(re.findall(r"`([a-z]+)\.([a-z0-9_*]+)`", secrets_paragraph))
    real = {(s, k) for s, k in fields if is_secret(s, k)}
    covered = {(s, k) for s, k in real for ns, nk in named if ns == s and re.fullmatch(nk.replace("*", ".*"), k)}
    assert covered == real, f"secrets the README does not name: {sorted(real - covered)}"
    for section, pattern in named:
        assert any(s == section and re.fullmatch(pattern.replace("*", ".*"), k) for s, k in real), (section, pattern)
    for key in ("force_provider", "local_latency_s", "local_failure_rate", "bot_api_url", "reconcile_minutes"):
        assert f"`{key}" in README


def test_readme_settings_row_lists_every_run_time_setting():
    row = next(line for line in README.splitlines() if line.startswith("| `bananapics settings show`"))
    assert set(re.findall(r"`([a-z_]+\.[a-z_]+)`", row)) == set(settings_service.REGISTRY)


# ---------------------------------------------------------------- CLI: bad input is one line, exit ≠ 0

def test_generate_json_exits_1_when_the_job_fails(cli):
    """Without --json a failed job exits 1; a script reading --json must get the same signal."""
    cli("users", "add", "4242")
    cli("ledger", "adjust", "4242", "50", "--reason", "seed")
    code, out, err = cli("generate", "--model", "gpt-image", "--prompt", "a dog", "--user", "4242", "--json")
    job = json.loads(out)  # stdout is the JSON and nothing else
    assert job["status"] == "failed" and job["error_kind"] == "auth"
    assert code == 1 and "Traceback" not in err
    code, out, _ = cli("ledger", "show", "4242", "--json")
    assert [t["kind"] for t in json.loads(out)][:2] == ["refund", "hold"]  # the hold went back


def test_jobs_list_refuses_an_unknown_status(cli):
    cli("generate", "--model", "nano-banana", "--prompt", "x", BANANAPICS_PROVIDERS__FORCE_PROVIDER="local")
    one_line_error(*cli("jobs", "list", "--status", "succeded"), "Invalid value for '--status'", expected_code=2)
    code, out, _ = cli("jobs", "list", "--status", "succeeded", "--json")
    assert code == 0 and [j["status"] for j in json.loads(out)] == ["succeeded"]


def test_payments_list_refuses_an_unknown_user(cli):
    """`jobs list --user`, `ledger show` … say "user N not found"; payments list said "no payments"."""
    one_line_error(*cli("payments", "list", "--user", "777"), "user 777 not found", expected_code=3)
    one_line_error(*cli("payments", "list", "--user", "777", "--json"), "user 777 not found", expected_code=3)
    cli("users", "add", "778")
    code, out, _ = cli("payments", "list", "--user", "778", "--json")
    assert code == 0 and json.loads(out) == []


def test_config_file_that_is_not_utf8_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe[database]\n")
    result = runner.invoke(app, ["--config", "bad.toml", "status"])
    one_line_error(result.exit_code, result.stdout, result.stderr, "bad.toml: cannot read: not UTF-8 text")


def test_secret_file_that_is_not_utf8_is_one_line_without_its_bytes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secret = tmp_path / "token"
    secret.write_bytes(b"12345:AA\x8f\x9fsecretbytes")
    result = runner.invoke(app, ["status"], env={"BANANAPICS_TELEGRAM__BOT_TOKEN_FILE": str(secret),
                                                 "BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/x.db"})
    one_line_error(result.exit_code, result.stdout, result.stderr, f"bot_token_file: cannot read {secret}: not UTF-8 text")
    assert "0x8f" not in result.stderr and "secretbytes" not in result.stderr


@pytest.mark.parametrize("url, needle", [
    ("postgresql://app:hunter2@127.0.0.1:notaport/db", "Port could not be cast to integer"),
    ("postgresql://app:hunter2@127.0.0.1:99999/db", "Port out of range"),
    ("postgresql://app:hunter2@[::1/db", "Invalid IPv6 URL"),
    ("sqlite:///", "SQLite needs a file"),
    ("sqlite:///:memory:", "SQLite needs a file"),
])
def test_malformed_database_url_is_one_line(tmp_path, monkeypatch, url, needle):
    monkeypatch.chdir(tmp_path)
    for command in (["status"], ["db", "upgrade"], ["users", "show", "1", "--json"]):
        result = runner.invoke(app, command, env={"BANANAPICS_DATABASE__URL": url})
        one_line_error(result.exit_code, result.stdout, result.stderr, needle)
        assert "environment BANANAPICS_DATABASE__URL: [database] url" in result.stderr
        assert "hunter2" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("url, needle", [
    ("redis://:hunter2@127.0.0.1:notaport/0", "Port could not be cast to integer"),
    ("127.0.0.1:6379", "redis://, rediss:// or unix://"),
])
def test_malformed_redis_url_is_one_line(tmp_path, monkeypatch, url, needle):
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/x.db", "BANANAPICS_QUEUE__BACKEND": "redis",
           "BANANAPICS_QUEUE__REDIS_URL": url}
    result = runner.invoke(app, ["status", "--json"], env=env)
    one_line_error(result.exit_code, result.stdout, result.stderr, needle)
    assert "environment BANANAPICS_QUEUE__REDIS_URL: [queue] redis_url" in result.stderr
    assert "hunter2" not in result.stderr and result.stdout == ""


# ---------------------------------------------------------------- run bot: Telegram out of reach

@pytest.mark.parametrize("failure", [ConnectionError("Connection to Telegram failed 5 time(s)"),
                                     asyncio.IncompleteReadError(b"\x00" * 95, 1347703872)])
def test_run_bot_with_telegram_out_of_reach_is_one_line(database, database_url, tmp_path, monkeypatch, failure):
    """Telethon gives up with ConnectionError (no route) or IncompleteReadError (something that is not
    Telegram answers, e.g. a captive proxy): one line naming the problem, not a traceback or
    click's bare "aborted" (IncompleteReadError is an EOFError, which click turns into Abort)."""
    from bananapics.bot import runner as bot_runner
    from bananapics.simtg import FakeTelegram, SimClient

    class Unreachable(SimClient):
        async def start(self, *args, **kwargs):
            raise failure

    tg = FakeTelegram()
    monkeypatch.setattr(bot_runner, "client_factory",
                        lambda session, api_id, api_hash, **options: Unreachable(session, api_id, api_hash,
                                                                                 telegram=tg, authorized=False))
    monkeypatch.chdir(tmp_path)
    token = "123456789:AAtopsecretTOKENvalue0123456789abcdefgh"
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_TELEGRAM__API_ID": "12345",
           "BANANAPICS_TELEGRAM__API_HASH": "0123456789abcdef0123456789abcdef",
           "BANANAPICS_TELEGRAM__BOT_TOKEN": token, "BANANAPICS_TELEGRAM__BOT_API_URL": "http://127.0.0.1:9"}
    for command in ("bot", "all"):
        result = runner.invoke(app, ["run", command], env=env)
        proxy.initialize(database)
        assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
        assert result.stderr.startswith("error: cannot reach Telegram") and result.stderr.count("\n") == 1
        assert "aborted" not in result.stderr and "topsecret" not in result.stdout + result.stderr


# ---------------------------------------------------------------- bananapics demo

def _demo_config(database_url, tmp_path):
    from bananapics.demo import demo_config

    return demo_config(load_config(None, environ={"BANANAPICS_DATABASE__URL": database_url,
                                                  "BANANAPICS_STORAGE__PATH": str(tmp_path / "media")}))


def _play(cfg, lines, tmp_path, **kwargs) -> str:
    from bananapics.demo import run_demo

    script = iter(lines)

    async def read_line():
        return next(script, None)

    buffer = io.StringIO()
    asyncio.run(run_demo(cfg, read_line, Console(file=buffer, width=300), tmp_path / "out", **kwargs))
    return buffer.getvalue()


def test_demo_does_not_reprint_a_message_that_only_lost_its_buttons(database, database_url, tmp_path):
    """A new panel strips the buttons off the previous one; the chat showed that old message again,
    so every step appeared twice ("Send a description…" above the photos step, /start's welcome…)."""
    text = _play(_demo_config(database_url, tmp_path),
                 ["/start", "#1", "#1", "a yellow banana", "@" + str(_jpeg(tmp_path)), "quit"], tmp_path)
    assert text.count("👋 Welcome to BananaPics") == 1  # the demo's own /start; the second one shows the menu
    assert text.count("🍌 BananaPics — balance: 100 tokens") == 2
    assert text.count("✍️ Send a description of the image.") == 1
    assert text.count("🖼 Send up to 14 photos") == 2  # the photos step, then its "Photos added: 1" panel
    assert "Photos added: 1 of 14." in text and "✅ Done (1)" in text


def _jpeg(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "ref.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path)
    return path


def test_demo_refuses_an_unknown_language_and_an_unwritable_out_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/demo.db"}
    result = runner.invoke(app, ["demo", "--lang", "xx"], input="quit\n", env=env)
    one_line_error(result.exit_code, result.stdout, result.stderr, "Invalid value for '--lang'", expected_code=2)
    (tmp_path / "a-file").write_text("")
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "a-file" / "images")], input="quit\n", env=env)
    one_line_error(result.exit_code, result.stdout, result.stderr, "cannot write images to")


def test_demo_ends_on_ctrl_c_without_waiting_for_enter(tmp_path):
    """Ctrl-C while the demo waits at `you>` ended only after one more Enter: the prompt's thread
    (asyncio.to_thread) kept asyncio.run's executor shutdown waiting for input()."""
    exe = Path(sys.executable).parent / "bananapics"
    proc = subprocess.Popen([str(exe), "demo"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path, env={**os.environ, "BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/d.db"})
    seen = bytearray()
    prompt = threading.Event()

    def read() -> None:
        while chunk := proc.stdout.read1(4096):
            seen.extend(chunk)
            if b"you> " in seen:
                prompt.set()
    threading.Thread(target=read, daemon=True).start()
    try:
        assert prompt.wait(120), seen.decode(errors="replace")
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(60)  # generous: only a process stuck in input() never gets here
        except subprocess.TimeoutExpired:
            pytest.fail("the demo is still waiting for input after Ctrl-C")
    finally:
        proc.kill()
        proc.wait()
    err = proc.stderr.read().decode()
    assert code == 130 and "🍌 BananaPics" in seen.decode()
    assert "Traceback" not in err and "Fatal Python error" not in err  # a daemon thread in input() aborted the exit


def test_demo_reads_piped_lines(tmp_path):
    """Several lines arriving in one read (a pipe, a paste) are played one by one, then end of input ends it."""
    exe = Path(sys.executable).parent / "bananapics"
    proc = subprocess.run([str(exe), "demo"], input="#1\n#1\na yellow banana\n", capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={**os.environ, "BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/d.db"})
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.count("you> ") == 4 and "Send up to 14 photos" in proc.stdout


# ---------------------------------------------------------------- packaging

def test_wheel_carries_every_package(tmp_path):
    """`pip install .` (what a production image runs) must get every package the code imports:
    bananapics.providers was missing from pyproject's list, so a non-editable install could not
    generate anything."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(ROOT)], check=True, timeout=300, capture_output=True)
    names = set(zipfile.ZipFile(next(dist.glob("bananapics-*.whl"))).namelist())
    for folder, package in (("bananapics", "bananapics"), ("models", "bananapics/models"), ("cli", "bananapics/cli"),
                            ("tasks", "bananapics/tasks"), ("tui", "bananapics/tui")):
        for init in (ROOT / folder).rglob("__init__.py"):
            wanted = f"{package}/{init.relative_to(ROOT / folder).as_posix()}"
            assert wanted in names, f"{wanted} missing from the wheel"
    assert "bananapics/providers/local.py" in names
