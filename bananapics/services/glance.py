"""Today at a glance, for the admin panel's home: new users, generations (ok / failed), Stars in,
tokens sold, queue depth and which providers are up. Reads only; support and admin (``read``).

"Today" is the UTC day. A provider counts as down when its key is missing or its latest job
failed after its latest success (``services.system`` has the details per provider); one with no
jobs yet and a key counts as up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee as pw

from bananapics.db import connection
from bananapics.models import Job, Payment, User, utcnow
from bananapics.services import audit, system
from bananapics.services.audit import Actor


@dataclass(frozen=True)
class Glance:
    new_users: int
    generations_ok: int  # jobs that delivered at least one image today
    generations_failed: int
    stars_in: int  # Stars of today's payments not refunded
    tokens_sold: int  # their tokens, bonus included
    queue_depth: int  # jobs waiting for a worker now
    running: int
    providers_up: tuple[str, ...]
    providers_down: tuple[str, ...]


def _up(health: system.ProviderHealth) -> bool | None:
    """True up, False down, None unused (no key needed and nothing run: not worth a line)."""
    if health.key == "missing":
        return False
    if health.last_error_at is not None and (health.last_success is None or health.last_success < health.last_error_at):
        return False
    if health.key == "not needed" and health.last_success is None:
        return None
    return True


def today(*, actor: Actor, keys: dict[str, bool] | None = None, now: dt.datetime | None = None) -> Glance:
    """The home screen's figures. ``keys``: ``system.provider_keys(config)`` (booleans only)."""
    audit.authorize(actor, audit.READ, "system")
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    snap = system.snapshot(actor=actor, keys=keys, now=now)
    with connection():
        finished = dict(Job.select(Job.status, pw.fn.COUNT(Job.id))
                        .where(Job.finished_at >= midnight).group_by(Job.status).tuples())
        new_users = User.select().where(User.created_at >= midnight).count()
        stars, tokens = (Payment.select(pw.fn.COALESCE(pw.fn.SUM(Payment.stars), 0),
                                        pw.fn.COALESCE(pw.fn.SUM(Payment.tokens + Payment.bonus_tokens), 0))
                         .where((Payment.created_at >= midnight) & (Payment.status == "paid")).tuples().first())
    states = {p.name: _up(p) for p in snap.providers}
    return Glance(
        new_users=new_users,
        generations_ok=int(finished.get("succeeded", 0)) + int(finished.get("partial", 0)),
        generations_failed=int(finished.get("failed", 0)),
        stars_in=int(stars), tokens_sold=int(tokens), queue_depth=snap.queue_depth, running=snap.running,
        providers_up=tuple(name for name, up in states.items() if up is True),
        providers_down=tuple(name for name, up in states.items() if up is False),
    )
