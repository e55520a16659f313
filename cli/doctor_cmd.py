"""``bananapics doctor``: one line per readiness check, exit 1 when any fails."""

from __future__ import annotations

import typer

from bananapics.cli.common import JsonOpt, config, out, print_json


def doctor(as_json: JsonOpt = False) -> None:
    """Check database and migrations, queue and signing key, storage, provider keys, Telegram
    credentials and session file, and the clock; one line each, exit 1 on any failure.

    Example: bananapics doctor --json
    """
    from bananapics import doctor as checks

    results = checks.run(config())
    if as_json:
        print_json([{"check": c.name, "status": c.status, "message": c.message} for c in results])
    else:
        for check in results:
            out.print(check.line())
    if any(c.failed for c in results):
        raise typer.Exit(1)
