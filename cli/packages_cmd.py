"""``bananapics packages …``: the Stars top-up packages users buy."""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import (AsOpt, JsonOpt, ReasonOpt, YesOpt, confirm, database, group, operator, out,
                                   print_json, table)
from bananapics.services import packages

app = group("Top-up packages: Stars, tokens, bonus, on sale or not, order.")

IdArg = Annotated[int, typer.Argument(help="Package id (see `packages list`).")]
Stars = Annotated[str | None, typer.Option("--stars", help="Price in Telegram Stars.")]
Tokens = Annotated[str | None, typer.Option("--tokens", help="Tokens credited.")]
Bonus = Annotated[str | None, typer.Option("--bonus", help="Bonus tokens, % of --tokens.")]


def _print(package, as_json: bool) -> None:
    data = packages.snapshot(package)
    if as_json:
        print_json(data)
        return
    out.print(f"package #{data['id']}: ⭐ {data['stars']} → {data['tokens']} tokens"
              + (f" (+{data['bonus_pct']}% = {data['bonus_tokens']} bonus)" if data["bonus_pct"] else "")
              + ("" if data["active"] else ", NOT on sale"))


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Every package, on sale or not, in the order users see them.

    --json prints [{id, stars, tokens, bonus_pct, bonus_tokens, active, sort}].

    Example: bananapics packages list --json
    """
    database()
    rows = [packages.snapshot(p) for p in packages.all_packages(actor=operator(None))]
    if as_json:
        print_json(rows)
        return
    table(None, ["id", "stars", "tokens", "bonus %", "bonus tokens", "on sale", "sort"],
          [[r["id"], r["stars"], r["tokens"], r["bonus_pct"], r["bonus_tokens"], "yes" if r["active"] else "no",
            r["sort"]] for r in rows])


@app.command()
def add(stars: Annotated[str, typer.Option("--stars", help="Price in Telegram Stars.")],
        tokens: Annotated[str, typer.Option("--tokens", help="Tokens credited.")],
        bonus: Bonus = None,
        inactive: Annotated[bool, typer.Option("--inactive", help="Create it off sale.")] = False,
        reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Create a package, last in the order.

    Example: bananapics packages add --stars 500 --tokens 1000 --bonus 15
    """
    actor = operator(as_)
    database()
    _print(packages.create(stars=stars, tokens=tokens, bonus_pct=bonus or 0, active=not inactive, actor=actor,
                           reason=reason), as_json)


@app.command()
def edit(package_id: IdArg, stars: Stars = None, tokens: Tokens = None, bonus: Bonus = None,
         reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Change a package's price, tokens or bonus; invoices already sent keep their terms.

    Example: bananapics packages edit 2 --stars 450 --bonus 10
    """
    actor = operator(as_)
    database()
    _print(packages.edit(package_id, stars=stars, tokens=tokens, bonus_pct=bonus, actor=actor, reason=reason),
           as_json)


@app.command()
def enable(package_id: IdArg, reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Put a package on sale.

    Example: bananapics packages enable 3
    """
    actor = operator(as_)
    database()
    _print(packages.set_active(package_id, True, actor=actor, reason=reason), as_json)


@app.command()
def disable(package_id: IdArg, reason: ReasonOpt = None, yes: YesOpt = False, as_: AsOpt = None,
            as_json: JsonOpt = False) -> None:
    """Take a package off sale (an unpaid invoice for it then fails at checkout).

    Example: bananapics packages disable 3 --reason "holiday offer ended" --yes
    """
    actor = operator(as_)
    database()
    confirm(f"Take package #{package_id} off sale (unpaid invoices for it will fail)", yes)
    _print(packages.set_active(package_id, False, actor=actor, reason=reason), as_json)


@app.command()
def order(package_ids: Annotated[list[int], typer.Argument(help="Every package id, in the new order.")],
          reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Put every package in the given order (each id exactly once).

    Example: bananapics packages order 3 1 2
    """
    actor = operator(as_)
    database()
    rows = [packages.snapshot(p) for p in packages.reorder(package_ids, actor=actor, reason=reason)]
    if as_json:
        print_json(rows)
    else:
        out.print("order: " + " ".join(f"#{r['id']}" for r in rows))
