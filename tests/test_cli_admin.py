"""The operator CLI's admin groups (issue 12) through the real entry point: --json shapes, bad input,
confirmations, the forbidden path (--as-user), exit codes, help examples and the README table."""

from __future__ import annotations

import subprocess
import sys

import json

import pytest
import typer
from typer.testing import CliRunner

from bananapics.cli.common import EXIT_CODES
from bananapics.cli.main import COMMANDS, app
from bananapics.models import AdminAction, AiModel, Package, Template, TemplateCategory
from bananapics.models import db as proxy
from bananapics.services import settings as settings_service
from tests.test_qa_ops3 import README, _click_tree, _readme_commands

runner = CliRunner()


@pytest.fixture
def cli(database, database_url, tmp_path, monkeypatch):
    """Run `bananapics ARGS` on the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    env = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_OPERATOR__NAME": "tester"}

    def run(*args: str, input: str | None = None):
        result = runner.invoke(app, list(args), env=env, input=input)
        proxy.initialize(database)
        settings_service.clear_cache()
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def js(text: str):
    return json.loads(text)


def log_rows() -> list[tuple[str, str, str, str]]:
    return [(a.actor, a.action, a.target, a.outcome) for a in AdminAction.select().order_by(AdminAction.id)]


def one_line(err: str) -> bool:
    return err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---------------------------------------------------------------- conventions

def test_every_command_has_an_example_and_a_readme_row():
    tree, documented = _click_tree(), _readme_commands()
    assert {"models price", "templates import", "toggles maintenance", "users list", "audit"} <= set(tree)
    for name, command in tree.items():
        assert "Example: bananapics " + name.split()[0] in (command.help or ""), f"`{name}` --help has no Example:"
        assert name in documented, f"`bananapics {name}` is not in the README command table"
    for code in EXIT_CODES:
        assert f"| {code} | " in README


def test_help_lists_commands_without_importing_them():
    # In a process of its own: dropping command modules from this process's sys.modules would leave
    # later tests patching module objects the lazy registry no longer uses.
    script = (
        "import sys\n"
        "from bananapics.cli.main import app, COMMANDS\n"
        "def loaded(): return sorted(m for m in sys.modules if m.startswith('bananapics.cli.') and m.endswith('_cmd'))\n"
        "try:\n    app(['--help'], prog_name='bananapics')\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print('AFTER-HELP', loaded())\n"
        "try:\n    app(['models', '--help'], prog_name='bananapics')\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print('AFTER-MODELS', loaded())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert all(name in out for name in COMMANDS) and "--install-completion" in out
    assert "AFTER-HELP []" in out
    assert "price" in out and "'bananapics.cli.models_cmd'" in out.split("AFTER-MODELS", 1)[1]


def test_exit_codes_usage_not_found_forbidden_unavailable(cli, tmp_path):
    cli("users", "add", "555", "--role", "support")
    cli("users", "add", "556")
    got = {args: cli(*args) for args in [("models", "enable"), ("models", "enable", "nope"),
                                         ("--as-user", "556", "models", "list"),
                                         ("--as-user", "555", "models", "enable", "gpt-image"),
                                         ("--as-user", "999", "models", "list")]}
    assert [code for code, _, _ in got.values()] == [2, 3, 4, 4, 3]
    assert all(one_line(err) for _, _, err in got.values())
    assert "catalog.edit is not allowed for the support role (tg:555)" in got[("--as-user", "555", "models", "enable",
                                                                              "gpt-image")][2]
    assert ("tg:555", "catalog.edit", "model:gpt-image", "denied") in log_rows()
    assert ("tg:556", "read", "catalog", "denied") in log_rows()
    # support may read: the same command as an admin-less role that has `read`
    code, out, _ = cli("--as-user", "555", "packages", "list", "--json")
    assert code == 0 and len(js(out)) == Package.select().count()
    result = runner.invoke(app, ["models", "list"], env={"BANANAPICS_DATABASE__URL": f"sqlite:///{tmp_path}/new.db"})
    assert result.exit_code == 5 and "run `bananapics db upgrade`" in result.stderr
    assert cli("--as-user", "555", "--as", "x", "users", "ban", "556", "-r", "x")[0] == 2


# ---------------------------------------------------------------- models

def test_models_list_price_limits_default(cli):
    code, out, _ = cli("models", "list", "--json")
    rows = js(out)
    assert code == 0 and {"id", "name", "enabled", "is_default", "base_price", "pricing", "limits"} == set(rows[0])
    code, out, err = cli("models", "price", "nano-banana", "--base", "12", "--extra", "resolution=4K:22",
                         "--extra", "per_reference:2", "--reason", "new costs", "--json")
    assert code == 0, err
    data = js(out)
    assert data["base_price"] == 12 and data["pricing"]["resolution"]["4K"] == 22 and data["pricing"]["per_reference"] == 2
    model = AiModel.get_by_id("nano-banana")
    assert model.base_price == 12
    row = AdminAction.select().order_by(AdminAction.id.desc()).first()
    assert (row.actor, row.action, row.reason) == ("cli:tester", "catalog.edit", "new costs")
    for bad, needle in [(("--extra", "resolution=8K:5"), "has no resolution '8K'"), (("--base", "-1"), "between 0"),
                        (("--extra", "oops"), "SETTING=VALUE:TOKENS"), (("--base", "ten"), "whole number")]:
        before = log_rows()
        code, _, err = cli("models", "price", "nano-banana", *bad)
        assert code == 1 and one_line(err) and needle in err, err
        assert log_rows() == before
    assert cli("models", "price", "nano-banana")[0] == 2
    code, out, _ = cli("models", "limits", "nano-banana", "--max-refs", "3", "--json")
    assert code == 0 and js(out)["limits"]["max_refs"] == 3
    code, out, _ = cli("models", "limits", "nano-banana", "--json")
    assert js(out)["limits"]["max_refs"] == 3
    code, out, _ = cli("models", "limits", "nano-banana", "--concurrency", "2", "--json")
    assert code == 0 and js(out)["concurrency"] == 2 and js(out)["limits"]["max_refs"] == 3
    code, out, _ = cli("models", "limits", "nano-banana", "--concurrency", "0", "--json")
    assert code == 0 and js(out)["concurrency"] is None  # back to the shared limit
    assert cli("models", "limits", "nano-banana", "--concurrency", "1001")[0] == 1  # refused by the service
    code, out, _ = cli("models", "default", "seedream-4", "--json")
    assert code == 0 and js(out)["is_default"] is True
    assert [m.id for m in AiModel.select().where(AiModel.is_default == True)] == ["seedream-4"]  # noqa: E712


def test_models_disable_confirms(cli):
    code, _, err = cli("models", "disable", "gpt-image", input="n\n")
    assert code == 1 and "aborted" in err and AiModel.get_by_id("gpt-image").enabled
    code, out, _ = cli("models", "disable", "gpt-image", input="y\n")
    assert code == 0 and "OFF" in out and not AiModel.get_by_id("gpt-image").enabled
    code, out, _ = cli("models", "disable", "seedream-4", "--refund-queued", "--yes", "--json")
    assert code == 0 and js(out)["enabled"] is False and js(out)["refunded_jobs"] == []
    code, out, _ = cli("models", "enable", "gpt-image", "--json")
    assert code == 0 and js(out)["enabled"] is True
    assert [r[1] for r in log_rows()] == ["catalog.disable", "catalog.disable", "catalog.enable"]


# ---------------------------------------------------------------- packages

def test_packages_add_edit_enable_disable_order(cli):
    code, out, err = cli("packages", "add", "--stars", "700", "--tokens", "1500", "--bonus", "10", "--json")
    assert code == 0, err
    new = js(out)
    assert {k: new[k] for k in ("stars", "tokens", "bonus_pct", "bonus_tokens", "active")} == {
        "stars": 700, "tokens": 1500, "bonus_pct": 10, "bonus_tokens": 150, "active": True}
    pid = str(new["id"])
    assert js(cli("packages", "edit", pid, "--stars", "650", "--json")[1])["stars"] == 650
    assert cli("packages", "edit", pid)[0] == 1  # nothing to change
    assert cli("packages", "edit", "9999", "--stars", "5")[0] == 3
    assert cli("packages", "add", "--stars", "0", "--tokens", "5")[0] == 1
    code, _, err = cli("packages", "disable", pid)  # no answer on stdin: not confirmed
    assert code == 1 and Package.get_by_id(int(pid)).active
    assert js(cli("packages", "disable", pid, "--yes", "--json")[1])["active"] is False
    assert js(cli("packages", "enable", pid, "--json")[1])["active"] is True
    ids = [str(p["id"]) for p in js(cli("packages", "list", "--json")[1])]
    code, out, _ = cli("packages", "order", *reversed(ids), "--json")
    assert code == 0 and [str(p["id"]) for p in js(out)] == list(reversed(ids))
    assert cli("packages", "order", ids[0])[0] == 1
    assert [r[1] for r in log_rows()] == ["packages.create", "packages.edit", "packages.deactivate",
                                          "packages.activate", "packages.reorder"]


# ---------------------------------------------------------------- templates

def _add(cli, *extra: str):
    return cli("templates", "add", "--category", "art", "--title", "Noir", "--prompt", "a film noir portrait",
               "--model", "nano-banana", "--json", *extra)


def test_templates_crud(cli):
    code, out, err = _add(cli)
    assert code == 0, err
    made = js(out)
    assert made["titles"] == {"uz": "Noir", "ru": "Noir", "en": "Noir"} and made["active"] is True
    tid = str(made["id"])
    code, out, _ = cli("templates", "edit", tid, "--title-en", "Film noir", "--json")
    assert js(out)["titles"] == {"uz": "Noir", "ru": "Noir", "en": "Film noir"}
    assert js(cli("templates", "hide", tid, "--json")[1])["active"] is False
    assert js(cli("templates", "unhide", tid, "--json")[1])["active"] is True
    assert js(cli("templates", "pin", tid, "--json")[1])["pinned"] is True
    assert js(cli("templates", "unpin", tid, "--json")[1])["pinned"] is False
    listed = {t["id"]: t for t in js(cli("templates", "list", "--json")[1])}
    assert listed[int(tid)]["uses"] == 0 and "prompts" in listed[int(tid)]
    assert js(cli("templates", "show", tid, "--json")[1])["prompts"]["ru"] == "a film noir portrait"
    assert cli("templates", "show", "99999")[0] == 3
    code, _, err = cli("templates", "add", "--category", "art", "--title-en", "x", "--prompt", "p")
    assert code == 1 and "every language" in err
    assert cli("templates", "add", "--category", "nope", "--title", "x", "--prompt", "p")[0] == 1
    assert cli("templates", "rm", tid)[0] == 2  # --reason is required
    code, _, err = cli("templates", "rm", tid, "--reason", "dup", input="n\n")
    assert code == 1 and Template.get_or_none(Template.id == int(tid)) is not None
    code, out, _ = cli("templates", "rm", tid, "--reason", "dup", "--yes", "--json")
    assert code == 0 and js(out) == {"deleted": int(tid)} and Template.get_or_none(Template.id == int(tid)) is None
    assert [r[1] for r in log_rows()] == ["templates.create", "templates.update", "templates.update",
                                          "templates.update", "templates.update", "templates.update",
                                          "templates.delete"]


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_templates_export_import_round_trip(cli, tmp_path, fmt):
    path = tmp_path / f"catalogue.{fmt}"
    code, out, err = cli("templates", "export", str(path))
    assert code == 0, err
    before = [t.id for t in Template.select()]
    # unchanged import: nothing but its own log row
    rows = len(log_rows())
    code, out, _ = cli("templates", "import", str(path), "--yes", "--json")
    assert code == 0 and js(out)["unchanged"] == len(before) and js(out)["created"] == []
    assert [r[1] for r in log_rows()[rows:]] == ["templates.import"]
    # edit the file: a new category, a changed title, a new template
    document = json.loads(path.read_text()) if fmt == "json" else __import__("tomllib").loads(path.read_text())
    document["categories"].append({"slug": "pets", "names": {"uz": "Uy", "ru": "Питомцы", "en": "Pets"}, "sort": 90})
    document["templates"][0]["titles"]["en"] = "Renamed"
    document["templates"].append({"category": "pets", "titles": {"uz": "It", "ru": "Пёс", "en": "Dog"},
                                  "prompts": {"uz": "it", "ru": "пёс", "en": "a dog"}})
    path.write_text(json.dumps(document) if fmt == "json" else __import__("tomli_w").dumps(document))
    code, out, _ = cli("templates", "import", str(path), "--dry-run", "--json")
    assert code == 0 and js(out)["dry_run"] is True and len(js(out)["created"]) == 1
    assert TemplateCategory.get_or_none(TemplateCategory.slug == "pets") is None  # nothing written
    code, out, err = cli("templates", "import", str(path), "--yes", "--json")
    assert code == 0, err
    report = js(out)
    assert report["categories_created"] == ["pets"] and report["updated"] == [document["templates"][0]["id"]]
    assert Template.get_by_id(report["created"][0]).category_id == "pets"
    assert Template.get_by_id(document["templates"][0]["id"]).title_en == "Renamed"


def test_templates_import_is_validated_whole_before_any_write(cli, tmp_path):
    path = tmp_path / "bad.json"
    good = {"category": "art", "titles": {"uz": "A", "ru": "A", "en": "A"}, "prompts": {"uz": "a", "ru": "a", "en": "a"}}
    path.write_text(json.dumps({"version": 1, "categories": [], "templates": [
        good, {**good, "titles": {"uz": "", "ru": "B", "en": "B"}}, {**good, "model": "nope"}]}))
    count, rows = Template.select().count(), log_rows()
    code, _, err = cli("templates", "import", str(path), "--yes")
    assert code == 1 and one_line(err)
    assert "templates[1]: title (uz) is empty" in err and "1 more problem" in err
    assert Template.select().count() == count and log_rows() == rows
    path.write_text("{not json")
    code, _, err = cli("templates", "import", str(path), "--yes")
    assert code == 1 and "not valid JSON" in err
    assert cli("templates", "import", str(tmp_path / "missing.json"), "--yes")[0] == 1
    assert cli("templates", "export", "--format", "yaml")[0] == 2


# ---------------------------------------------------------------- referral and toggles

def test_referral_show_and_set(cli):
    code, out, _ = cli("referral", "show", "--json")
    assert code == 0 and js(out) == {"enabled": True, "percent": 10, "mode": "every", "cashback_lock_days": 0}
    code, out, err = cli("referral", "set", "--percent", "15", "--mode", "first", "--off", "--reason", "spring", "--json")
    assert code == 0, err
    assert js(out) == {"enabled": False, "percent": 15, "mode": "first", "cashback_lock_days": 0}
    assert [(r[1], r[2]) for r in log_rows()] == [("settings.set", "setting:referral.percent"),
                                                  ("settings.set", "setting:referral.mode"),
                                                  ("toggles.set", "setting:features.referrals")]
    rows = log_rows()
    code, _, err = cli("referral", "set", "--percent", "15", "--mode", "sometimes")  # one bad part: nothing changes
    assert code == 1 and log_rows() == rows
    assert cli("referral", "set")[0] == 2


def test_toggles_and_maintenance(cli):
    code, out, _ = cli("toggles", "show", "--json")
    assert code == 0 and js(out) == {"features": {"templates": True, "referrals": True, "topups": True},
                                     "maintenance": {"enabled": False, "messages": {"uz": "", "ru": "", "en": ""}}}
    assert js(cli("toggles", "set", "topups", "off", "--json")[1])["features"]["topups"] is False
    assert cli("toggles", "set", "topups", "maybe")[0] == 2
    assert cli("toggles", "set", "sparkles", "on")[0] == 1
    code, _, _ = cli("toggles", "maintenance", "on", "--message", "back soon")  # not confirmed
    assert code == 1 and js(cli("toggles", "show", "--json")[1])["maintenance"]["enabled"] is False
    code, out, _ = cli("toggles", "maintenance", "on", "--message", "back soon", "--message-ru", "скоро", "--yes",
                       "--json")
    assert code == 0 and js(out)["maintenance"] == {"enabled": True,
                                                   "messages": {"uz": "back soon", "ru": "скоро", "en": "back soon"}}
    assert js(cli("toggles", "maintenance", "off", "--json")[1])["maintenance"]["enabled"] is False


# ---------------------------------------------------------------- audit and users list

def test_audit_filters_and_pages(cli):
    for tg in ("601", "602", "603"):
        cli("users", "add", tg)
    cli("users", "ban", "601", "--reason", "spam", "--as", "alice")
    code, out, _ = cli("audit", "--json", "--limit", "2")
    page = js(out)
    assert code == 0 and set(page) == {"items", "next"} and len(page["items"]) == 2 and page["next"]
    assert set(page["items"][0]) == {"id", "actor", "action", "target", "before", "after", "reason", "outcome",
                                     "created_at"}
    rest = js(cli("audit", "--json", "--limit", "2", "--after", page["next"])[1])
    assert len(rest["items"]) == 2 and rest["next"] is None
    assert [r["action"] for r in js(cli("audit", "--actor", "cli:alice", "--json")[1])["items"]] == ["users.ban"]
    assert [r["target"] for r in js(cli("audit", "--target", "user:602", "--json")[1])["items"]] == ["user:602"]
    assert len(js(cli("audit", "--since", "1h", "--json")[1])["items"]) == 4
    assert js(cli("audit", "--until", "2000-01-01", "--json")[1])["items"] == []
    assert len(js(cli("audit", "--since", "2000-01-01T00:00", "--json")[1])["items"]) == 4
    code, _, err = cli("audit", "--since", "yesterday")
    assert code == 2 and one_line(err) and "--since" in err
    assert cli("audit", "--after", "garbage")[0] == 1


def test_users_list_filters_and_pages(cli):
    cli("users", "add", "701", "--username", "ann", "--role", "support")
    cli("users", "add", "702", "--username", "bob")
    cli("users", "add", "703", "--username", "annie")
    cli("users", "ban", "702", "--reason", "spam")
    code, out, _ = cli("users", "list", "--json")
    assert code == 0 and [u["tg_id"] for u in js(out)["items"]] == [703, 702, 701] and js(out)["next"] is None
    assert [u["tg_id"] for u in js(cli("users", "list", "--role", "support", "--json")[1])["items"]] == [701]
    assert [u["tg_id"] for u in js(cli("users", "list", "--banned", "--json")[1])["items"]] == [702]
    assert [u["tg_id"] for u in js(cli("users", "list", "--not-banned", "--search", "@ann", "--json")[1])["items"]] == [703, 701]
    first = js(cli("users", "list", "--limit", "2", "--json")[1])
    second = js(cli("users", "list", "--limit", "2", "--after", first["next"], "--json")[1])
    assert [u["tg_id"] for u in first["items"] + second["items"]] == [703, 702, 701]
    assert cli("users", "list", "--role", "king")[0] == 1
    code, out, _ = cli("users", "list")
    assert code == 0 and "@annie" in out
