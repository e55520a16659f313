"""Small helpers shared by tests."""

from __future__ import annotations

import itertools

from bananapics.services import users
from bananapics.services.verify import verify

_ids = itertools.count(700_000_001)


def new_user(start: int = 0, **kwargs):
    """Register a fresh Telegram user; ``start`` tokens arrive through the ledger (welcome grant)."""
    tg_id = kwargs.pop("tg_id", None) or next(_ids)
    return users.register(tg_id, start_balance=start, **kwargs).user


def assert_ledger_clean() -> None:
    breaches = verify()
    assert breaches == [], "\n".join(f"{b.check}: {b.detail}" for b in breaches)
