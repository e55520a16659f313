"""Typed errors raised by BananaPics services.

Every front end (bot, CLI, TUI) catches :class:`BananaError` and shows ``msg``; the type alone
decides what happens next (retry, refund, tell the user). The tree names every error class of the
project, with the module that defines it when that is not this one (tests/test_layers.py checks it)::

    BananaError
    ├── ConfigError            malformed config file or value (file, key, reason)
    ├── NotFound               unknown user, transfer, model, package, charge …
    ├── InvalidInput           a value out of range, a missing reason, a bad role …
    │   ├── NoModels           every model is switched off: no wizard screen (services.drafts)
    │   └── ModelUnavailable   the model's circuit breaker is open: nothing held (services.breaker)
    ├── PermissionDenied       the actor's role does not allow the action
    ├── UserBanned             the user is banned
    ├── InsufficientTokens     available balance below the amount (carries both numbers)
    │   └── CashbackLocked     enough tokens, but part of them is fresh referral cashback
    ├── IdempotencyConflict    a key replayed with different content
    ├── ReferralRejected       a referral code that may not be attached (self, cycle, too late …)
    ├── InDebt                 a refund left the user owing tokens: no generation until repaid
    ├── PriceChanged           the request costs other than the price the user confirmed
    ├── AlreadyRefunded        the charge was refunded before
    ├── RefundBlocked          the user spent the tokens: a refund needs force (and leaves a debt)
    ├── PaymentMismatch        a Stars charge that matches no invoice of the payer
    ├── FeatureOff             an admin switched the feature off (templates, referrals, top-ups)
    ├── TooManyJobs            the user's parallel-job limit is reached (services.jobs)
    ├── StorageError           the storage backend failed or refused a key (storage)
    │   └── ObjectNotFound     no object under that key (storage)
    └── TelegramError          Telegram refused a call or could not be reached
        └── ChargeAlreadyRefunded   Telegram says CHARGE_ALREADY_REFUNDED
"""

from __future__ import annotations


class BananaError(Exception):
    """Base of every error a service raises on purpose."""

    code = "error"

    def __init__(self, msg: str, title: str = "") -> None:
        super().__init__(msg)
        self.msg = msg
        self.title = title

    def __str__(self) -> str:  # one line, no traceback noise
        return self.msg


class ConfigError(BananaError):
    code = "config"


class NotFound(BananaError):
    code = "not_found"


class InvalidInput(BananaError):
    code = "invalid"


class PermissionDenied(BananaError):
    code = "forbidden"


class UserBanned(BananaError):
    code = "banned"


class InsufficientTokens(BananaError):
    code = "insufficient"

    def __init__(self, available: int, needed: int) -> None:
        super().__init__(f"insufficient tokens: {available} available, {needed} needed")
        self.available = available
        self.needed = needed


class CashbackLocked(InsufficientTokens):
    """``available`` is what may be spent now: the rest is referral cashback younger than
    ``referral.cashback_lock_days``."""

    def __init__(self, available: int, needed: int, locked: int) -> None:
        super().__init__(available, needed)
        self.msg = (f"only {available} tokens can be spent now ({locked} are referral cashback still locked); "
                    f"{needed} needed")
        self.args = (self.msg,)
        self.title = "cashback_locked"
        self.locked = locked


class IdempotencyConflict(BananaError):
    code = "conflict"


class ReferralRejected(BananaError):
    code = "referral_rejected"


class InDebt(BananaError):
    code = "in_debt"

    def __init__(self, debt: int) -> None:
        super().__init__(f"a refunded payment left a debt of {debt} tokens: top up to repay it first", title="in_debt")
        self.debt = debt


class PriceChanged(BananaError):
    code = "price_changed"

    def __init__(self, shown: int, price: int) -> None:
        super().__init__(f"the price changed: {price} tokens, not the {shown} confirmed", title="price_changed")
        self.shown = shown
        self.price = price


class AlreadyRefunded(BananaError):
    code = "already_refunded"


class RefundBlocked(BananaError):
    code = "refund_blocked"

    def __init__(self, msg: str, *, available: int, needed: int) -> None:
        super().__init__(msg)
        self.available = available
        self.needed = needed


class PaymentMismatch(BananaError):
    code = "payment_mismatch"


class FeatureOff(BananaError):
    """``feature`` is the toggle's name (``templates``, ``referrals``, ``topups``); the title is
    ``feature_off`` so front ends show one "switched off" text."""

    code = "feature_off"

    def __init__(self, feature: str) -> None:
        super().__init__(f"{feature} is switched off right now", title="feature_off")
        self.feature = feature


class TelegramError(BananaError):
    """``error`` is Telegram's error name (``USER_ID_INVALID``) or a short network reason."""

    code = "telegram"

    def __init__(self, msg: str, error: str = "") -> None:
        super().__init__(msg)
        self.error = error or msg


class ChargeAlreadyRefunded(TelegramError):
    pass
