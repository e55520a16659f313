"""``bananapics providers check``: is each provider's key present, and does a live call work?"""

from __future__ import annotations

import typer

from bananapics.cli.common import JsonOpt, config, out, print_json, table, group

app = group("Image providers.")


@app.command()
def check(as_json: JsonOpt = False) -> None:
    """For each provider: key present or missing, a live check against the configured base URL, latency.

    Keys are never printed. Exit 1 when a provider whose key is set fails its check.

    Example: bananapics providers check --json
    """
    import httpx

    from bananapics.providers.registry import check_all

    with httpx.Client() as client:
        results = check_all(config(), client)
    rows = [{"provider": r.provider, "key_present": r.key_present, "ok": r.ok,
             "latency_ms": None if r.latency_ms is None else round(r.latency_ms, 1), "detail": r.detail}
            for r in results]
    if as_json:
        print_json(rows)
    else:
        table(None, ["provider", "key", "live check", "latency ms", "detail"],
              [[r["provider"], "set" if r["key_present"] else "missing", "ok" if r["ok"] else "FAILED",
                r["latency_ms"], r["detail"]] for r in rows])
    if any(r.key_present and not r.ok for r in results):
        if not as_json:
            out.print("some providers failed their check")
        raise typer.Exit(1)
