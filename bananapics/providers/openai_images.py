"""OpenAI Images adapter (GPT Image): ``/images/generations`` (JSON) and ``/images/edits`` (multipart).

Without references the adapter posts JSON to ``{base}/images/generations``; with references it posts
``multipart/form-data`` to ``{base}/images/edits`` with one ``image[]`` file part per reference (the
SDK's bracket array format) and the other fields as text parts. ``Authorization: Bearer <key>``.

Settings: ``count`` → ``n`` (one call returns all N); ``quality`` → ``quality`` (low/medium/high,
omitted → the API's ``auto``); ``aspect_ratio`` → ``size`` from the three sizes every GPT image
model accepts (square ``1024x1024``, landscape ``1536x1024``, portrait ``1024x1536``; other ratios
go to the nearest orientation); ``format`` → ``output_format``. GPT image models always answer
``data[].b64_json``; a ``url`` item (not expected) is downloaded without credentials.

Error mapping (``error.code`` / ``error.type`` first, then the HTTP status):

=================================================  ================  ==================================
Answer                                             kind              notes
=================================================  ================  ==================================
400 ``moderation_blocked`` /                       ``moderation``    prompt or output rejected
``content_policy_violation``
other 400, 422                                     ``bad_request``
401 (``invalid_api_key`` or no key)                ``auth``
403 (``model_not_available``: org not verified)    ``auth``          an operator problem
404 (``model_not_found``, e.g. retired             ``bad_request``   detail names the model and says to
``gpt-image-1``)                                                     configure a current id
429 ``insufficient_quota`` (also 400               ``quota``         out of credit; not retried
``billing_hard_limit_reached``,
``billing_not_active``)
429 ``rate_limit_exceeded`` (and other 429)        ``rate_limited``  retry_after from ``retry-after-ms``
                                                                     / ``retry-after`` (or "try again
                                                                     in 12s" in the message)
500, 502, 503                                      ``provider_down`` retried
504                                                ``timeout``       retried
200, ``data`` empty or missing                     ``no_image``
200, not JSON / not an object / bad base64         ``provider_down`` garbage
=================================================  ================  ==================================
"""

from __future__ import annotations

import re
from typing import Any

from bananapics.providers.base import GenerationRequest, ImageOut, ProviderError
from bananapics.providers.http import (
    EXT_BY_MIME,
    Budget,
    HttpProvider,
    b64decode,
    download,
    error_json,
    image_out,
    json_body,
    ratio_of,
    retry_after,
    scrub,
    send,
)

MODERATION_CODES = {"moderation_blocked", "content_policy_violation"}
QUOTA_CODES = {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)


def size_for_ratio(aspect_ratio: str | None) -> str:
    r = ratio_of(aspect_ratio)
    if abs(r - 1.0) < 0.05:
        return "1024x1024"
    return "1536x1024" if r > 1 else "1024x1536"


class OpenAIImagesProvider(HttpProvider):
    name = "openai"
    key_field = "openai_api_key"

    def base(self) -> str:
        return self.config.openai_base_url.rstrip("/")

    def fields(self, request: GenerationRequest) -> dict[str, Any]:
        settings = request.settings
        out: dict[str, Any] = {"model": request.provider_model, "prompt": request.prompt,
                               "n": max(request.count, 1), "size": size_for_ratio(settings.get("aspect_ratio"))}
        if settings.get("quality"):
            out["quality"] = str(settings["quality"])
        if settings.get("format"):
            out["output_format"] = str(settings["format"])
        return out

    def generate(self, request: GenerationRequest) -> list[ImageOut]:
        key = self.key()
        budget = Budget(self.timeout_s)
        return self.retrying(lambda: self.once(request, key, budget), budget)

    def once(self, request: GenerationRequest, key: str, budget: Budget) -> list[ImageOut]:
        headers = {"Authorization": f"Bearer {key}"}
        fields = self.fields(request)
        if request.references:
            files = [("image[]", (f"ref{i + 1}.{EXT_BY_MIME.get(ref.mime, 'png')}", ref.data, ref.mime))
                     for i, ref in enumerate(request.references)]
            data = {k: str(v) for k, v in fields.items()}
            resp = send(self.client, "POST", f"{self.base()}/images/edits", budget, headers=headers, data=data, files=files)
        else:
            resp = send(self.client, "POST", f"{self.base()}/images/generations", budget, headers=headers, json=fields)
        if resp.status_code != 200:
            raise self.error(resp, key, request.provider_model)
        return self.parse(json_body(resp, self.name), budget)

    def parse(self, body: Any, budget: Budget) -> list[ImageOut]:
        if not isinstance(body, dict):
            raise ProviderError("provider_down", "openai: 200 body is not a JSON object")
        items = body.get("data")
        if items is None or items == []:
            raise ProviderError("no_image", "openai: the answer holds no image (empty data)")
        if not isinstance(items, list):
            raise ProviderError("provider_down", "openai: 'data' is not a list")
        images = []
        for item in items:
            if not isinstance(item, dict):
                raise ProviderError("provider_down", "openai: a data item is not an object")
            if item.get("b64_json"):
                images.append(image_out(b64decode(item["b64_json"], self.name), self.name))
            elif isinstance(item.get("url"), str):
                images.append(image_out(download(self.client, item["url"], budget, self.name), self.name))
        if not images:
            raise ProviderError("no_image", "openai: data items carry neither b64_json nor url")
        return images

    def error(self, resp, key: str, model: str = "") -> ProviderError:
        body = error_json(resp)
        err = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = str(err.get("code") or "")
        etype = str(err.get("type") or "")
        message = scrub(str(err.get("message") or resp.text[:300]), key)
        status = resp.status_code
        detail = f"openai: HTTP {status} {code or etype}: {message}"
        delay = retry_after(resp)
        if code in MODERATION_CODES or etype in MODERATION_CODES:
            kind = "moderation"
        elif status == 401 or code == "invalid_api_key":
            kind = "auth"
        elif code in QUOTA_CODES or etype in QUOTA_CODES:
            kind = "quota"
        elif status == 429:
            kind = "rate_limited"
            if delay is None and (m := TRY_AGAIN.search(message)):
                delay = float(m.group(1)) / (1000.0 if m.group(2).lower() == "ms" else 1.0)
        elif status == 403:
            kind = "auth"
        elif status == 404 or code == "model_not_found":
            kind = "bad_request"
            which = f"model {model!r}" if model else "model or endpoint"
            detail = (f"openai: {which} is not available (retired or unknown id; configure a current one "
                      f"such as gpt-image-1.5): {message}")
        elif status == 504:
            kind = "timeout"
        elif status >= 500:
            kind = "provider_down"
        else:
            kind = "bad_request"
        return ProviderError(kind, detail, retry_after=delay if kind in ("rate_limited", "provider_down") else None,
                             status=status)

    def probe(self, budget: Budget, key: str) -> str:
        """List models: free, and proves the key and the base URL."""
        resp = send(self.client, "GET", f"{self.base()}/models", budget, headers={"Authorization": f"Bearer {key}"})
        if resp.status_code != 200:
            raise self.error(resp, key)
        json_body(resp, self.name)
        return "models list ok"
