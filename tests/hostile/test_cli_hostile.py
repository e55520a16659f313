"""The operator CLI (its real entry point) given hostile input: a plain Telegram user acting
(``--as-user``) on every admin write, negative/zero/huge/not-a-number amounts, unknown ids, and
injection in text arguments.

Every case: a non-zero exit with the documented code, one line on stderr starting "error: " (no
traceback, no secret), and nothing changed (the frame's snapshot; ``verify()`` clean). The run has a
configured bot token and provider key, which must appear in no output.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bananapics.cli.common import FORBIDDEN, NOT_FOUND, REFUSED, USAGE
from bananapics.cli.main import app
from bananapics.models import AdminAction, Template
from bananapics.models import db as proxy
from bananapics.services import settings as settings_service
from bananapics.services import users
from tests.helpers import new_user
from tests.hostile.harness import SECRET_ENV, SECRETS, assert_unchanged, snapshot

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
runner = CliRunner()
PLAIN = 700_900_001  # a plain user who wrote to the bot
TARGET = 700_900_002


@pytest.fixture
def world(database, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    new_user(50, tg_id=PLAIN)
    new_user(50, tg_id=TARGET)
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_OPERATOR__NAME": "tester", **SECRET_ENV}

    def run(*args: str):
        result = runner.invoke(app, list(args), env=env, input="y\n")
        proxy.initialize(database)
        settings_service.clear_cache()
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def refused_cleanly(code: int, out: str, err: str, expected: int) -> None:
    assert code == expected, (code, out, err)
    assert err.startswith("error: ") or code == USAGE, err
    assert "Traceback" not in out + err
    if code != USAGE:
        assert len(err.strip().splitlines()) == 1, err
    for secret in SECRETS:
        assert secret not in out + err


AS_PLAIN = ("--as-user", str(PLAIN))
T = str(TARGET)
ADMIN_WRITES = [
    ("users-ban", ["users", "ban", T, "-r", "x"]),
    ("users-role-admin", ["users", "role", T, "admin", "-r", "x"]),
    ("users-role-self-admin", ["users", "role", str(PLAIN), "admin", "-r", "promote myself"]),
    ("users-forget", ["users", "forget", T, "-r", "x", "--yes"]),
    ("ledger-adjust", ["ledger", "adjust", T, "1000", "-r", "x"]),
    ("ledger-adjust-self", ["ledger", "adjust", str(PLAIN), "1000", "-r", "x"]),
    ("models-disable", ["models", "disable", "gpt-image", "-r", "x", "--yes"]),
    ("models-price", ["models", "price", "gpt-image", "--base", "0", "-r", "x"]),
    ("packages-add", ["packages", "add", "--stars", "1", "--tokens", "100000"]),
    ("templates-rm", ["templates", "rm", "1", "-r", "x", "--yes"]),
    ("referral-set", ["referral", "set", "--percent", "100", "-r", "x"]),
    ("settings-set", ["settings", "set", "limits.user_parallel_jobs", "99", "-r", "x"]),
    ("toggles-maintenance", ["toggles", "maintenance", "on", "-r", "x", "--yes"]),
]


@pytest.mark.parametrize("args", [a for _, a in ADMIN_WRITES], ids=[i for i, _ in ADMIN_WRITES])
def test_a_plain_user_on_an_admin_cli_command(world, args):
    before = snapshot()
    code, out, err = world(*AS_PLAIN, *args)
    refused_cleanly(code, out, err, FORBIDDEN)
    assert f"tg:{PLAIN}" in err
    assert_unchanged(before)
    assert users.get(PLAIN).role == "user"
    assert {a.outcome for a in AdminAction.select()} <= {"denied"}


AMOUNTS = [
    ("adjust-zero", ["ledger", "adjust", T, "0", "-r", "x"], REFUSED),
    ("adjust-below-zero", ["ledger", "adjust", T, "-51", "-r", "x"], REFUSED),
    ("adjust-huge", ["ledger", "adjust", T, "9" * 30, "-r", "x"], REFUSED),
    ("adjust-float", ["ledger", "adjust", T, "1e3", "-r", "x"], REFUSED),
    ("adjust-nan", ["ledger", "adjust", T, "NaN", "-r", "x"], REFUSED),
    # found here: int() took Arabic-Indic and fullwidth digits, so "٥٠" granted 50 tokens
    ("adjust-arabic-digits", ["ledger", "adjust", T, "٥٠", "-r", "x"], REFUSED),
    ("adjust-fullwidth-digits", ["ledger", "adjust", T, "５０", "-r", "x"], REFUSED),
    ("package-arabic-digits", ["packages", "add", "--stars", "٥٠", "--tokens", "100"], REFUSED),
    ("package-zero-stars", ["packages", "add", "--stars", "0", "--tokens", "100"], REFUSED),
    ("package-negative-tokens", ["packages", "add", "--stars", "10", "--tokens", "-100"], REFUSED),
    ("package-huge", ["packages", "add", "--stars", "9" * 25, "--tokens", "100"], REFUSED),
    ("price-negative", ["models", "price", "gpt-image", "--base", "-1", "-r", "x"], REFUSED),
    ("price-huge", ["models", "price", "gpt-image", "--base", "9" * 25, "-r", "x"], REFUSED),
    ("referral-101", ["referral", "set", "--percent", "101", "-r", "x"], REFUSED),
    ("referral-negative", ["referral", "set", "--percent", "-1", "-r", "x"], REFUSED),
    ("setting-negative", ["settings", "set", "-r", "x", "limits.user_parallel_jobs", "--", "-1"], REFUSED),
    ("setting-unknown-key", ["settings", "set", "'; DROP TABLE settings;--", "1", "-r", "x"], NOT_FOUND),
]


@pytest.mark.parametrize("args,expected", [(a, e) for _, a, e in AMOUNTS], ids=[i for i, _, _ in AMOUNTS])
def test_a_bad_amount_on_the_cli(world, args, expected):
    before = snapshot()
    code, out, err = world(*args)
    refused_cleanly(code, out, err, expected)
    assert_unchanged(before)


UNKNOWN = [
    ("user", ["users", "show", "999999999"]),
    ("user-ban", ["users", "ban", "999999999", "-r", "x"]),
    ("ledger", ["ledger", "adjust", "999999999", "5", "-r", "x"]),
    ("payment", ["payments", "show", "' OR 1=1 --"]),
    ("payment-refund", ["payments", "refund", "stx-unknown", "-r", "x"]),
    ("model", ["models", "disable", "no-such-model", "-r", "x", "--yes"]),
    ("template", ["templates", "show", "999999"]),
    ("package", ["packages", "disable", "999999", "-r", "x", "--yes"]),
    ("job", ["jobs", "show", "0123456789abcdef0123456789abcdef"]),
]


@pytest.mark.parametrize("args", [a for _, a in UNKNOWN], ids=[i for i, _ in UNKNOWN])
def test_an_unknown_id_on_the_cli(world, args):
    before = snapshot()
    code, out, err = world(*args)
    refused_cleanly(code, out, err, NOT_FOUND)
    assert_unchanged(before)


def test_injection_in_template_text_is_stored_literally_and_printed_safely(world):
    """Title and prompt from the command line: kept as typed (no SQL, no formatting); printed with the
    terminal's control sequences made visible (an ESC or an RTL override cannot repaint the screen)."""
    title = "Noir'; DROP TABLE templates;-- { $x } %s \x1b[2J\u202e"
    prompt = "**bold** <b>x</b> {0} \u200d👩\u200d👩\u200d👧"
    code, out, err = world("templates", "add", "--category", "portrait", "--title", title, "--prompt", prompt,
                           "--model", "gpt-image")
    assert code == 0, err
    row = Template.select().order_by(Template.id.desc()).first()
    assert row.prompt_en == prompt and "DROP TABLE" in row.title_en
    assert "\x1b[2J" not in out and "\u202e" not in out
    code, out, err = world("templates", "show", str(row.id), "--json")
    assert code == 0 and "\x1b" not in out
