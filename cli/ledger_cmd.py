"""``bananapics ledger show|adjust|verify``: statements, corrections, invariant checks."""

from __future__ import annotations

import re

from typing import Annotated

import typer

from bananapics.cli.common import AsOpt, JsonOpt, database, fail, operator, out, print_json, table, group
from bananapics.errors import InvalidInput
from bananapics.models import Transfer
from bananapics.services import ledger, lists, users
from bananapics.services.verify import verify as run_verify

app = group("The token ledger.")


def _account(user_id: int | None, name: str, tg_ids: dict[int, int]) -> str:
    return f"user:{tg_ids.get(user_id, user_id)}:{name}" if user_id is not None else f"sys:{name}"


def transfer_dict(t: Transfer, tg_ids: dict[int, int]) -> dict:
    return {
        "id": t.id, "kind": t.kind, "ref": t.ref, "amount": t.amount,
        "debit": _account(t.debit_user_id, t.debit_account, tg_ids),
        "credit": _account(t.credit_user_id, t.credit_account, tg_ids),
        "actor": t.actor, "reason": t.reason,
        "created_at": t.created_at.isoformat(sep=" ", timespec="seconds"),
    }


@app.command()
def show(tg_id: Annotated[int, typer.Argument(help="Telegram user id.")],
         limit: Annotated[int, typer.Option(min=1, max=1000)] = 50, as_json: JsonOpt = False) -> None:
    """A user's balance and transfers, newest first.

    Example: bananapics ledger show 123456789 --limit 20 --json
    """
    database()
    user = users.get(tg_id)
    transfers = lists.transfers(actor=operator(None), user=tg_id, limit=limit).items
    tg_ids = lists.tg_ids_of(transfers)  # one query for every user the transfers touch
    rows = [transfer_dict(t, tg_ids) for t in transfers]
    if as_json:
        print_json(rows)
        return
    out.print(f"user {user.tg_id}: available {user.available}, held {user.held}")
    table(None, ["created", "kind", "ref", "amount", "debit", "credit", "reason"],
          [[r["created_at"], r["kind"], r["ref"], r["amount"], r["debit"], r["credit"], r["reason"]] for r in rows])


@app.command(context_settings={"ignore_unknown_options": True})
def adjust(tg_id: Annotated[int, typer.Argument(help="Telegram user id.")],
           amount: Annotated[str, typer.Argument(help="Tokens to add (e.g. 50) or remove (e.g. -50).")],
           reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required, kept in the admin log).")],
           key: Annotated[str | None, typer.Option(help="Idempotency key: repeating the command with it is a no-op.")] = None,
           as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Add or remove tokens by hand; never below zero, always with a reason.

    Example: bananapics ledger adjust 123456789 50 --reason "goodwill" --key ticket-42
    """
    # ASCII digits only, as every other amount: int() would also take "٥٠", "５０" or "1_000"
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", amount.strip()):
        raise InvalidInput(f"amount must be a whole number of tokens, got {amount!r}")
    tokens = int(amount)
    database()
    user = users.get(tg_id)
    result = ledger.adjust(user.id, tokens, reason=reason, actor=operator(as_), key=key)
    available, held = ledger.balance(user.id)
    if as_json:
        print_json({"key": result.ref, "amount": tokens, "replayed": result.replayed,
                    "available": available, "held": held})
        return
    verb = "already applied" if result.replayed else "applied"
    out.print(f"{verb}: {tokens:+d} tokens for {tg_id} (key {result.ref}); available now {available}")


@app.command()
def verify(as_json: JsonOpt = False) -> None:
    """Check every ledger invariant; exit 1 listing any breach.

    Example: bananapics ledger verify --json
    """
    database()
    breaches = run_verify()
    if as_json:
        print_json({"ok": not breaches, "breaches": [{"check": b.check, "detail": b.detail} for b in breaches]})
    elif breaches:
        for b in breaches:
            out.print(f"BREACH {b.check}: {b.detail}", markup=False)
    else:
        out.print("ledger OK: every invariant holds")
    if breaches:
        if not as_json:
            fail(f"{len(breaches)} invariant breach(es)")
        raise typer.Exit(1)
