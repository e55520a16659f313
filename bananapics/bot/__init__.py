"""The Telegram bot (Telethon): handlers that parse an update, call one service and render a screen.

UI-side only: services, models and tasks never import this package. ``build_bot(config, client)``
(from :mod:`bananapics.bot.app`) registers every handler on a Telethon client. ``callbacks`` is the
strict codec of inline-button data; ``ui`` what screens are made of; ``routing`` the shape of every
feature module (``ACTIONS``, ``TEXT_STEPS``, ``register``); the texts come from :mod:`bananapics.i18n`.
"""

from bananapics.bot.app import Bot, build_bot

__all__ = ["Bot", "build_bot"]
