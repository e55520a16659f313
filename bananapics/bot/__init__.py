"""The Telegram bot (Telethon): handlers that parse an update, call one service and render a screen.

UI-side only: services, models and tasks never import this package. ``callbacks`` is the strict
codec of inline-button data; the texts come from :mod:`bananapics.i18n`.
"""
