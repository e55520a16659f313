"""Who a Telegram user is when they act from the bot: an :class:`~bananapics.services.audit.Actor`
with the role the database holds now (never a role cached by the bot), refused below the role an
action needs. The bot's admin routes ask here before they show or change anything."""

from __future__ import annotations

from bananapics.services import users
from bananapics.services.audit import Actor


def actor(user_id: int) -> Actor:
    """The user as an actor (``tg:<telegram id>``), with their stored role."""
    user = users.get_by_id(user_id)
    return Actor(name=f"tg:{user.tg_id}", role=user.role)


def staff(user_id: int, role: str = "support", action: str = "the admin panel") -> Actor:
    """The user as an actor allowed ``role``'s actions; PermissionDenied for anyone below it."""
    who = actor(user_id)
    who.require(role, action)
    return who
