"""Who a Telegram user is when they act from the bot's admin panel: an
:class:`~bananapics.services.audit.Actor` whose role is read from the database on every call
(:meth:`Actor.for_user`, never a role cached by the bot), allowed a permission of
:data:`~bananapics.services.audit.PERMISSIONS` or refused (PermissionDenied, logged with a
``denied`` admin-log row). The bot's admin routes ask here before they show or change anything."""

from __future__ import annotations

from bananapics.services import audit
from bananapics.services.audit import Actor


def staff(user_id: int, permission: str = audit.READ, target: str = "admin panel") -> Actor:
    """The user as an actor allowed ``permission``; PermissionDenied for anyone whose role lacks it."""
    actor = Actor.for_user(user_id)
    audit.authorize(actor, permission, target)
    return actor
