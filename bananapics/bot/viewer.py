"""The user an update is for, read once per update.

``Bot.guard`` reads (or registers) the user at the start of every update and sets :data:`VIEWER`.
Screens rendered for that same user take the row from here instead of reading it again: a button
press used to read the user row two or three times (guard, router, screen). ``asyncio.to_thread``
copies the context, so the screens running in a worker thread see the update's row; the delivery
loop, the payment handlers and the worker never set it and always read the database.

The row is as it was when the update arrived. A screen drawn after a change to the user row in the
same update calls :func:`forget` first (``set_language`` does); screens that show a balance right
after money moved (the thank-you for a payment) read the row with ``users.get_by_id`` themselves.
"""

from __future__ import annotations

from contextvars import ContextVar

from bananapics.models import User
from bananapics.services import users

VIEWER: ContextVar[User | None] = ContextVar("bananapics_viewer", default=None)


def user(user_id: int) -> User:
    """The update's user row when ``user_id`` is the update's user; else read from the database."""
    seen = VIEWER.get()
    if seen is not None and seen.id == user_id:
        return seen
    return users.get_by_id(user_id)


def lang(user_id: int) -> str:
    return user(user_id).language


def forget() -> None:
    """The user row changed in this update: later screens of the update read it again."""
    VIEWER.set(None)
