"""Who is acting, what they may do, and the admin action log.

Every admin change calls :func:`record` inside the transaction that makes the change, so the log
and the effect commit or roll back together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bananapics.errors import PermissionDenied
from bananapics.models import AdminAction, db

ROLE_RANK = {"user": 0, "support": 1, "admin": 2}


@dataclass(frozen=True)
class Actor:
    """The person behind a call: ``name`` is what the logs show (``cli:alice``, ``tg:123``)."""

    name: str
    role: str = "user"

    @classmethod
    def operator(cls, name: str) -> "Actor":
        """An operator at the server's terminal (CLI or TUI): they hold the database, so admin."""
        return cls(name=f"cli:{name}", role="admin")

    @classmethod
    def system(cls) -> "Actor":
        return cls(name="system", role="admin")

    def require(self, role: str, action: str) -> None:
        if ROLE_RANK.get(self.role, -1) < ROLE_RANK[role]:
            raise PermissionDenied(f"{action} needs the {role} role; {self.name} is {self.role}")


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


def recent(limit: int = 50, target: str | None = None) -> list[dict[str, Any]]:
    from bananapics.db import connection

    with connection():
        query = AdminAction.select().order_by(AdminAction.id.desc()).limit(limit)
        if target:
            query = query.where(AdminAction.target == target)
        return [
            {
                "id": a.id, "actor": a.actor, "action": a.action, "target": a.target,
                "before": json.loads(a.before) if a.before else None,
                "after": json.loads(a.after) if a.after else None,
                "reason": a.reason, "created_at": a.created_at.isoformat(sep=" ", timespec="seconds"),
            }
            for a in query
        ]
