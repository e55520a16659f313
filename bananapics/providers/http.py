"""Shared plumbing for the HTTP adapters: a time budget, bounded retries, response and image decoding.

Every adapter turns every failure into a :class:`ProviderError`. The mapping common to all of them:

=============================================  =================  ==========================================
What happened                                  kind               why
=============================================  =================  ==========================================
``httpx.TimeoutException`` (any phase), or     ``timeout``        no answer within ``providers.timeout_s``
the call's time budget is spent
any other ``httpx`` error (refused, reset,     ``provider_down``  the provider is unreachable or broke
DNS, protocol or decoding error, bad URL)                         the connection
a 2xx whose body is not JSON or not the        ``provider_down``  provider garbage: retrying may help, and
documented shape; image bytes that are not                        it is not the user's fault
base64 or not a decodable image
a 2xx with the right shape and no image        ``no_image``       (or ``moderation`` when it says why)
=============================================  =================  ==========================================

Each adapter adds its own table for HTTP statuses and error codes (see their module docstrings).

**Time budget.** ``providers.timeout_s`` (below the job lease) bounds one whole ``generate()`` call:
every attempt, retry wait, poll and download draws on the same :class:`Budget`, so a job never
outlives its lease because of retries.

**Retries** (:func:`call_with_retries`) happen only for retryable kinds (``rate_limited``,
``provider_down``, ``timeout``: the provider did not produce a billable image), at most
``max_retries`` times, waiting the provider's ``Retry-After`` / ``RetryInfo`` when it gave one and
``backoff_s · 2^n`` otherwise. A wait longer than ``max_retry_wait_s``, or one the budget cannot
afford, is not slept in-process: the typed error goes up with ``retry_after`` so the job queue
reschedules the job instead of holding a worker thread.

Keys are only ever put in request headers. :func:`scrub` removes a key from any provider text
before it goes into an error detail, in case a provider echoes it.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from PIL import Image, UnidentifiedImageError

from bananapics.config import ProvidersConfig
from bananapics.providers.base import CheckResult, ImageOut, ProviderError

log = logging.getLogger(__name__)

T = TypeVar("T")

CHECK_TIMEOUT_S = 15.0
MIN_ATTEMPT_S = 0.05  # don't start an attempt with less time left than this
CONNECT_TIMEOUT_S = 10.0
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
MIME_BY_FORMAT = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
EXT_BY_MIME = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class Budget:
    """A deadline shared by every network step of one ``generate()``/``check()`` call."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = seconds
        self.clock = clock
        self.deadline = clock() + seconds

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def timeout(self) -> httpx.Timeout:
        left = max(self.remaining(), 0.001)
        return httpx.Timeout(left, connect=min(left, CONNECT_TIMEOUT_S))


@dataclass
class RetryPolicy:
    max_retries: int = 2
    backoff_s: float = 1.0
    max_wait_s: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def call_with_retries(attempt: Callable[[], T], budget: Budget, policy: RetryPolicy, what: str) -> T:
    """Run ``attempt`` and retry it on retryable ProviderErrors, within the policy and the budget."""
    n = 0
    while True:
        try:
            return attempt()
        except ProviderError as exc:
            if not exc.retryable or n >= policy.max_retries:
                raise
            delay = exc.retry_after if exc.retry_after is not None else policy.backoff_s * (2**n)
            delay = max(delay, 0.0)
            if delay > policy.max_wait_s or delay + MIN_ATTEMPT_S >= budget.remaining():
                raise
            n += 1
            log.info("%s: %s, retry %d/%d in %.2fs", what, exc.kind, n, policy.max_retries, delay)
            policy.sleep(delay)


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def send(client: httpx.Client, method: str, url: str, budget: Budget, **kwargs: Any) -> httpx.Response:
    """One HTTP exchange within the budget; transport failures become typed errors."""
    if budget.remaining() < MIN_ATTEMPT_S:
        raise ProviderError("timeout", f"no time left of the {budget.total:g}s budget before calling {host_of(url)}")
    try:
        return client.request(method, url, timeout=budget.timeout(), **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderError("timeout", f"{host_of(url)} did not answer within {budget.total:g}s ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise ProviderError("provider_down", f"cannot reach {host_of(url)}: {type(exc).__name__}: {exc}"[:500]) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # undecodable body, bad configured URL, …
        raise ProviderError("provider_down", f"{host_of(url)}: {type(exc).__name__}: {exc}"[:500]) from None


def json_body(resp: httpx.Response, provider: str) -> Any:
    try:
        return resp.json()
    except ValueError:
        snippet = resp.text[:200].replace("\n", " ")
        raise ProviderError("provider_down", f"{provider}: HTTP {resp.status_code} with a body that is not JSON: {snippet!r}",
                            status=resp.status_code) from None


def error_json(resp: httpx.Response) -> dict[str, Any]:
    """The body of an error response as a dict, or {} (error bodies are often HTML from a proxy)."""
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after(resp: httpx.Response) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    raw_ms = resp.headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = resp.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def scrub(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def b64decode(value: Any, provider: str) -> bytes:
    """Decode standard or url-safe base64 (a ``data:`` prefix is tolerated)."""
    if not isinstance(value, str) or not value:
        raise ProviderError("provider_down", f"{provider}: image data is not a base64 string")
    if value.startswith("data:"):
        value = value.partition(",")[2]
    value = "".join(value.split())
    try:
        if "-" in value or "_" in value:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ProviderError("provider_down", f"{provider}: image data is not valid base64") from None


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{b64encode(data)}"


def image_out(data: bytes, provider: str) -> ImageOut:
    """Identify the bytes (header only, no full decode) and fill mime and size from what they are."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, (width, height) = im.format, im.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise ProviderError("provider_down", f"{provider}: returned {len(data)} bytes that are not an image") from None
    mime = MIME_BY_FORMAT.get(fmt or "")
    if mime is None:
        raise ProviderError("provider_down", f"{provider}: returned an image in unsupported format {fmt}")
    return ImageOut(data=data, mime=mime, width=width, height=height)


def download(client: httpx.Client, url: str, budget: Budget, provider: str) -> bytes:
    """Fetch an output image by URL (or decode a data URI). Never sends provider credentials."""
    if url.startswith("data:"):
        return b64decode(url, provider)
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProviderError("provider_down", f"{provider}: output URL has an unsupported scheme")
    resp = send(client, "GET", url, budget, follow_redirects=True)
    if resp.status_code != 200:
        raise ProviderError("provider_down", f"{provider}: downloading the output from {host_of(url)} gave HTTP {resp.status_code}",
                            status=resp.status_code)
    if len(resp.content) > MAX_DOWNLOAD_BYTES:
        raise ProviderError("provider_down", f"{provider}: output image is larger than {MAX_DOWNLOAD_BYTES} bytes")
    return resp.content


class HttpProvider:
    """What the HTTP adapters share: config, the caller's client, the retry policy, the key lookup."""

    name = ""
    key_field = ""  # the ProvidersConfig field holding this provider's key

    def __init__(self, config: ProvidersConfig, client: httpx.Client, *, max_retries: int = 2,
                 backoff_s: float = 1.0, max_retry_wait_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.client = client
        self.timeout_s = config.timeout_s
        self.policy = RetryPolicy(max_retries=max_retries, backoff_s=backoff_s, max_wait_s=max_retry_wait_s, sleep=sleep)

    def key(self) -> str:
        """The API key, from config only; a missing key is an ``auth`` error raised before any network call."""
        secret = getattr(self.config, self.key_field, None)
        value = secret.get_secret_value() if secret is not None else ""
        if not value:
            env = f"BANANAPICS_PROVIDERS__{self.key_field.upper()}"
            raise ProviderError("auth", f"{self.name}: API key is not configured (set {env} or {env}_FILE)")
        return value

    def key_present(self) -> bool:
        secret = getattr(self.config, self.key_field, None)
        return bool(secret is not None and secret.get_secret_value())

    def retrying(self, attempt: Callable[[], T], budget: Budget) -> T:
        return call_with_retries(attempt, budget, self.policy, self.name)

    def check(self) -> CheckResult:
        """Key present? Then one cheap live call (``probe``) against the configured base URL.

        A missing key makes no network call. The result never contains the key.
        """
        if not self.key_present():
            env = f"BANANAPICS_PROVIDERS__{self.key_field.upper()}"
            return CheckResult(self.name, key_present=False, ok=False, latency_ms=None, detail=f"key missing (set {env})")
        key = self.key()
        return timed_check(self.name, lambda budget: self.probe(budget, key), min(self.timeout_s, CHECK_TIMEOUT_S), key)

    def probe(self, budget: Budget, key: str) -> str:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError


def timed_check(provider: str, probe: Callable[[Budget], str], budget_s: float, *secrets: str | None) -> CheckResult:
    """Run a cheap live probe; the result never contains a key."""
    start = time.monotonic()
    budget = Budget(budget_s)
    try:
        detail = probe(budget)
        ok = True
    except ProviderError as exc:
        detail, ok = f"{exc.kind}: {exc.detail}", False
    latency_ms = (time.monotonic() - start) * 1000.0
    return CheckResult(provider=provider, key_present=True, ok=ok, latency_ms=latency_ms, detail=scrub(detail, *secrets)[:300])


def ratio_of(aspect_ratio: str | None) -> float:
    """``"16:9"`` → 1.777…; anything unparseable → 1.0."""
    if not aspect_ratio:
        return 1.0
    try:
        w, h = (float(x) for x in str(aspect_ratio).split(":", 1))
        return w / h if w > 0 and h > 0 else 1.0
    except ValueError:
        return 1.0


def size_for(aspect_ratio: str | None, total_pixels: int, multiple: int = 16) -> tuple[int, int]:
    """Width × height with the given ratio and at most ``total_pixels``, both sides a multiple of ``multiple``."""
    r = ratio_of(aspect_ratio)
    w = int((total_pixels * r) ** 0.5) // multiple * multiple
    h = int((total_pixels / r) ** 0.5) // multiple * multiple
    return max(w, multiple), max(h, multiple)
