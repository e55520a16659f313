"""Each user's panel: the one bot message that navigation edits in place (``panels`` table).

The bot keeps the panels it knows in memory (it alone owns them) and comes here after a restart
(:func:`of`) and whenever a new message becomes the panel (:func:`remember`).
"""

from __future__ import annotations

from bananapics.db import atomic_statement, connection
from bananapics.models import Panel, utcnow


def of(user_id: int) -> tuple[int | None, bool]:
    """(panel message id, is a photo) of the user; (None, False) when they have none yet."""
    with connection():
        panel = Panel.by(Panel.user, user_id)
    return (panel.message_id, bool(panel.media)) if panel else (None, False)


def remember(user_id: int, chat_id: int, message_id: int, media: bool = False) -> None:
    """``message_id`` in ``chat_id`` is the user's panel now (one upsert)."""
    with atomic_statement():
        Panel.upsert(Panel.user, {"user": user_id, "chat_id": chat_id, "message_id": message_id, "media": media,
                                  "updated_at": utcnow()})
