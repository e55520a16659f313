"""Top-up packages as admins change them: create, edit (Stars, tokens, bonus %), on/off, order.

Every change needs ``packages.edit`` (admin) and is one transaction with its audit row; the list
needs ``read``. An invoice already sent keeps the terms it was sent with: the invoice intent froze
the Stars, tokens and bonus tokens when it was created (:func:`bananapics.services.invoices.create_intent`),
and a payment credits what the intent says. Users see the change at their next "Top up".
"""

from __future__ import annotations

from typing import Any

from bananapics.db import atomic, connection
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import Package
from bananapics.services import audit
from bananapics.services.audit import Actor
from bananapics.services.catalog import whole

MAX_STARS = 100_000  # Telegram caps a Stars invoice well below this
MAX_TOKENS = 100_000_000
MAX_BONUS_PCT = 1000


def snapshot(package: Package) -> dict[str, Any]:
    return {"id": package.id, "stars": package.stars, "tokens": package.tokens, "bonus_pct": package.bonus_pct,
            "bonus_tokens": package.bonus_tokens, "active": bool(package.active), "sort": package.sort}


def all_packages(*, actor: Actor) -> list[Package]:
    """Every package, active or not, in the order users see them."""
    audit.authorize(actor, "read", "packages")
    with connection():
        return list(Package.select().order_by(Package.sort, Package.id))


def _terms(stars: Any, tokens: Any, bonus_pct: Any) -> dict[str, int]:
    out = {}
    if stars is not None:
        out["stars"] = whole(stars, "stars", 1, MAX_STARS)
    if tokens is not None:
        out["tokens"] = whole(tokens, "tokens", 1, MAX_TOKENS)
    if bonus_pct is not None:
        out["bonus_pct"] = whole(bonus_pct, "bonus %", 0, MAX_BONUS_PCT)
    return out


def create(*, stars: Any, tokens: Any, bonus_pct: Any = 0, active: bool = True, actor: Actor,
           reason: str | None = None) -> Package:
    """A new package, last in the order."""
    audit.authorize(actor, "packages.edit", "package:new")
    terms = _terms(stars, tokens, bonus_pct)
    if not isinstance(active, bool):
        raise InvalidInput("active must be true or false")
    with atomic():
        last = Package.select(Package.sort).order_by(Package.sort.desc()).limit(1).scalar() or 0
        package_id = Package.insert(**terms, active=active, sort=last + 10).execute()
        package = Package.get_by_id(package_id)
        audit.record(actor, "packages.create", f"package:{package.id}", after=snapshot(package), reason=reason)
    return package


def _change(package_id: int, actor: Actor, action: str, reason: str | None, **values: Any) -> Package:
    with atomic():
        package = Package.get_or_none(Package.id == package_id)
        if package is None:
            raise NotFound(f"package #{package_id} not found")
        before = snapshot(package)
        Package.update(**values).where(Package.id == package_id).execute()
        package = Package.get_by_id(package_id)
        after = snapshot(package)
        diff = sorted(k for k in after if after[k] != before[k])
        if diff:
            audit.record(actor, action, f"package:{package_id}", before={k: before[k] for k in diff},
                         after={k: after[k] for k in diff}, reason=reason)
    return package


def edit(package_id: int, *, actor: Actor, stars: Any = None, tokens: Any = None, bonus_pct: Any = None,
         reason: str | None = None) -> Package:
    """Change a package's price, tokens or bonus %; invoices already sent keep their terms."""
    audit.authorize(actor, "packages.edit", f"package:{package_id}")
    terms = _terms(stars, tokens, bonus_pct)
    if not terms:
        raise InvalidInput("nothing to change: give stars, tokens or bonus %")
    return _change(package_id, actor, "packages.edit", reason, **terms)


def set_active(package_id: int, active: bool, *, actor: Actor, reason: str | None = None) -> Package:
    """Put a package on sale or take it off (an unpaid invoice for it then fails pre-checkout)."""
    audit.authorize(actor, "packages.edit", f"package:{package_id}")
    if not isinstance(active, bool):
        raise InvalidInput("active must be true or false")
    return _change(package_id, actor, "packages.activate" if active else "packages.deactivate", reason, active=active)


def reorder(package_ids: list[int], *, actor: Actor, reason: str | None = None) -> list[Package]:
    """Put every package in the given order (each id exactly once)."""
    audit.authorize(actor, "packages.edit", "packages")
    with atomic():
        current = {p.id: p.sort for p in Package.select(Package.id, Package.sort)}
        if sorted(package_ids) != sorted(current) or len(set(package_ids)) != len(package_ids):
            raise InvalidInput("reorder needs every package id exactly once")
        before = [pid for pid, _ in sorted(current.items(), key=lambda kv: (kv[1], kv[0]))]
        if before != list(package_ids):
            for position, package_id in enumerate(package_ids):
                Package.update(sort=(position + 1) * 10).where(Package.id == package_id).execute()
            audit.record(actor, "packages.reorder", "packages", before={"order": before},
                         after={"order": list(package_ids)}, reason=reason)
        return list(Package.select().order_by(Package.sort, Package.id))
