"""The routing point of the inline admin panel: every ``adm:*`` button and the admin's text steps.

``ACTIONS`` serves the panel's routes; each handler first asks ``services.access`` for the presser's
role as the database holds it, so a user pressing a forged ``adm:`` button gets the same "this
button is outdated" answer as any stale button (``PermissionDenied`` is refused like
``StaleButton``) and learns nothing. ``adm:*`` routes not in the table are outdated buttons too.
Admin screens that ask for typed text (an amount, a search) call ``services.conversation.expect``
with a step named ``adm.<what>`` and add its handler to ``TEXT_STEPS``; the bot sends the admin's
next message there instead of to the wizard.
"""

from __future__ import annotations

from typing import Any

from bananapics import i18n
from bananapics.bot import viewer
from bananapics.bot.routing import Answer, Press
from bananapics.bot.ui import Screen, menu_row
from bananapics.services import access


def home(press: Press) -> Answer:
    """The panel's first screen (its sections come with the admin panel itself)."""
    access.staff(press.user_id)
    lang = viewer.lang(press.user_id)
    return Screen(i18n.t(lang, "admin-title"), [menu_row(lang)]), None


ACTIONS = {("adm", "home"): home}
TEXT_STEPS: dict[str, Any] = {}


def register(bot: Any) -> None:
    bot.add_actions(ACTIONS)
    bot.add_text_steps(TEXT_STEPS)
