"""The registry of the admin TUI's screens: one module per screen, listed in :data:`MODULES`.

A screen module defines a :class:`~textual.screen.Screen` and registers it with :func:`register`
(name, title, function key). The app turns every entry into a mode, a footer binding and a command
palette entry; each action the screen lists in ``PALETTE`` (``(title, help, action)``) gets a palette
entry too. Adding a screen is one new module plus its name in :data:`MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from textual.screen import Screen

# The order is the order of the function keys and of the palette.
MODULES = (
    "dashboard",
    "users",
    "ledger",
    "pricing",
    "packages",
    "templates",
    "rules",
    "jobs",
    "admin_log",
    "broadcasts",
)


@dataclass(frozen=True)
class ScreenSpec:
    name: str  # the mode name (``app.switch_mode(name)``)
    title: str
    key: str  # the footer binding, e.g. "f1"
    help: str
    screen: type[Screen]


_SCREENS: dict[str, ScreenSpec] = {}


def register(name: str, title: str, key: str, help: str) -> Callable[[type[Screen]], type[Screen]]:
    """Class decorator: add a screen to the registry."""
    def add(cls: type[Screen]) -> type[Screen]:
        clash = [s.name for s in _SCREENS.values() if s.key == key and s.name != name]
        if clash:
            raise ValueError(f"key {key} of screen {name!r} is taken by {clash[0]!r}")
        cls.mode_name = name
        _SCREENS[name] = ScreenSpec(name, title, key, help, cls)
        return cls
    return add


def screens() -> list[ScreenSpec]:
    """Every registered screen, in :data:`MODULES` order."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return list(_SCREENS.values())
