"""Huey queue and tasks (the generation pipeline fills this package)."""
