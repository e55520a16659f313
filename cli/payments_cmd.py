"""``bananapics payments list|show|refund|reconcile``: Stars payments from the terminal.

Refund and reconcile talk to Telegram. The CLI holds no Telegram session (the bot process does),
so they use the Bot API with the bot token from the config (:mod:`bananapics.botapi`); without a
token they stop with one clear line before touching anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer

from bananapics import botapi
from bananapics.cli.common import AsOpt, JsonOpt, config, database, fail, operator, out, print_json, table, group
from bananapics.cli.ledger_cmd import transfer_dict
from bananapics.models import Payment
from bananapics.services import ledger, lists, payments, reconcile as reconcile_service, users
from bananapics.services.stars import StarsApi

app = group("Telegram Stars payments: list, show, refund, reconcile.")


def stars_api() -> StarsApi:
    """The Telegram side for refund/reconcile (tests replace this with the simulated Telegram)."""
    return botapi.from_config(config())


@contextlib.contextmanager
def telegram() -> Iterator[StarsApi]:
    api = stars_api()
    try:
        yield api
    finally:
        close = getattr(api, "close", None)
        if close is not None:
            close()


def payment_dict(p: Payment, tg_id: int) -> dict:
    return {
        "id": p.id, "charge_id": p.charge_id, "user": tg_id, "stars": p.stars, "tokens": p.tokens,
        "bonus_tokens": p.bonus_tokens, "status": p.status, "source": p.source, "intent_id": p.intent_id,
        "created_at": p.created_at, "refunded_at": p.refunded_at, "refunded_by": p.refunded_by,
        "refund_reason": p.refund_reason, "refund_debt": p.refund_debt,
    }


@app.command("list")
def list_(user: Annotated[int | None, typer.Option("--user", help="Only this Telegram user id.")] = None,
          limit: Annotated[int, typer.Option(min=1, max=10000)] = 50, as_json: JsonOpt = False) -> None:
    """Newest payments first.

    Example: bananapics payments list --user 123456789 --json
    """
    database()
    # an unknown user is "not found" (exit 1), as everywhere else, not "no payments"
    rows = [payment_dict(p, p.user.tg_id) for p in lists.payments(actor=operator(None), user=user, limit=limit).items]
    if as_json:
        print_json(rows)
        return
    table(None, ["created", "charge id", "user", "stars", "tokens", "bonus", "status", "source"],
          [[r["created_at"], r["charge_id"], r["user"], r["stars"], r["tokens"], r["bonus_tokens"],
            r["status"] + (f" (debt {r['refund_debt']})" if r["refund_debt"] else ""), r["source"]] for r in rows])
    if not rows:
        out.print("no payments")


@app.command()
def show(charge_id: Annotated[str, typer.Argument(help="Telegram charge id.")], as_json: JsonOpt = False) -> None:
    """One payment and every ledger transfer it caused (top-up, bonus, cashback, refund…).

    Example: bananapics payments show stxABC123 --json
    """
    database()
    payment = payments.get(charge_id)
    transfers = ledger.transfers_for_ref(charge_id)
    tg_ids = lists.tg_ids_of(transfers)  # one query for every user the transfers touch
    data = payment_dict(payment, users.get_by_id(payment.user_id).tg_id)
    data["transfers"] = [transfer_dict(t, tg_ids) for t in transfers]
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if key != "transfers" and value is not None:
            out.print(f"{key}: {value}")
    table("transfers", ["created", "kind", "amount", "debit", "credit", "actor", "reason"],
          [[t["created_at"], t["kind"], t["amount"], t["debit"], t["credit"], t["actor"], t["reason"]]
           for t in data["transfers"]])


@app.command()
def refund(charge_id: Annotated[str, typer.Argument(help="Telegram charge id.")],
           reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required, kept in the admin log).")],
           force: Annotated[bool, typer.Option("--force", help="Refund even if the user spent the tokens: "
                                               "the shortfall becomes a debt that blocks generation.")] = False,
           as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Return the Stars through Telegram and take the tokens, bonus and cashback back, once.

    Example: bananapics payments refund stxABC123 --reason "double purchase"
    """
    actor = operator(as_)
    database()
    payments.get(charge_id)  # an unknown charge fails before the token check
    with telegram() as api:
        done = payments.refund(charge_id, actor=actor, reason=reason, telegram=api, force=force)
    if as_json:
        print_json({"charge_id": done.charge_id, "stars": done.stars, "tokens": done.tokens, "debt": done.debt,
                    "cashback_clawed": done.clawed, "referrer_debt": done.referrer_debt,
                    "telegram_already_refunded": done.telegram_already})
        return
    out.print(f"refunded ⭐ {done.stars} of charge {charge_id}: {done.tokens} tokens taken back"
              + (f", {done.clawed} cashback clawed back" if done.clawed else "")
              + (f", {done.referrer_debt} cashback left as the referrer's debt" if done.referrer_debt else "")
              + (f", {done.debt} tokens left as debt" if done.debt else "")
              + (" (Telegram had already refunded it)" if done.telegram_already else ""))


@app.command("reconcile")
def reconcile_cmd(max_pages: Annotated[int, typer.Option(min=1, max=10000, help="Pages of 100 transactions to read.")] = 50,
                  as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Credit every Stars payment Telegram lists that was never recorded; exit 1 on mismatches.

    Example: bananapics payments reconcile --max-pages 5 --json
    """
    actor = operator(as_)
    database()
    with telegram() as api:
        report = reconcile_service.reconcile(api, max_pages=max_pages, actor=actor)
    if as_json:
        print_json(report.as_dict())
    else:
        out.print(f"{report.seen} payment(s) in Telegram's Stars history"
                  + ("" if report.complete else f" (first {max_pages} page(s) only)")
                  + f"; credited {len(report.credited)}, reversed {len(report.reversed)} refund(s)")
        for charge_id in report.credited:
            out.print(f"credited {charge_id}")
        for charge_id in report.reversed:
            out.print(f"reversed {charge_id}")
        for m in report.mismatches:
            out.print(f"MISMATCH {m.charge_id}: {m.problem}")
    if report.mismatches:
        if not as_json:
            fail(f"{len(report.mismatches)} mismatch(es) need a look")
        raise typer.Exit(1)
