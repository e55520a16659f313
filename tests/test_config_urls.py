"""Database and Redis URLs are secrets when they carry a password; Telegram and provider URLs are https.

Every URL shape: a password in the user part, in the query (psycopg2 takes ``?password=``), with
an empty user (``redis://:pw@host``), holding ``@``; from the environment and from ``_file``."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from bananapics.cli.main import app
from bananapics.config import load_config
from bananapics.db import redact_url
from bananapics.errors import ConfigError
from bananapics.logs import SecretFilter, setup_logging

runner = CliRunner()

SHAPES = [  # (url, the password it carries, the redacted form)
    ("postgresql://bp:s3cret@db:5432/bp", "s3cret", "postgresql://bp:********@db:5432/bp"),
    ("postgresql://bp@db/bp?password=s3cret", "s3cret", "postgresql://bp@db/bp?password=********"),
    ("postgresql://bp@db/bp?sslmode=require&password=s3cret", "s3cret",
     "postgresql://bp@db/bp?sslmode=require&password=********"),
    ("redis://:s3cret@cache:6379/0", "s3cret", "redis://:********@cache:6379/0"),
    ("postgresql://bp:s3c@ret@db/bp", "s3c@ret", "postgresql://bp:********@db/bp"),
    ("rediss://user:p%40ss@cache/1", "p%40ss", "rediss://user:********@cache/1"),
]


@pytest.mark.parametrize("url,password,redacted", SHAPES)
def test_redact_url_masks_every_password_shape(url, password, redacted):
    assert redact_url(url) == redacted
    assert password not in redact_url(url)


def test_urls_without_a_password_are_unchanged():
    for url in ("sqlite:///data/x.db", "postgresql://bp@db:5432/bp?sslmode=require", "redis://127.0.0.1:6379/0"):
        assert redact_url(url) == url


@pytest.mark.parametrize("url,password,redacted", SHAPES)
def test_the_log_filter_masks_every_password_shape(url, password, redacted):
    # a query password is masked up to the next space or "&" (it may itself hold ":" or ")")
    assert SecretFilter([]).redact(f"could not connect to {url} - timeout") == f"could not connect to {redacted} - timeout"


def _env(key: str, url: str) -> dict[str, str]:
    return {f"BANANAPICS_{key}": url}


@pytest.mark.parametrize("url,password,redacted", SHAPES)
def test_config_show_status_and_logs_mask_the_database_url(url, password, redacted, tmp_path, monkeypatch, capsys):
    env = _env("DATABASE__URL", url) if url.startswith("postgresql") else _env("QUEUE__REDIS_URL", url)
    cfg = load_config(None, environ=env)
    shown = json.dumps(cfg.show())
    assert password not in shown and redacted in shown
    setup_logging(cfg)
    logging.getLogger("bananapics.test").warning("connection lost; password was %s", password)
    assert password not in capsys.readouterr().err  # a configured URL password is a secret value
    logging.getLogger().handlers.clear()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["config", "show", "--json"], env=env)
    assert result.exit_code == 0 and password not in result.stdout and redacted in result.stdout


def test_url_files_from_toml_and_environment(tmp_path):
    secret = tmp_path / "db-url"
    secret.write_text("postgresql://bp:fromfile@db/bp\n")
    toml = tmp_path / "c.toml"
    toml.write_text(f'[database]\nurl_file = "{secret}"\n[queue]\nredis_url = "redis://127.0.0.1:6379/3"\n')
    assert load_config(toml, environ={}).database.url == "postgresql://bp:fromfile@db/bp"
    redis_file = tmp_path / "redis-url"
    redis_file.write_text("redis://:rpw@cache:6379/0")
    cfg = load_config(None, environ={"BANANAPICS_QUEUE__REDIS_URL_FILE": str(redis_file),
                                     "BANANAPICS_DATABASE__URL": "postgresql://bp:envpw@db/bp"})
    assert cfg.queue.redis_url == "redis://:rpw@cache:6379/0"
    assert {"rpw", "envpw"} <= set(cfg.secret_values())
    assert "rpw" not in json.dumps(cfg.show())


@pytest.mark.parametrize("section,key,url", [
    ("database", "url", "postgresql://bp:inline@db/bp"),
    ("database", "url", "postgresql://bp@db/bp?password=inline"),
    ("queue", "redis_url", "redis://:inline@cache/0"),
])
def test_a_url_with_a_password_in_a_config_file_is_refused(tmp_path, section, key, url):
    toml = tmp_path / "c.toml"
    toml.write_text(f'[{section}]\n{key} = "{url}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(toml, environ={})
    assert "inline" not in info.value.msg and f"{key}_file" in info.value.msg


@pytest.mark.parametrize("key", ["TELEGRAM__BOT_API_URL", "PROVIDERS__GEMINI_BASE_URL", "PROVIDERS__OPENAI_BASE_URL",
                                 "PROVIDERS__ARK_BASE_URL", "PROVIDERS__FAL_BASE_URL"])
def test_plain_http_is_refused_except_to_this_machine(key):
    with pytest.raises(ConfigError, match="https://"):
        load_config(None, environ={f"BANANAPICS_{key}": "http://api.example.com/v1"})
    for url in ("http://127.0.0.1:8081", "http://localhost:9/v1", "http://[::1]:80", "https://api.example.com"):
        load_config(None, environ={f"BANANAPICS_{key}": url})


def test_status_says_when_the_redis_signing_key_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/db.sqlite", "BANANAPICS_QUEUE__BACKEND": "redis",
           "BANANAPICS_QUEUE__REDIS_URL": "redis://:s3cret@127.0.0.1:1/0"}
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "signing key MISSING" in result.stdout and "s3cret" not in result.stdout
    assert "redis://:********@127.0.0.1:1/0" in result.stdout
    data = json.loads(runner.invoke(app, ["status", "--json"], env=env).stdout)
    assert data["queue"]["signing_key"] is False
