"""``bananapics db upgrade|status``: forward-only migrations."""

from __future__ import annotations


from bananapics import db as dbm
from bananapics.cli.common import JsonOpt, config, database, out, print_json, table, group
from bananapics.services import users

app = group("Schema migrations.")


@app.command()
def upgrade(as_json: JsonOpt = False) -> None:
    """Apply pending migrations (safe to run again: nothing pending, nothing done).

    Example: bananapics db upgrade
    """
    applied = dbm.upgrade(database(require_schema=False))
    promoted = users.bootstrap_admins(config().admin.bootstrap_ids)
    if as_json:
        print_json({"applied": applied, "bootstrap_admins_promoted": promoted})
        return
    for name in applied:
        out.print(f"applied {name}")
    if not applied:
        out.print("database is up to date")
    for tg_id in promoted:
        out.print(f"promoted {tg_id} to admin (bootstrap)")


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Show applied and pending migrations.

    Example: bananapics db status --json
    """
    rows = dbm.migration_status(database(require_schema=False))
    if as_json:
        print_json([{"name": r.name, "applied": r.applied, "applied_at": r.applied_at} for r in rows])
        return
    table(f"migrations on {dbm.redact_url(config().database.url)}", ["migration", "state", "applied at"],
          [[r.name, "applied" if r.applied else "pending", r.applied_at] for r in rows])
