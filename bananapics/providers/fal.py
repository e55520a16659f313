"""fal.ai adapter: the queue protocol (submit → poll status → fetch result), ``Authorization: Key …``.

``provider_model`` is a fal endpoint path for text-to-image (``fal-ai/nano-banana-pro``,
``fal-ai/bytedance/seedream/v4/text-to-image``, ``fal-ai/gpt-image-1.5``…). With references the
adapter uses the family's edit endpoint: ``…/text-to-image`` → ``…/edit`` (``…/edit-image`` for
``gpt-image-1``), anything else → ``…/edit``; a path already ending in ``/edit`` is kept.

1. ``POST {base}/{path}`` with the model input as the JSON body (no wrapper) → ``request_id`` and
   ``status_url`` / ``response_url`` / ``cancel_url``. The returned URLs are followed only when they
   are on the configured base URL's host (the key is never sent elsewhere); otherwise they are built
   from ``owner/app`` (the first two path segments), as fal does.
2. ``GET status_url`` every ``poll_interval_s``: 202 ``IN_QUEUE``/``IN_PROGRESS``, then 200
   ``COMPLETED``. When the ``timeout_s`` budget runs out the request is cancelled (``PUT cancel_url``,
   best effort) and ``timeout`` is raised.
3. ``GET response_url`` → the model output ``{"images": [{"url": …}, …]}``; each image URL is
   downloaded without credentials (a ``data:`` URI is decoded).

Input per family: ``prompt``, ``num_images`` (= count, one request) and ``image_urls`` (references
as ``data:`` URIs; fal documents URLs, data URIs are assumed accepted, see providers.md §7). Nano
Banana: ``aspect_ratio``, ``output_format``, ``resolution`` (Pro and 2 only). Seedream:
``image_size: {width, height}``. GPT Image: ``image_size`` (``1024x1024``/``1536x1024``/``1024x1536``),
``quality``, ``output_format``.

Submit and status polls are retried on retryable failures (nothing is generated twice: a failed
submit was not queued). The result fetch is retried only on transport failures: its HTTP error *is*
the request's outcome and would only repeat.

Error mapping (any of the three calls):

=======================================================  ================  ============================
Answer                                                   kind              notes
=======================================================  ================  ============================
422 with ``detail[].type == "content_policy_violation"``  ``moderation``   not retryable
other 400, 404 (unknown endpoint), 422 (validation)      ``bad_request``
401                                                      ``auth``
403 mentioning balance / billing / locked                ``quota``         exhausted balance (assumed)
other 403                                                ``auth``
429                                                      ``rate_limited``  Retry-After honoured
504 or ``error_type`` request_timeout/startup_timeout    ``timeout``
other 5xx (runner_scheduling_failure, …)                 ``provider_down``
200 result with no images                                ``no_image``
200 result whose images are all ``has_nsfw_concepts``    ``moderation``
a body that is not JSON / not the documented shape       ``provider_down`` garbage
=======================================================  ================  ============================
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from bananapics.config import ProvidersConfig
from bananapics.providers.base import GenerationRequest, ImageOut, ProviderError
from bananapics.providers.http import (
    Budget,
    HttpProvider,
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
from bananapics.providers.openai_images import size_for_ratio

log = logging.getLogger(__name__)

PIXELS = {"1K": 1024 * 1024, "2K": 2048 * 2048, "4K": 4096 * 4096}
TIMEOUT_TYPES = {"request_timeout", "startup_timeout"}
PROBE_ID = "00000000-0000-0000-0000-000000000000"


def edit_path(model: str) -> str:
    if model.endswith(("/edit", "/edit-image")):
        return model
    if model.endswith("/text-to-image"):
        base = model.removesuffix("/text-to-image")
        return base + ("/edit-image" if base.endswith("gpt-image-1") else "/edit")
    return model + "/edit"


def app_of(path: str) -> str:
    """``owner/app`` of an endpoint path: the queue's status/result/cancel URLs use only these."""
    return "/".join(path.strip("/").split("/")[:2])


class FalProvider(HttpProvider):
    name = "fal"
    key_field = "fal_api_key"

    def __init__(self, config: ProvidersConfig, client: httpx.Client, *, poll_interval_s: float = 1.0,
                 max_retries: int = 2, backoff_s: float = 1.0, max_retry_wait_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(config, client, max_retries=max_retries, backoff_s=backoff_s,
                         max_retry_wait_s=max_retry_wait_s, sleep=sleep)
        self.poll_interval_s = poll_interval_s

    def base(self) -> str:
        return self.config.fal_base_url.rstrip("/")

    def input(self, request: GenerationRequest) -> dict[str, Any]:
        model, settings = request.provider_model, request.settings
        body: dict[str, Any] = {"prompt": request.prompt, "num_images": max(request.count, 1)}
        fmt = settings.get("format")
        if "seedream" in model:
            pixels = PIXELS.get(str(settings.get("resolution") or "2K"), PIXELS["2K"])
            w, h = size_for(settings.get("aspect_ratio"), max(pixels, 960 * 960))
            body["image_size"] = {"width": w, "height": h}
        elif "gpt-image" in model:
            body["image_size"] = size_for_ratio(settings.get("aspect_ratio"))
            if settings.get("quality"):
                body["quality"] = str(settings["quality"])
            if fmt:
                body["output_format"] = str(fmt)
        else:
            if settings.get("aspect_ratio"):
                body["aspect_ratio"] = str(settings["aspect_ratio"])
            if fmt in ("jpeg", "png", "webp"):
                body["output_format"] = fmt
            if settings.get("resolution") and ("pro" in model or "nano-banana-2" in model):
                body["resolution"] = str(settings["resolution"])
        if request.references:
            body["image_urls"] = [data_uri(ref.data, ref.mime) for ref in request.references]
        return body

    # ---- generate ------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> list[ImageOut]:
        key = self.key()
        budget = Budget(self.timeout_s)
        headers = {"Authorization": f"Key {key}"}
        path = edit_path(request.provider_model) if request.references else request.provider_model
        submitted = self.retrying(lambda: self.submit(path, self.input(request), headers, key, budget), budget)
        status_url, response_url, cancel_url = self.queue_urls(path, submitted)
        try:
            self.wait(status_url, headers, key, budget)
        except ProviderError as exc:
            if exc.kind == "timeout":
                self.cancel(cancel_url, headers)
            raise
        resp = self.retrying(lambda: send(self.client, "GET", response_url, budget, headers=headers), budget)
        if resp.status_code != 200:
            raise self.error(resp, key)
        return self.parse(json_body(resp, self.name), budget)

    def submit(self, path: str, body: dict[str, Any], headers: dict[str, str], key: str, budget: Budget) -> dict[str, Any]:
        resp = send(self.client, "POST", f"{self.base()}/{path}", budget, json=body, headers=headers)
        if resp.status_code not in (200, 201, 202):
            raise self.error(resp, key)
        data = json_body(resp, self.name)
        if not isinstance(data, dict) or not isinstance(data.get("request_id"), str) or not data["request_id"]:
            raise ProviderError("provider_down", "fal: submit answer has no request_id")
        return data

    def queue_urls(self, path: str, submitted: dict[str, Any]) -> tuple[str, str, str]:
        own = f"{self.base()}/{app_of(path)}/requests/{submitted['request_id']}"
        ours = urlsplit(self.base()).netloc

        def pick(field: str, default: str) -> str:
            url = submitted.get(field)
            return url if isinstance(url, str) and urlsplit(url).netloc == ours else default

        return pick("status_url", own + "/status"), pick("response_url", own), pick("cancel_url", own + "/cancel")

    def wait(self, status_url: str, headers: dict[str, str], key: str, budget: Budget) -> None:
        while True:
            data = self.retrying(lambda: self.status(status_url, headers, key, budget), budget)
            status = data.get("status")
            if status == "COMPLETED":
                return
            if status not in ("IN_QUEUE", "IN_PROGRESS"):
                raise ProviderError("provider_down", f"fal: unexpected queue status {str(status)[:50]!r}")
            left = budget.remaining()
            if left <= self.poll_interval_s:
                raise ProviderError("timeout", f"fal: still {status} after {budget.total:g}s")
            time.sleep(self.poll_interval_s)

    def status(self, status_url: str, headers: dict[str, str], key: str, budget: Budget) -> dict[str, Any]:
        resp = send(self.client, "GET", status_url, budget, headers=headers)
        if resp.status_code not in (200, 202):
            raise self.error(resp, key)
        data = json_body(resp, self.name)
        if not isinstance(data, dict):
            raise ProviderError("provider_down", "fal: status answer is not an object")
        return data

    def cancel(self, cancel_url: str, headers: dict[str, str]) -> None:
        try:
            send(self.client, "PUT", cancel_url, Budget(2.0), headers=headers)
        except ProviderError as exc:
            log.info("fal: cancel failed (%s)", exc.kind)

    def parse(self, body: Any, budget: Budget) -> list[ImageOut]:
        if not isinstance(body, dict):
            raise ProviderError("provider_down", "fal: result is not a JSON object")
        items = body.get("images")
        if items is None and isinstance(body.get("image"), dict):
            items = [body["image"]]
        if not items:
            raise ProviderError("no_image", "fal: the result holds no image")
        if not isinstance(items, list):
            raise ProviderError("provider_down", "fal: 'images' is not a list")
        flags = body.get("has_nsfw_concepts")
        flags = flags if isinstance(flags, list) else []
        images: list[ImageOut] = []
        for n, item in enumerate(items):
            if n < len(flags) and flags[n] is True:
                continue
            url = item.get("url") if isinstance(item, dict) else None
            if not isinstance(url, str) or not url:
                raise ProviderError("provider_down", "fal: an image item has no url")
            images.append(image_out(download(self.client, url, budget, self.name), self.name))
        if not images:
            raise ProviderError("moderation", "fal: every output was flagged by the safety checker")
        return images

    def error(self, resp, key: str) -> ProviderError:
        body = error_json(resp)
        raw = body.get("detail")
        types: set[str] = set()
        if isinstance(raw, list):
            types = {str(d.get("type")) for d in raw if isinstance(d, dict)}
            message = "; ".join(str(d.get("msg", "")) for d in raw if isinstance(d, dict))
        else:
            message = str(raw if raw is not None else resp.text[:300])
        error_type = str(body.get("error_type") or resp.headers.get("x-fal-error-type") or "")
        message = scrub(message, key)
        status = resp.status_code
        detail = f"fal: HTTP {status} {error_type or ','.join(sorted(types))}: {message}"
        lowered = message.lower()
        if "content_policy_violation" in types:
            kind = "moderation"
        elif status == 401:
            kind = "auth"
        elif status == 403:
            kind = "quota" if any(w in lowered for w in ("balance", "billing", "locked")) else "auth"
        elif status == 429:
            kind = "rate_limited"
        elif status == 504 or error_type in TIMEOUT_TYPES:
            kind = "timeout"
        elif status >= 500:
            kind = "provider_down"
        else:
            kind = "bad_request"
        delay = retry_after(resp) if kind in ("rate_limited", "provider_down") else None
        return ProviderError(kind, detail, retry_after=delay, status=status)

    def probe(self, budget: Budget, key: str) -> str:
        """fal has no free listing call on the queue host: ask for the status of a request id that
        does not exist. A wrong key gets 401/403; a valid one gets a 4xx for the unknown request."""
        url = f"{self.base()}/fal-ai/nano-banana/requests/{PROBE_ID}/status"
        resp = send(self.client, "GET", url, budget, headers={"Authorization": f"Key {key}"})
        if resp.status_code in (401, 403) or resp.status_code >= 500:
            raise self.error(resp, key)
        return f"key accepted (probe answered HTTP {resp.status_code})"
