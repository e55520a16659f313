"""``bananapics doctor``: is this machine ready to run the bot or a worker? One line a check.

Checks, in order: the database (reachable, migrations applied), the queue (storage answers, the
signing key signs and verifies), storage (write, read back, delete a probe object), each provider
the enabled models use (key set, a live check), Telegram (credentials well formed, the bot token
accepted by the Bot API, the session file private), the clock against the database's. Each check
gives ``ok``, ``FAIL`` or ``skip`` and one line that says what to do; any FAIL makes the exit code 1.
The lines never contain a secret (they pass through the log secret filter too).

The README's troubleshooting table lists these messages.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bananapics.config import Config, redact_url
from bananapics.errors import BananaError

MAX_SKEW_S = 5.0  # leases, deadlines and invoice expiry compare this machine's clock with the database's


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | FAIL | skip
    message: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"

    def line(self) -> str:
        return f"{self.status:<4} {self.name}: {self.message}"


def _first_line(exc: BaseException) -> str:
    text = exc.msg if isinstance(exc, BananaError) else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0]


def check_database(config: Config, opened: list | None = None) -> list[Check]:
    from bananapics import db as dbm

    try:
        database = dbm.connect(config.database)
        if opened is not None:
            opened.append(database)
        dbm.check_connection(database)
        states = dbm.migration_status(database)
    except Exception as exc:  # noqa: BLE001 - any driver error is one line
        return [Check("database", "FAIL", f"unreachable: {_first_line(exc)} (check [database] url and that the "
                                          "server runs)")]
    engine = "postgres" if dbm.is_postgres(database) else "sqlite"
    pending = [s.name for s in states if not s.applied]
    if pending:
        return [Check("database", "FAIL", f"{engine}: {len(pending)} migration(s) pending ({pending[0]}…): "
                                          "run `bananapics db upgrade`")]
    return [Check("database", "ok", f"{engine} {dbm.redact_url(config.database.url)}, "
                                    f"{len(states)} migrations applied")]


def check_queue(config: Config) -> list[Check]:
    from bananapics.tasks.queue import make_huey, ping, serializer

    cfg = config.queue
    try:
        huey = make_huey(cfg)
    except BananaError as exc:
        return [Check("queue", "FAIL", _first_line(exc))]
    problem = ping(huey)
    where = cfg.backend if cfg.backend != "redis" else f"redis {redact_url(cfg.redis_url)}"
    if problem is not None:
        return [Check("queue", "FAIL", f"{where} does not answer: {problem}")]
    checks = [Check("queue", "ok", f"{where} answers, {huey.pending_count()} task(s) waiting")]
    if cfg.signing_key is None:
        status = "FAIL" if cfg.backend == "redis" else "skip"
        checks.append(Check("signing key", status, "not set: task payloads are unsigned (required with redis; "
                                                   "set BANANAPICS_QUEUE__SIGNING_KEY)"))
    else:
        codec = serializer(cfg)
        try:
            ok = codec.deserialize(codec.serialize({"probe": 1})) == {"probe": 1}
        except Exception as exc:  # noqa: BLE001
            ok, why = False, _first_line(exc)
        else:
            why = "a signed payload did not read back"
        checks.append(Check("signing key", "ok", "set; payloads are signed and verified") if ok
                      else Check("signing key", "FAIL", why))
    return checks


def check_storage(config: Config) -> list[Check]:
    from bananapics.storage import make_storage

    key = f"doctor/probe-{uuid.uuid4().hex}.txt"
    data = b"bananapics doctor probe"
    where = config.storage.path if config.storage.backend == "local" else f"s3://{config.storage.s3_bucket}"
    try:
        storage = make_storage(config.storage)
        storage.put(key, data, "text/plain")
        if storage.get(key) != data:
            return [Check("storage", "FAIL", f"{where}: the probe object read back different bytes")]
        storage.delete(key)
        if storage.exists(key):
            return [Check("storage", "FAIL", f"{where}: the probe object is still there after delete")]
    except Exception as exc:  # noqa: BLE001 - a backend error is one line
        return [Check("storage", "FAIL", f"{where}: {_first_line(exc)}")]
    return [Check("storage", "ok", f"{config.storage.backend} {where}: write, read, delete")]


def check_providers(config: Config, needed: list[str] | None) -> list[Check]:
    import httpx

    from bananapics.providers.registry import NAMES, check_all

    forced = config.providers.force_provider
    if forced == "local":
        return [Check("providers", "ok", "every model runs on the offline `local` provider (force_provider)")]
    if forced:
        needed = [forced]
    with httpx.Client() as client:
        results = {r.provider: r for r in check_all(config, client)}
    checks = []
    for name in NAMES:
        if name == "local":
            continue
        result = results[name]
        used = needed is None or name in needed
        latency = f", {result.latency_ms:.0f} ms" if result.latency_ms is not None else ""
        if not result.key_present:
            checks.append(Check(f"provider {name}", "FAIL" if used and needed is not None else "skip",
                                f"{result.detail}" + (" — enabled models use it" if used and needed is not None
                                                      else " (no enabled model uses it)")))
        elif result.ok:
            checks.append(Check(f"provider {name}", "ok", f"key set, answering{latency}"))
        else:
            checks.append(Check(f"provider {name}", "FAIL" if used else "skip", f"key set, check failed: {result.detail}"))
    return checks


def check_telegram(config: Config, bot_api: Callable[[Config], object] | None = None) -> list[Check]:
    from bananapics.bot.runner import credentials

    checks = []
    try:
        credentials(config)
    except BananaError as exc:
        checks.append(Check("telegram", "FAIL", _first_line(exc)))
    else:
        from bananapics import botapi

        api = (bot_api or botapi.from_config)(config)
        try:
            me = api.call("getMe")
            checks.append(Check("telegram", "ok", f"credentials well formed; bot token accepted (@{me.get('username')})"))
            if me.get("username") and me["username"].lower() != config.telegram.bot_username.lower():
                checks.append(Check("bot username", "FAIL", f"[telegram] bot_username is {config.telegram.bot_username} but "
                                                            f"the token belongs to @{me['username']}: referral links would be wrong"))
        except BananaError as exc:
            checks.append(Check("telegram", "FAIL", _first_line(exc)))
        finally:
            api.close()
    checks.append(check_session_file(config.telegram.session_path))
    return checks


def check_session_file(path: str) -> Check:
    file = Path(path).expanduser()
    if file.suffix != ".session":
        file = file.with_name(file.name + ".session")
    if not file.exists():
        return Check("session file", "ok", f"{file} not created yet (the bot creates it, mode 600, on first start)")
    mode = stat.S_IMODE(file.stat().st_mode)
    if mode & 0o077:
        return Check("session file", "FAIL", f"{file} has mode {mode:03o}: it logs in as the bot; run chmod 600 {file}")
    if file.stat().st_uid != os.getuid():
        return Check("session file", "FAIL", f"{file} belongs to another account (uid {file.stat().st_uid})")
    return Check("session file", "ok", f"{file} mode 600")


def check_clock() -> list[Check]:
    from bananapics.services import observability

    try:
        skew = observability.database_clock_skew_s()
    except Exception as exc:  # noqa: BLE001
        return [Check("clock", "FAIL", f"cannot read the database clock: {_first_line(exc)}")]
    if skew is None:
        return [Check("clock", "skip", "SQLite: the database uses this machine's clock")]
    if abs(skew) > MAX_SKEW_S:
        return [Check("clock", "FAIL", f"this machine is {skew:+.1f} s off the database server: run NTP "
                                       "(timedatectl set-ntp true); leases and deadlines depend on it")]
    return [Check("clock", "ok", f"{skew:+.2f} s against the database server")]


def run(config: Config, *, bot_api: Callable[[Config], object] | None = None) -> list[Check]:
    """Every check; the database ones first (the provider and clock checks read it)."""
    opened: list = []
    try:
        return _run(config, bot_api, opened)
    finally:
        from bananapics import db as dbm

        for database in opened:
            dbm.close(database)


def _run(config: Config, bot_api: Callable[[Config], object] | None, opened: list) -> list[Check]:
    checks = check_database(config, opened)
    database_ok = not checks[0].failed
    checks += check_queue(config)
    checks += check_storage(config)
    needed = None
    if database_ok:
        from bananapics.services import observability

        try:
            needed = observability.providers_in_use()
        except Exception:  # noqa: BLE001 - the catalog unreadable: check every provider with a key
            needed = None
    checks += check_providers(config, needed)
    checks += check_telegram(config, bot_api)
    checks += check_clock() if database_ok else [Check("clock", "skip", "no database to compare with")]
    return checks
