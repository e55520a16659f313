"""Feature toggles: templates, referrals and top-ups switched on or off by an admin.

Each toggle is a setting (``features.<name>``, see :mod:`bananapics.services.settings`), so a switch
reaches every bot and worker process at its next read, and is written with its audit row in one
transaction. Per-model availability is the catalog's ``enabled`` flag
(:func:`bananapics.services.catalog.set_enabled`); maintenance mode is
:mod:`bananapics.services.maintenance`.

Where a service decides, it enforces the toggle itself:

* ``topups`` off: :func:`bananapics.services.invoices.create_intent` raises FeatureOff (an invoice
  sent before still passes pre-checkout and credits when paid);
* ``referrals`` off: :func:`bananapics.services.referrals.attach` raises FeatureOff and top-ups pay
  no cashback;
* ``templates`` off: :func:`bananapics.services.drafts.from_template` raises FeatureOff.
"""

from __future__ import annotations

from bananapics.errors import FeatureOff, InvalidInput
from bananapics.services import settings
from bananapics.services.audit import Actor

FEATURES = ("templates", "referrals", "topups")


def _key(feature: str) -> str:
    if feature not in FEATURES:
        raise InvalidInput(f"unknown feature {feature!r}; choose {', '.join(FEATURES)}")
    return f"features.{feature}"


def is_on(feature: str) -> bool:
    return bool(settings.get(_key(feature)))


def require(feature: str) -> None:
    """Raise FeatureOff when an admin switched ``feature`` off."""
    if not is_on(feature):
        raise FeatureOff(feature)


def current() -> dict[str, bool]:
    """Every feature with its state (for the admin screens)."""
    return {feature: is_on(feature) for feature in FEATURES}


def set_feature(feature: str, on: bool, *, actor: Actor, reason: str | None = None) -> bool:
    """Switch a feature on or off (``toggles.set``: admin); audit row in the same transaction."""
    return bool(settings.set_value(_key(feature), on, actor=actor, reason=reason))
