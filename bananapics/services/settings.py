"""Admin-tunable settings: a registry of known keys with types, defaults and validation.

Values live in the ``settings`` table (seeded by a migration). Reads go through a process-wide cache
that asks the table's version sum at most every :data:`RECHECK_S` (1 s) and reloads when it changed,
so a change made by an admin in one process reaches every bot and worker process within a second
(the process that made it sees it at once).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import Setting, db, utcnow
from bananapics.services import audit
from bananapics.services.audit import Actor


@dataclass(frozen=True)
class Spec:
    type: str
    default: Any
    help: str
    check: Callable[[Any], str | None] = lambda value: None


def _range(lo: int, hi: int) -> Callable[[Any], str | None]:
    check = lambda v: None if lo <= v <= hi else f"must be between {lo} and {hi}"  # noqa: E731
    check.bounds = (lo, hi)  # type: ignore[attr-defined]
    return check


def _length(most: int) -> Callable[[Any], str | None]:
    return lambda v: None if len(v) <= most else f"must be at most {most} characters"


def _choice(*options: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in options else f"must be one of {', '.join(options)}"


REGISTRY: dict[str, Spec] = {
    "referral.percent": Spec("int", 10, "cashback % of a friend's top-up paid to the referrer", _range(0, 100)),
    "referral.cashback_lock_days": Spec("int", 0, "days a referrer cannot spend a cashback on generations (0 = at "
                                               "once); a refund within them takes it back whole", _range(0, 90)),
    "referral.mode": Spec("str", "every", "pay cashback on every top-up or on the first only", _choice("every", "first")),
    "limits.user_parallel_jobs": Spec("int", 2, "generations one user may have queued or running at once", _range(1, 20)),
    "limits.user_actions_per_min": Spec("int", 60, "messages and button presses one user may make per minute",
                                        _range(1, 6000)),
    "limits.user_burst": Spec("int", 20, "messages and button presses one user may make in a quick burst",
                              _range(1, 1000)),
    "limits.model_concurrency": Spec("int", 16, "provider calls per model across all workers", _range(1, 1000)),
    "payments.invoice_ttl_minutes": Spec("int", 60, "a top-up invoice can be paid this many minutes after it was sent",
                                         _range(1, 7 * 24 * 60)),
    "jobs.max_attempts": Spec("int", 3, "tries per job before it is refunded", _range(1, 10)),
    "admin.support_refund_limit": Spec("int", 500, "Stars per payment a support operator may refund; larger "
                                                   "payments (and forced refunds) need an admin", _range(0, 100_000)),
    "trending.days": Spec("int", 7, "trending ranks templates by their uses in this many last days", _range(1, 365)),
    # Feature toggles and maintenance mode (services.toggles, services.maintenance): settings rows, so
    # a switch reaches every bot and worker process at its next read.
    "features.templates": Spec("bool", True, "users may browse and use prompt templates"),
    "features.referrals": Spec("bool", True, "invite links bind new users and top-ups pay referral cashback"),
    "features.topups": Spec("bool", True, "users may buy tokens (invoices already sent still credit)"),
    "maintenance.enabled": Spec("bool", False, "maintenance mode: users get the maintenance message, "
                                               "admins and support pass"),
    "maintenance.message_uz": Spec("str", "", "maintenance message in Uzbek (empty: the built-in text)", _length(1000)),
    "maintenance.message_ru": Spec("str", "", "maintenance message in Russian (empty: the built-in text)", _length(1000)),
    "maintenance.message_en": Spec("str", "", "maintenance message in English (empty: the built-in text)", _length(1000)),
}

_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": lambda raw: {"true": True, "1": True, "yes": True, "on": True,
                         "false": False, "0": False, "no": False, "off": False}[raw.strip().lower()],
    "json": json.loads,
}


def _spec(key: str) -> Spec:
    spec = REGISTRY.get(key)
    if spec is None:
        raise NotFound(f"unknown setting {key!r} (known: {', '.join(sorted(REGISTRY))})")
    return spec


def bounds(key: str) -> tuple[int, int] | None:
    """The range a whole-number setting must be in (the admin panel's typed values), else None."""
    return getattr(_spec(key).check, "bounds", None)


def coerce(key: str, value: Any) -> Any:
    """Parse (from text) and validate a value for ``key``; raises InvalidInput with the reason."""
    spec = _spec(key)
    if isinstance(value, str) and spec.type != "str":
        try:
            value = _PARSERS[spec.type](value)
        except (ValueError, KeyError, json.JSONDecodeError):
            raise InvalidInput(f"{key}: {value!r} is not a valid {spec.type}") from None
    expected = {"int": int, "float": (int, float), "str": str, "bool": bool}.get(spec.type)
    if expected is not None and (not isinstance(value, expected) or (spec.type == "int" and isinstance(value, bool))):
        raise InvalidInput(f"{key}: {value!r} is not a valid {spec.type}")
    problem = spec.check(value)
    if problem:
        raise InvalidInput(f"{key}: {problem}")
    return value


# How long the cached values are trusted before the table's version stamp is asked again: a change
# made by another process (the CLI, the TUI, another worker) reaches this one within this time. The
# bot reads settings on every update (maintenance, toggles), so without it each update cost a query.
RECHECK_S = 1.0


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple[int, int] | None = None
        self.values: dict[str, Any] = {}
        self.database: Any = None
        self.checked_at = -math.inf

    def load(self) -> dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            if self.database is db.obj and self.stamp is not None and now - self.checked_at < RECHECK_S:
                return self.values
        with connection():
            stamp = db.execute_sql("SELECT COALESCE(SUM(version), 0), COUNT(*) FROM settings").fetchone()
            stamp = (int(stamp[0]), int(stamp[1]))
            with self.lock:
                if stamp == self.stamp and self.database is db.obj:
                    self.checked_at = now
                    return self.values
            values = {row.key: json.loads(row.value) for row in Setting.select()}
        with self.lock:
            self.stamp, self.values, self.database, self.checked_at = stamp, values, db.obj, now
        return values

    def recheck(self) -> None:
        """Ask the stamp at the next read (this process changed a setting)."""
        with self.lock:
            self.checked_at = -math.inf


_cache = _Cache()


def get(key: str) -> Any:
    spec = _spec(key)
    return _cache.load().get(key, spec.default)


def all_settings() -> dict[str, Any]:
    values = _cache.load()
    return {key: values.get(key, spec.default) for key, spec in sorted(REGISTRY.items())}


TOGGLE_PREFIXES = ("features.", "maintenance.")


def permission_for(key: str) -> str:
    """Feature toggles and maintenance mode are ``toggles.set``; every other key ``settings.set``."""
    return "toggles.set" if key.startswith(TOGGLE_PREFIXES) else "settings.set"


def set_value(key: str, value: Any, *, actor: Actor, reason: str | None = None) -> Any:
    """Change one setting (admin only); logged with before/after in the same transaction. Setting the
    value it already has changes and logs nothing."""
    permission = permission_for(key)
    audit.authorize(actor, permission, f"setting:{key}")
    spec = _spec(key)
    value = coerce(key, value)
    with atomic():
        row = Setting.get_or_none(Setting.key == key)
        before = json.loads(row.value) if row else spec.default
        if before == value and type(before) is type(value):
            return value  # nothing to change, nothing to log (as every other admin change)
        if row is None:
            Setting.insert(key=key, type=spec.type, value=json.dumps(value), updated_by=actor.name).execute()
        else:
            (Setting.update(value=json.dumps(value), version=Setting.version + 1, updated_at=utcnow(),
                            updated_by=actor.name).where(Setting.key == key).execute())
        audit.record(actor, permission, f"setting:{key}", before={key: before}, after={key: value}, reason=reason)
    _cache.recheck()  # this process sees its own change at once; others within RECHECK_S
    return value


def clear_cache() -> None:
    """Forget cached values (tests that rewrite the table underneath use it)."""
    with _cache.lock:
        _cache.stamp, _cache.values, _cache.database, _cache.checked_at = None, {}, None, -math.inf
