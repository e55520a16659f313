"""What every image provider adapter takes and returns.

Adapters are synchronous (Huey runs them in thread workers), receive an ``httpx.Client`` from the
caller (tests point it at fake servers through the base URL), never touch the database, and turn
every failure into a :class:`ProviderError` whose ``kind`` alone decides retry vs refund and the
words the user sees. A provider's raw error text goes to ``detail`` (job row and logs), never to
the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# kind → (retry with backoff?, refund when final?)
ERROR_KINDS: dict[str, bool] = {
    "moderation": False,     # the prompt or the output was blocked
    "bad_request": False,    # the provider refused the request as malformed or unsupported
    "auth": False,           # key missing, wrong or not allowed (an operator problem)
    "quota": False,          # out of credit / billing (an operator problem)
    "rate_limited": True,    # 429 with a delay: try again later
    "provider_down": True,   # 5xx, overloaded
    "timeout": True,         # no answer within the configured timeout
    "no_image": False,       # a 200 that carries no image (safety or the model declined)
}


@dataclass(frozen=True)
class ImageIn:
    """A reference image, already validated and re-encoded by ``bananapics.images``."""

    data: bytes
    mime: str  # image/png | image/jpeg | image/webp


@dataclass(frozen=True)
class ImageOut:
    data: bytes
    mime: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    provider_model: str
    # normalised by services.pricing: resolution / quality / aspect_ratio / format (when the model has
    # them), count (1-4), refs (number of references)
    settings: dict[str, Any]
    references: list[ImageIn] = field(default_factory=list)
    # stable per job: sent where the API supports it, used by `local` for determinism
    idempotency_key: str = ""

    @property
    def count(self) -> int:
        return int(self.settings.get("count", 1))


@dataclass(frozen=True)
class CheckResult:
    provider: str
    key_present: bool
    ok: bool
    latency_ms: float | None
    detail: str  # short, never contains the key


class ProviderError(Exception):
    """A typed provider failure. ``retry_after`` (seconds) when the provider said when to retry."""

    def __init__(self, kind: str, detail: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown provider error kind {kind!r}")
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail[:2000]
        self.retry_after = retry_after
        self.status = status

    @property
    def retryable(self) -> bool:
        return ERROR_KINDS[self.kind]


class Provider(Protocol):
    name: str

    def generate(self, request: GenerationRequest) -> list[ImageOut]:
        """Return 1..count images, or raise ProviderError. May return fewer than asked (partial)."""

    def check(self) -> CheckResult:
        """A cheap live call that proves the key and base URL work (never prints the key)."""
