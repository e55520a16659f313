"""``bananapics audit``: the admin action log with filters, paged by cursor."""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import JsonOpt, database, operator, print_json, table, when
from bananapics.services import audit, lists


def audit_log(actor: Annotated[str | None, typer.Option("--actor", help="Only what this actor did: cli:alice, "
                                                        "tui:bob, tg:123456789, system.")] = None,
              target: Annotated[str | None, typer.Option(help="Only this target, e.g. user:123, model:nano-banana.")] = None,
              since: Annotated[str | None, typer.Option(help="From this time on (UTC): 2025-01-31, "
                                                        "2025-01-31T12:00, or 30m, 24h, 7d ago.")] = None,
              until: Annotated[str | None, typer.Option(help="Before this time (same forms as --since).")] = None,
              limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
              after: Annotated[str | None, typer.Option(help="Page cursor: the `next` of the previous page.")] = None,
              as_json: JsonOpt = False) -> None:
    """The admin action log, newest first (refused calls show as `action (denied)`).

    --json prints {"items": [{id, actor, action, target, before, after, reason, outcome, created_at}],
    "next": cursor or null}.

    Example: bananapics audit --actor cli:alice --since 7d --json
    """
    start, end = when(since, "--since"), when(until, "--until")
    database()
    page = lists.admin_log(actor=operator(None), by=actor, target=target, since=start, until=end, limit=limit,
                           after=after)
    rows = [audit.as_dict(a) for a in page.items]
    if as_json:
        print_json({"items": rows, "next": page.next})
        return
    table(None, ["when", "actor", "action", "target", "before", "after", "reason"],
          [[r["created_at"], r["actor"], r["action"] + (" (denied)" if r["outcome"] == "denied" else ""), r["target"],
            r["before"], r["after"], r["reason"]] for r in rows])
    if page.next:
        from bananapics.cli.common import out

        out.print(f"more: --after '{page.next}'")
