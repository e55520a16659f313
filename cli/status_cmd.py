"""``bananapics status``: what this installation runs on."""

from __future__ import annotations

from bananapics import __version__
from bananapics import db as dbm
from bananapics.cli.common import JsonOpt, config, database, operator, out, print_json
from bananapics.errors import BananaError
from bananapics.services import system
from bananapics.tasks.queue import make_huey, ping


def _queue_problem(cfg) -> str | None:
    try:
        return ping(make_huey(cfg.queue))
    except BananaError as exc:
        return exc.msg


def collect() -> dict:
    cfg = config()
    database_ = database(require_schema=False)
    migrations = dbm.migration_status(database_)
    pending = [m.name for m in migrations if not m.applied]
    data: dict = {
        "version": __version__,
        "config": cfg.source,
        "database": {"url": dbm.redact_url(cfg.database.url), "engine": "postgres" if dbm.is_postgres(database_) else "sqlite",
                     "migrations_applied": len(migrations) - len(pending), "migrations_pending": pending},
        "queue": {"backend": cfg.queue.backend, "workers": cfg.queue.workers, "problem": _queue_problem(cfg),
                  "url": dbm.redact_url(cfg.queue.redis_url) if cfg.queue.backend == "redis" else cfg.queue.sqlite_path,
                  "signing_key": cfg.queue.signing_key is not None},
        "telegram": {"bot_token": cfg.telegram.bot_token is not None, "api_id": cfg.telegram.api_id is not None,
                     "api_hash": cfg.telegram.api_hash is not None, "bot_username": cfg.telegram.bot_username},
        "providers": {name: getattr(cfg.providers, f"{name}_api_key") is not None
                      for name in ("gemini", "openai", "ark", "fal")},
        "storage": {"backend": cfg.storage.backend},
    }
    if not pending:
        data.update(system.totals(actor=operator(None)))
    return data


def status(as_json: JsonOpt = False) -> None:
    """What this installation runs on: database, migrations, queue, keys present, totals.

    Example: bananapics status --json
    """
    data = collect()
    if as_json:
        print_json(data)
        return
    d = data["database"]
    out.print(f"BananaPics {data['version']} · config: {data['config']}")
    out.print(f"database: {d['engine']} {d['url']} · migrations applied {d['migrations_applied']}"
              + (f", PENDING {', '.join(d['migrations_pending'])} (run `bananapics db upgrade`)" if d["migrations_pending"] else ""))
    q = data["queue"]
    signing = "" if q["signing_key"] else (", signing key MISSING (required)" if q["backend"] == "redis"
                                           else ", payloads unsigned (no signing key)")
    out.print(f"queue: {q['backend']} {q['url']} ({q['workers']} workers){signing}"
              + (f", PROBLEM: {q['problem']}" if q["problem"] else ", reachable")
              + f" · storage: {data['storage']['backend']}")
    tg = data["telegram"]
    present = lambda ok: "set" if ok else "missing"  # noqa: E731
    out.print(f"telegram: bot token {present(tg['bot_token'])}, api id {present(tg['api_id'])}, "
              f"api hash {present(tg['api_hash'])} · @{tg['bot_username']}")
    out.print("provider keys: " + ", ".join(f"{k} {present(v)}" for k, v in data["providers"].items()))
    if "counts" in data:
        out.print("totals: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in data["counts"].items()))
        out.print("system accounts: " + ", ".join(f"{k} {v}" for k, v in data["system_accounts"].items()))
