"""Who a Telegram user is when they act from the bot's admin panel: an
:class:`~bananapics.services.audit.Actor` whose role is read from the database on every call
(:meth:`Actor.for_user`, never a role cached by the bot), allowed a permission of
:data:`~bananapics.services.audit.PERMISSIONS` or refused (PermissionDenied, logged with a
``denied`` admin-log row). The bot's admin routes ask here before they show or change anything."""

from __future__ import annotations

from bananapics.db import connection
from bananapics.models import AdminAction, User
from bananapics.services import audit
from bananapics.services.audit import Actor


def staff(user_id: int, permission: str = audit.READ, target: str = "admin panel") -> Actor:
    """The user as an actor allowed ``permission``; PermissionDenied for anyone whose role lacks it."""
    actor = Actor.for_user(user_id)
    audit.authorize(actor, permission, target)
    return actor


STAFF_ROLES = ("admin", "support")


def staff_members() -> list[tuple[int, str]]:
    """(Telegram id, language) of every admin and support user: who sees /admin in their command
    menu. The bot's own startup and refresh (no actor: it reveals nothing to anyone)."""
    with connection():
        return [(u.tg_id, u.language) for u in User.select(User.tg_id, User.language)
                .where(User.role.in_(STAFF_ROLES)).order_by(User.id)]


def former_staff(tg_ids: list[int] | None = None) -> list[int]:
    """Telegram ids of users whose role was changed by an admin and who are plain users now (their
    /admin menu entry must go, also after a bot restart). ``tg_ids`` limits the check to them."""
    with connection():
        targets = {a.target for a in AdminAction.select(AdminAction.target)
                   .where((AdminAction.action == "users.role") & (AdminAction.outcome != audit.DENIED)).distinct()}
        ids = [int(t.split(":", 1)[1]) for t in targets if t.startswith("user:") and t[5:].isdigit()]
        if tg_ids is not None:
            ids = [i for i in ids if i in set(tg_ids)]
        if not ids:
            return []
        return [u.tg_id for u in User.select(User.tg_id).where(User.tg_id.in_(ids) & (User.role == "user"))]
