"""Config: defaults, the documented config.toml, env overrides, secrets, clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bananapics.config import MASK, SECTIONS, Config, fields_of, is_secret, load_config
from bananapics.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_config_toml_documents_every_default():
    documented = tomllib.loads((ROOT / "config.toml").read_text())
    defaults = Config().show()
    for section in SECTIONS:
        fields = fields_of(section)
        for key in fields:
            if is_secret(section, key):
                assert key not in documented.get(section, {}), f"secret {section}.{key} must not have a value in config.toml"
                assert key in (ROOT / "config.toml").read_text(), f"secret {section}.{key} is not mentioned"
                continue
            assert key in documented[section], f"[{section}] {key} missing from config.toml"
            assert documented[section][key] == defaults[section][key], f"[{section}] {key} differs from the code default"
    assert load_config(ROOT / "config.toml", environ={}).show() == defaults


def test_env_overrides_any_key_with_types(tmp_path):
    cfg = load_config(None, environ={
        "BANANAPICS_DATABASE__POOL_MAX": "7",
        "BANANAPICS_ADMIN__BOOTSTRAP_IDS": "11, 22",
        "BANANAPICS_QUEUE__BACKEND": "redis",
        "BANANAPICS_PROVIDERS__TIMEOUT_S": "12.5",
    })
    assert cfg.database.pool_max == 7
    assert cfg.admin.bootstrap_ids == [11, 22]
    assert cfg.queue.backend == "redis"
    assert cfg.providers.timeout_s == 12.5
    assert load_config(None, environ={"BANANAPICS_ADMIN__BOOTSTRAP_IDS": "[5]"}).admin.bootstrap_ids == [5]


def test_env_beats_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[operator]\nname = "from-file"\n')
    assert load_config(path, environ={}).operator.name == "from-file"
    assert load_config(path, environ={"BANANAPICS_OPERATOR__NAME": "from-env"}).operator.name == "from-env"


def test_secret_in_file_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[telegram]\nbot_token = "123:abc"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(path, environ={})
    assert str(path) in exc.value.msg and "bot_token" in exc.value.msg
    assert "123:abc" not in exc.value.msg


def test_secrets_from_env_and_files_are_masked(tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text("sk-test-file-secret\n")
    path = tmp_path / "c.toml"
    path.write_text(f'[providers]\nopenai_api_key_file = "{secret_file}"\n')
    cfg = load_config(path, environ={
        "BANANAPICS_TELEGRAM__BOT_TOKEN": "123456:env-secret-token",
        "BANANAPICS_PROVIDERS__GEMINI_API_KEY_FILE": str(secret_file),
    })
    assert cfg.providers.openai_api_key.get_secret_value() == "sk-test-file-secret"
    assert cfg.providers.gemini_api_key.get_secret_value() == "sk-test-file-secret"
    assert cfg.telegram.bot_token.get_secret_value() == "123456:env-secret-token"
    shown = repr(cfg.show()) + repr(cfg)
    assert "env-secret-token" not in shown and "sk-test-file-secret" not in shown
    assert cfg.show()["telegram"]["bot_token"] == MASK
    assert cfg.show()["telegram"]["api_hash"] is None
    assert set(cfg.secret_values()) == {"sk-test-file-secret", "123456:env-secret-token"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[database\n", "not valid TOML"),
        ("[nope]\nx = 1\n", "[nope]: unknown section"),
        ("[database]\npool_max = 'lots'\n", "[database] pool_max"),
        ("[database]\npool_max = 0\n", "[database] pool_max: must be at least 1"),
        ("[queue]\nbackend = 'kafka'\n", "[queue] backend"),
        ("[database]\nurll = 'x'\n", "[database] urll: unknown key"),
        ("database = 5\n", "must be a table"),
    ],
)
def test_malformed_file_names_file_key_and_reason(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path, environ={})
    assert str(path) in exc.value.msg
    assert needle in exc.value.msg
    assert "\n" not in exc.value.msg


def test_bad_env_value_names_the_variable():
    with pytest.raises(ConfigError) as exc:
        load_config(None, environ={"BANANAPICS_QUEUE__WORKERS": "many"})
    assert "BANANAPICS_QUEUE__WORKERS" in exc.value.msg and "[queue] workers" in exc.value.msg
    with pytest.raises(ConfigError, match="unknown section"):
        load_config(None, environ={"BANANAPICS_NOPE__X": "1"})
    with pytest.raises(ConfigError, match="not a JSON list"):
        load_config(None, environ={"BANANAPICS_ADMIN__BOOTSTRAP_IDS": "[1,"})


def test_missing_file_and_unreadable_secret(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml", environ={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(None, environ={"BANANAPICS_TELEGRAM__API_HASH_FILE": str(tmp_path / "absent")})
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(None, environ={"BANANAPICS_TELEGRAM__API_HASH_FILE": str(empty)})


def test_config_file_from_environment(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[users]\nstart_balance = 40\n')
    assert load_config(None, environ={"BANANAPICS_CONFIG": str(path)}).users.start_balance == 40


def test_job_lease_must_outlive_provider_timeout():
    with pytest.raises(ConfigError, match="lease_s .* must be longer than"):
        load_config(None, environ={"BANANAPICS_JOBS__LEASE_S": "60", "BANANAPICS_PROVIDERS__TIMEOUT_S": "90"})
