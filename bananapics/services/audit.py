"""Who is acting, what each role may do, and the admin action log.

* :class:`Actor` is the person behind a call. A Telegram user's actor comes from
  :meth:`Actor.for_user`, which reads the role from the database (and :func:`authorize` reads it
  again, so a role taken away applies to the very next call); the CLI and TUI build an operator
  (:meth:`Actor.operator`), always admin, recorded as ``cli:<name>`` or ``tui:<name>``.
* :data:`PERMISSIONS` is the one table of what each role may do. Every admin service function
  calls :func:`authorize` itself before it changes or reads anything.
* A refused call raises :class:`~bananapics.errors.PermissionDenied`, changes nothing, logs a
  warning and writes one admin-log row with outcome ``denied`` in a transaction of its own, so
  the row stays even when the caller's transaction rolls back.
* Every admin change calls :func:`record` inside the transaction that makes the change, so the log
  and the effect commit or roll back together.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from bananapics.db import after_transaction, is_postgres
from bananapics.errors import InvalidInput, NotFound, PermissionDenied
from bananapics.models import AdminAction, User, db

log = logging.getLogger(__name__)

READ = "read"  # every list, snapshot and lookup of the admin tools
# Named permissions; each admin service function needs exactly one of them (a forced refund two).
ALL_PERMISSIONS = frozenset({
    READ,
    "users.ban",  # ban and unban
    "users.add",
    "users.role",
    "users.forget",  # erase a user's personal data
    "jobs.retry",  # put a stuck job back in the queue
    "jobs.extra_attempt",  # grant one more attempt to a job that has used them all
    "jobs.generate",  # an operator's generation on a user's balance
    "jobs.sweep",  # run the sweeper now
    "jobs.purge_media",  # apply the storage retention now
    "payments.refund",  # up to admin.support_refund_limit Stars per payment for support
    "payments.refund_force",  # a refund that leaves the payer a debt
    "payments.refund_over_limit",  # a refund of more Stars than admin.support_refund_limit
    "payments.mark_refunded",  # reverse a charge in the ledger without a Telegram refund
    "payments.reconcile",  # credit and reverse charges found in Telegram's Stars history
    "ledger.adjust",
    "catalog.edit",  # models: on/off, default, prices, extras, limits
    "packages.edit",
    "templates.edit",
    "toggles.set",  # features and maintenance mode
    "settings.set",
    "broadcast.send",  # compose, test, start, pause, resume and cancel a broadcast (and see them)
})

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": ALL_PERMISSIONS,
    "support": frozenset({READ, "users.ban", "jobs.retry", "payments.refund"}),
    "user": frozenset(),
}

CHANNELS = ("cli", "tui")
DENIED = "denied"


@dataclass(frozen=True)
class Actor:
    """The person behind a call: ``name`` is what the logs show (``cli:alice``, ``tg:123``).

    ``user_id`` is set for Telegram users (:meth:`for_user`): their role is then read from the
    database on every :func:`authorize`, never taken from this object.
    """

    name: str
    role: str = "user"
    user_id: int | None = None

    @classmethod
    def for_user(cls, user: User | int) -> "Actor":
        """A Telegram user (a row or a ``users.id``), with the role their row holds now."""
        user_id = user if isinstance(user, int) else user.id
        with db.connection_context():
            row = User.select(User.tg_id, User.role).where(User.id == user_id).first()
        if row is None:
            raise NotFound(f"user #{user_id} not found")
        return cls(name=f"tg:{row.tg_id}", role=row.role, user_id=user_id)

    @classmethod
    def operator(cls, name: str, channel: str = "cli") -> "Actor":
        """An operator at the server's terminal (CLI or TUI): they hold the database, so admin."""
        if channel not in CHANNELS:
            raise InvalidInput(f"unknown operator channel {channel!r}; choose {', '.join(CHANNELS)}")
        return cls(name=f"{channel}:{name}", role="admin")

    @classmethod
    def system(cls) -> "Actor":
        return cls(name="system", role="admin")

    def current_role(self) -> str:
        """The role that decides: re-read from the database for a Telegram user."""
        if self.user_id is None:
            return self.role
        with db.connection_context():
            role = User.select(User.role).where(User.id == self.user_id).scalar()
        return role or "user"

    def can(self, permission: str) -> bool:
        """May this actor do ``permission``? (for front ends choosing which buttons to show)"""
        return permission in PERMISSIONS.get(self.current_role(), frozenset())


def authorize(actor: Actor, permission: str, target: str = "", *, why: str = "") -> None:
    """Allow the call, or log the refusal (app log and a ``denied`` admin-log row) and raise
    PermissionDenied. Call it first, before the function changes or reads anything. ``why`` adds
    what the refused person needs to know to the message (a limit they went over)."""
    if permission not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")  # a programming error, not a refusal
    role = actor.current_role()
    if permission in PERMISSIONS.get(role, frozenset()):
        return
    log.warning("permission denied: %s (%s) tried %s on %s", actor.name, role, permission, target or "-")
    _record_denial(actor, permission, target, role)
    raise PermissionDenied(f"{permission} is not allowed for the {role} role ({actor.name})"
                           + (f": {why}" if why else ""), title="forbidden")


def _record_denial(actor: Actor, permission: str, target: str, role: str) -> None:
    """Write the ``denied`` row in its own transaction, so a caller's rollback cannot take it away:
    inside a caller's transaction it goes through another connection (Postgres: a short thread)
    or right after that transaction ends (SQLite)."""
    values = dict(actor=actor.name[:96], action=permission[:48], target=target[:255], outcome=DENIED,
                  before=_dump({"role": role}))

    def write() -> None:
        with db.connection_context(), db.atomic():
            AdminAction.insert(**values).execute()

    if not db.in_transaction():
        write()
        return
    if not is_postgres():
        # SQLite: the caller's transaction holds the only write lock, so a second connection would
        # wait for it; the row is written as soon as that transaction ends (committed or rolled back).
        after_transaction(write)
        return
    failure: list[BaseException] = []

    def in_thread() -> None:
        try:
            write()
        except BaseException as exc:  # pragma: no cover - reported below
            failure.append(exc)

    worker = threading.Thread(target=in_thread, name="audit-denial")
    worker.start()
    worker.join()
    if failure:  # pragma: no cover - the database is gone; the warning above still says it
        log.error("could not record a denied action: %s", failure[0])


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)


def record(actor: Actor, action: str, target: str, *, before: Any = None, after: Any = None,
           reason: str | None = None) -> None:
    """Append one admin-log row; must run inside the change's transaction."""
    if db.transaction_depth() == 0:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    AdminAction.insert(
        actor=actor.name, action=action, target=target,
        before=_dump(before), after=_dump(after), reason=reason,
    ).execute()


def as_dict(a: AdminAction) -> dict[str, Any]:
    """One admin-log row as plain values (the CLI's table and --json)."""
    return {
        "id": a.id, "actor": a.actor, "action": a.action, "target": a.target,
        "before": json.loads(a.before) if a.before else None,
        "after": json.loads(a.after) if a.after else None,
        "reason": a.reason, "outcome": a.outcome,
        "created_at": a.created_at.isoformat(sep=" ", timespec="seconds"),
    }
