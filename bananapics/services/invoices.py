"""Top-up packages, invoice intents and the pre-checkout decision.

"Top up" → :func:`packages` (active, in admin order) → :func:`create_intent` records what the user
is about to buy (an unguessable payload, the user, the package, its price and tokens frozen at that
moment, an expiry) and the bot sends an XTR invoice carrying the payload. When the user presses
Pay, Telegram asks the bot (``UpdateBotPrecheckoutQuery``) and gives it 10 s: :func:`precheckout`
is the whole decision, reads only, a couple of indexed lookups.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from bananapics.db import atomic, connection
from bananapics.errors import NotFound, UserBanned
from bananapics.models import InvoiceIntent, Package, User, utcnow
from bananapics.services import settings, toggles

CURRENCY = "XTR"
PAYLOAD_PREFIX = "bp1_"


@dataclass(frozen=True)
class Verdict:
    """``reason`` is None when the payment may go ahead, else one of ``unknown`` (no such
    invoice), ``foreign`` (someone else's), ``expired``, ``paid``, ``mismatch`` (currency or
    amount differ from the invoice), ``package_gone``, ``banned``."""

    reason: str | None
    language: str
    intent_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def packages() -> list[Package]:
    """Packages a user may buy, in the admin's order."""
    with connection():
        return list(Package.select().where(Package.active).order_by(Package.sort, Package.id))


def new_payload() -> str:
    """128 random bits, URL-safe: nobody can guess another user's invoice."""
    return PAYLOAD_PREFIX + secrets.token_urlsafe(16)


def create_intent(user_id: int, package_id: int, *, now: dt.datetime | None = None) -> InvoiceIntent:
    """Freeze a package's price for this user for ``payments.invoice_ttl_minutes``. Refused
    (FeatureOff) while an admin has top-ups switched off; an invoice sent before keeps its terms
    and still credits when paid."""
    toggles.require("topups")
    now = now or utcnow()
    ttl = int(settings.get("payments.invoice_ttl_minutes"))
    with atomic():
        user = User.get_or_none(User.id == user_id)
        if user is None:
            raise NotFound(f"user #{user_id} not found")
        if user.banned:
            raise UserBanned("this account is banned")
        package = Package.get_or_none((Package.id == package_id) & Package.active)
        if package is None:
            raise NotFound(f"package #{package_id} is not on sale", title="package_gone")
        intent_id = InvoiceIntent.insert(
            payload=new_payload(), user=user_id, package=package.id, stars=package.stars, tokens=package.tokens,
            bonus_tokens=package.bonus_tokens, status="open", expires_at=now + dt.timedelta(minutes=ttl),
            created_at=now,
        ).execute()
        return InvoiceIntent.get_by_id(intent_id)


def decode_payload(payload: bytes | str) -> str | None:
    """The payload as text, or None when it cannot be one of ours."""
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = bytes(payload).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not payload.startswith(PAYLOAD_PREFIX) or len(payload) > 64:
        return None
    return payload


def precheckout(tg_id: int, payload: bytes | str, currency: str, amount: int, *,
                now: dt.datetime | None = None, default_language: str = "uz") -> Verdict:
    """May this user pay this invoice now? Never raises for bad input: the reason says why not."""
    now = now or utcnow()
    with connection():
        payer = User.select(User.id, User.language, User.banned).where(User.tg_id == tg_id).first()
        language = payer.language if payer else default_language
        text = decode_payload(payload)
        if payer is None or text is None:
            return Verdict("unknown", language)
        if payer.banned:
            return Verdict("banned", language)
        intent = (InvoiceIntent.select(InvoiceIntent, Package.active)
                  .join(Package).where(InvoiceIntent.payload == text).first())
    if intent is None:
        return Verdict("unknown", language)
    if intent.user_id != payer.id:
        return Verdict("foreign", language)
    if intent.status == "paid":
        return Verdict("paid", language, intent.id)
    if intent.status == "expired" or intent.expires_at <= now:
        return Verdict("expired", language, intent.id)
    if currency != CURRENCY or amount != intent.stars:
        return Verdict("mismatch", language, intent.id)
    if not intent.package.active:
        return Verdict("package_gone", language, intent.id)
    return Verdict(None, language, intent.id)


def expire_intents(now: dt.datetime | None = None) -> int:
    """Mark open intents past their expiry (the sweeper calls this); a payment that was already
    approved still credits when it lands, since the charge id, not the intent, is the key."""
    with atomic():
        return (InvoiceIntent.update(status="expired")
                .where((InvoiceIntent.status == "open") & (InvoiceIntent.expires_at <= (now or utcnow())))
                .execute())


