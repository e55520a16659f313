"""`bananapics export` through the CLI entry point and services.export, on SQLite and Postgres:
every row once with stable columns, date ranges, --user, spreadsheet-safe CSV, JSON lines that give
the exact text back, the exit codes, and a file that appears only when complete."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from bananapics.errors import InvalidInput, PermissionDenied
from bananapics.models import Job, Payment, Transfer, utcnow
from bananapics.models import db as proxy
from bananapics.services import export, jobs, payments
from bananapics.services.audit import Actor
from tests.helpers import new_user
from tests.test_cli import cli  # noqa: F401 - the CLI fixture (the entry point on the test database)

OPS = Actor.operator("ops")
HOSTILE = "=HYPERLINK(\"http://x\",\"click\")"


@pytest.fixture
def shop(database):
    """Two users, three payments on three days, jobs with hostile prompts, their transfers."""
    ann = new_user(100, first_name="Ann")
    bob = new_user(100, first_name="Bob")
    now = utcnow()
    for n, (user, days_ago) in enumerate(((ann, 0), (bob, 1), (bob, 40))):
        payments.credit(user.id, f"charge-{n:04d}-xyz", stars=50, tokens=100, bonus=n)
        with database.connection_context():
            Payment.update(created_at=now - dt.timedelta(days=days_ago)).where(
                Payment.charge_id == f"charge-{n:04d}-xyz").execute()
    jobs.submit(ann.id, "nano-banana", HOSTILE, chat_id=1)
    jobs.submit(bob.id, "nano-banana", "-1+2 and a\nnewline, \"quotes\"", chat_id=2)
    return ann, bob


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_exports_every_row_with_formula_cells_escaped(cli, shop):
    code, out, err = cli("export", "jobs")
    assert code == 0 and "2 jobs row(s)" in err
    got = rows_of(out)
    assert list(got[0]) == export.header("jobs")
    prompts = [r["prompt"] for r in got]
    assert prompts == ["'" + HOSTILE, "'-1+2 and a\nnewline, \"quotes\""]
    assert [int(r["user"]) for r in got] == [shop[0].tg_id, shop[1].tg_id] and got[0]["cost"].isdigit()

    code, out, _ = cli("export", "transfers")
    got = rows_of(out)
    with proxy.connection_context():
        assert [int(r["id"]) for r in got] == [t.id for t in Transfer.select().order_by(Transfer.created_at, Transfer.id)]
    assert {r["kind"] for r in got} >= {"grant", "topup", "hold"}
    assert all(r["amount"].isdigit() for r in got)  # numbers are never touched
    topup = next(r for r in got if r["kind"] == "topup")
    assert topup["debit_account"] == "stars_in" and topup["debit_user"] == "" and topup["credit_user"].isdigit()


def test_jsonl_gives_the_exact_text_and_numbers(cli, shop):
    code, out, _ = cli("export", "jobs", "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["prompt"] for line in lines][0] == HOSTILE
    assert lines[1]["prompt"].endswith("\"quotes\"") and isinstance(lines[1]["cost"], int)
    assert list(lines[0]) == export.header("jobs") and lines[0]["finished_at"] is None


def test_date_range_and_user_filter(cli, shop):
    ann, bob = shop
    today = utcnow().date()
    code, out, _ = cli("export", "payments", "--since", str(today - dt.timedelta(days=2)), "--format", "jsonl")
    assert code == 0 and [p["charge_id"] for p in map(json.loads, out.splitlines())] == ["charge-0001-xyz",
                                                                                       "charge-0000-xyz"]
    code, out, _ = cli("export", "payments", "--until", str(today - dt.timedelta(days=2)))
    assert [r["charge_id"] for r in rows_of(out)] == ["charge-0002-xyz"]
    code, out, _ = cli("export", "payments", "--user", str(bob.tg_id), "--since", "2000-01-01T00:00")
    assert [r["charge_id"] for r in rows_of(out)] == ["charge-0002-xyz", "charge-0001-xyz"]
    code, out, _ = cli("export", "transfers", "--user", str(ann.tg_id), "--format", "jsonl")
    mine = [json.loads(line) for line in out.splitlines()]
    assert mine and all(ann.tg_id in (t["debit_user"], t["credit_user"]) for t in mine)
    code, out, _ = cli("export", "transfers", "--since", str(today + dt.timedelta(days=1)))
    assert code == 0 and rows_of(out) == []


def test_exit_codes_and_one_line_errors(cli, shop, tmp_path):
    for args, code in ((["export", "ledger"], 2), (["export", "jobs", "--since", "yesterday"], 2),
                       (["export", "jobs", "--since", "2025-02-01", "--until", "2025-01-01"], 2),
                       (["export", "jobs", "--format", "xlsx"], 2), (["export", "jobs", "--user", "424242"], 3),
                       (["export", "jobs", "--user", str(2**70)], 1),
                       (["export", "jobs", "--out", str(tmp_path / "missing" / "x.csv")], 2)):
        got, out, err = cli(*args)
        assert got == code, (args, err)
        assert err.count("\n") == 1 and err.startswith("error: ") and out == ""


def test_out_file_appears_complete(cli, shop, tmp_path):
    target = tmp_path / "jobs.jsonl"
    code, out, err = cli("export", "jobs", "--format", "jsonl", "--out", str(target))
    assert code == 0 and out == "" and f"written to {target}" in err
    assert len(target.read_text().splitlines()) == 2
    assert not (tmp_path / "jobs.jsonl.partial").exists()


def test_service_streams_and_checks_permission(database, shop, monkeypatch):
    class Chunks(io.BytesIO):
        writes = 0

        def write(self, data):
            Chunks.writes += 1
            return super().write(data)

    monkeypatch.setattr(export, "BATCH", 1)
    sink = Chunks()
    assert export.write("payments", sink, actor=OPS) == 3
    assert sink.getvalue().decode().count("\n") == 4  # header + 3 rows
    with pytest.raises(InvalidInput):
        export.write("payments", io.BytesIO(), actor=OPS, fmt="xml")
    with pytest.raises(InvalidInput):
        export.write("users", io.BytesIO(), actor=OPS)
    with pytest.raises(PermissionDenied):
        export.write("payments", io.BytesIO(), actor=Actor.for_user(shop[0]))
    with database.connection_context():
        assert Job.select().count() == 2  # exports only read
