"""Business services: plain values in and out, no telethon/textual/typer imports.

Writes run in :func:`bananapics.db.atomic`; failures are :mod:`bananapics.errors` types.
"""
