"""What the wizard's screens share (the steps in ``wizard``, the settings in ``options``): the token
its buttons carry, the Cancel button and the price line."""

from __future__ import annotations

import hashlib
from typing import Any

from bananapics import i18n
from bananapics.bot.ui import button
from bananapics.models import Draft
from bananapics.services import pricing


def token(draft: Draft) -> str:
    """The hex id wizard buttons carry: changes with every edit of the draft, differs per user."""
    return hashlib.blake2b(f"{draft.user_id}:{draft.version}".encode(), digest_size=6).hexdigest()


def cancel_button(lang: str, tok: str) -> Any:
    return button(lang, "btn-cancel", "gen", "cancel", tok)


def price_line(lang: str, quote: pricing.Quote, available: int) -> str:
    after = max(available - quote.total, 0)
    if quote.count > 1:
        return i18n.t(lang, "confirm-price", count=quote.count, per_image=quote.per_image, total=quote.total,
                      after=after)
    return i18n.t(lang, "confirm-price-single", total=quote.total, after=after)
