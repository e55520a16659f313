"""BytePlus ModelArk adapter (Seedream): ``POST {base}/images/generations`` with ``Authorization: Bearer``.

Request: ``model``, ``prompt``, ``size``, ``response_format``, ``watermark`` (always sent: Ark's
default is true; the constructor's ``watermark`` defaults to False), ``sequential_image_generation``
and, with references, ``image``: one data URI ``data:<mime>;base64,…`` as a string, or an array of
them for several references. ``X-Client-Request-Id`` carries the job's idempotency key for tracing.

``size``: with an ``aspect_ratio`` setting, an explicit ``"WxH"`` with the ratio and the pixel count of
the chosen resolution (1K = 1024², 2K = 2048², 4K = 4096²; sides multiples of 16, within Ark's
[1280×720, 4096×4096] range); without one, the ``1K``/``2K``/``4K`` preset (the model then picks the
ratio from the prompt).

**Count.** Ark has no ``n``. ``sequential_image_generation: "auto"`` lets the *model decide* how many
images (up to ``max_images``) and is meant for story-like series, so by default N images are N calls
with ``"disabled"``, exactly as providers.md §3 advises for N independent images. The constructor
flag ``sequential=True`` instead sends one call with ``"auto"`` and
``sequential_image_generation_options.max_images = N`` (references + N ≤ 15); it may return fewer.
A failure after some images returns those images (partial).

Output: ``data[].b64_json`` (the default ``response_format`` here: no second round trip, no 24 h URL
expiry) or ``data[].url``, downloaded with the same client and no credentials. A ``data[]`` item
holding ``error`` (one filtered image of a batch) is skipped.

Error mapping (``error.code`` first, then the HTTP status):

===============================================================  ================  ====================
Answer                                                           kind              notes
===============================================================  ================  ====================
400 ``*SensitiveContentDetected*`` (Input/Output, text/image)    ``moderation``
other 400 (``InvalidParameter``, ``MissingParameter``)           ``bad_request``
401 ``AuthenticationError`` / ``InvalidApiKey``                  ``auth``
403 ``AccountOverdueError``                                      ``quota``
403 other (``AccessDenied``, ``OperationDenied.*``)              ``auth``
404 ``ModelNotOpen``                                             ``auth``          activate the model
404 ``InvalidEndpointOrModel.NotFound`` and other 404            ``bad_request``   wrong model id
429 ``QuotaExceeded`` / ``SetLimitExceeded``                     ``quota``         hard caps, no retry
429 ``ServerOverloaded``                                         ``provider_down`` retried
other 429 (``ModelAccountIpmRateLimitExceeded``, …)              ``rate_limited``  Retry-After honoured
500, 502, 503                                                    ``provider_down`` retried
504                                                              ``timeout``       retried
200, every ``data[]`` item an error with a sensitive code        ``moderation``
200, no image                                                    ``no_image``
200, not JSON / not an object / bad base64 / URL download fails  ``provider_down`` garbage
===============================================================  ================  ====================
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from bananapics.config import ProvidersConfig
from bananapics.providers.base import GenerationRequest, ImageOut, ProviderError
from bananapics.providers.http import (
    Budget,
    HttpProvider,
    b64decode,
    data_uri,
    download,
    error_json,
    image_out,
    json_body,
    retry_after,
    scrub,
    send,
    size_for,
)

log = logging.getLogger(__name__)

PIXELS = {"1K": 1024 * 1024, "2K": 2048 * 2048, "4K": 4096 * 4096}
MIN_PIXELS = 1280 * 720
MAX_OUTPUTS_WITH_REFS = 15


def is_sensitive(code: str) -> bool:
    return "SensitiveContentDetected" in code


class SeedreamProvider(HttpProvider):
    name = "seedream"
    key_field = "ark_api_key"

    def __init__(self, config: ProvidersConfig, client: httpx.Client, *, watermark: bool = False,
                 sequential: bool = False, response_format: str = "b64_json", max_retries: int = 2,
                 backoff_s: float = 1.0, max_retry_wait_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(config, client, max_retries=max_retries, backoff_s=backoff_s,
                         max_retry_wait_s=max_retry_wait_s, sleep=sleep)
        if response_format not in ("b64_json", "url"):
            raise ValueError("response_format must be 'b64_json' or 'url'")
        self.watermark = watermark
        self.sequential = sequential
        self.response_format = response_format

    def url(self) -> str:
        return f"{self.config.ark_base_url.rstrip('/')}/images/generations"

    def size(self, settings: dict[str, Any]) -> str:
        resolution = str(settings.get("resolution") or "2K")
        if not settings.get("aspect_ratio") or resolution not in PIXELS:
            return resolution if resolution in PIXELS else "2K"
        w, h = size_for(settings["aspect_ratio"], max(PIXELS[resolution], MIN_PIXELS))
        if w * h < MIN_PIXELS:  # rounding down may fall just under the floor at 1K with extreme ratios
            w, h = size_for(settings["aspect_ratio"], PIXELS["2K"])
        return f"{w}x{h}"

    def body(self, request: GenerationRequest, images: int) -> dict[str, Any]:
        body: dict[str, Any] = {"model": request.provider_model, "prompt": request.prompt,
                                "size": self.size(request.settings), "response_format": self.response_format,
                                "watermark": self.watermark}
        refs = [data_uri(ref.data, ref.mime) for ref in request.references]
        if len(refs) == 1:
            body["image"] = refs[0]
        elif refs:
            body["image"] = refs
        if images > 1:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": images}
        else:
            body["sequential_image_generation"] = "disabled"
        return body

    def generate(self, request: GenerationRequest) -> list[ImageOut]:
        key = self.key()
        budget = Budget(self.timeout_s)
        count = max(request.count, 1)
        if self.sequential and count > 1:
            per_call = min(count, MAX_OUTPUTS_WITH_REFS - len(request.references))
            body = self.body(request, max(per_call, 1))
            return self.retrying(lambda: self.once(body, key, request.idempotency_key, budget), budget)[:count]
        body = self.body(request, 1)
        images: list[ImageOut] = []
        for n in range(count):
            trace = f"{request.idempotency_key}-{n}" if request.idempotency_key else ""
            try:
                images.extend(self.retrying(lambda: self.once(body, key, trace, budget), budget)[:1])
            except ProviderError as exc:
                if not images:
                    raise
                log.warning("seedream: image %d of %d failed (%s), returning %d", n + 1, count, exc.kind, len(images))
                break
        return images

    def once(self, body: dict[str, Any], key: str, trace: str, budget: Budget) -> list[ImageOut]:
        headers = {"Authorization": f"Bearer {key}"}
        if trace:
            headers["X-Client-Request-Id"] = trace
        resp = send(self.client, "POST", self.url(), budget, json=body, headers=headers)
        if resp.status_code != 200:
            raise self.error(resp, key)
        return self.parse(json_body(resp, self.name), budget)

    def parse(self, body: Any, budget: Budget) -> list[ImageOut]:
        if not isinstance(body, dict):
            raise ProviderError("provider_down", "seedream: 200 body is not a JSON object")
        if isinstance(body.get("error"), dict) and not body.get("data"):
            err = body["error"]
            code = str(err.get("code") or "")
            kind = "moderation" if is_sensitive(code) else "no_image"
            raise ProviderError(kind, f"seedream: {code}: {err.get('message', '')}")
        items = body.get("data") or []
        if not isinstance(items, list):
            raise ProviderError("provider_down", "seedream: 'data' is not a list")
        images: list[ImageOut] = []
        errors: list[str] = []
        for item in items:
            if not isinstance(item, dict):
                raise ProviderError("provider_down", "seedream: a data item is not an object")
            if item.get("b64_json"):
                images.append(image_out(b64decode(item["b64_json"], self.name), self.name))
            elif isinstance(item.get("url"), str) and item["url"]:
                images.append(image_out(download(self.client, item["url"], budget, self.name), self.name))
            elif isinstance(item.get("error"), dict):
                errors.append(str(item["error"].get("code") or "error"))
        if images:
            return images
        if errors and all(is_sensitive(code) for code in errors):
            raise ProviderError("moderation", f"seedream: every output was filtered ({', '.join(errors)})")
        why = f" ({', '.join(errors)})" if errors else ""
        raise ProviderError("no_image", f"seedream: the answer holds no image{why}")

    def error(self, resp, key: str) -> ProviderError:
        body = error_json(resp)
        err = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = str(err.get("code") or "")
        message = scrub(str(err.get("message") or resp.text[:300]), key)
        status = resp.status_code
        detail = f"seedream: HTTP {status} {code}: {message}"
        if is_sensitive(code):
            kind = "moderation"
        elif status == 401 or code in ("AuthenticationError", "InvalidApiKey"):
            kind = "auth"
        elif code in ("AccountOverdueError", "QuotaExceeded", "SetLimitExceeded"):
            kind = "quota"
        elif status == 403 or code == "ModelNotOpen":
            kind = "auth"
        elif code == "ServerOverloaded":
            kind = "provider_down"
        elif status == 429:
            kind = "rate_limited"
        elif status == 504:
            kind = "timeout"
        elif status >= 500:
            kind = "provider_down"
        elif status == 404:
            kind = "bad_request"
            detail = f"seedream: model or endpoint not found (wrong id?): {code}: {message}"
        else:
            kind = "bad_request"
        delay = retry_after(resp) if kind in ("rate_limited", "provider_down") else None
        return ProviderError(kind, detail, retry_after=delay, status=status)

    def probe(self, budget: Budget, key: str) -> str:
        """Ark has no free listing call: post an empty body. The key is checked first (401 when
        wrong); a valid key gets 400 ``MissingParameter`` without generating (or billing) anything."""
        resp = send(self.client, "POST", self.url(), budget, json={}, headers={"Authorization": f"Bearer {key}"})
        if resp.status_code == 200:
            raise ProviderError("provider_down", "seedream: the probe unexpectedly succeeded")
        err = error_json(resp).get("error")
        code = str(err.get("code") or "") if isinstance(err, dict) else ""
        if resp.status_code == 400 and code in ("MissingParameter", "InvalidParameter"):
            return "key accepted"
        raise self.error(resp, key)
