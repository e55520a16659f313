"""Google Gemini API adapter (Nano Banana family): ``POST {base}/models/{model}:generateContent``.

Request: ``x-goog-api-key`` header (never ``?key=``, which would put the key in URLs and logs); one
user turn with the prompt as a text part and each reference as an ``inlineData`` part holding raw
base64 (no ``data:`` prefix); ``generationConfig.responseModalities = ["TEXT", "IMAGE"]`` and
``imageConfig.aspectRatio`` / ``imageConfig.imageSize`` (``imageSize`` is omitted for 1K, the default,
and for ``gemini-2.5-flash-image``, which is 1K only and rejects it).

**Count.** The API has no ``n``, and whether ``candidateCount > 1`` works for image models is not
verified (providers.md §1), so N images are N sequential calls, as the reference recommends.
Sequential keeps the per-minute quota predictable and lets a later failure still return the images
already made (a partial result). All N calls share the ``timeout_s`` budget.

Responses are read in both camelCase and snake_case. Parts with ``thought: true`` (interim
"thought images" of thinking models) are skipped; of the remaining image parts the last one is taken.

Error mapping:

==========================================================  ================  ========================
Answer                                                      kind              notes
==========================================================  ================  ========================
200, ``promptFeedback.blockReason`` set                     ``moderation``    prompt blocked
200, no image, finishReason SAFETY, PROHIBITED_CONTENT,     ``moderation``    output blocked
IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT, BLOCKLIST, SPII,
RECITATION, IMAGE_RECITATION
200, no image, any other finishReason (NO_IMAGE,            ``no_image``      model declined / text only
IMAGE_OTHER, OTHER, STOP with text only, …) or no candidates
200, body not JSON / not an object / bad base64             ``provider_down`` garbage
400 with ``API_KEY_INVALID`` (Gemini's bad key is a 400)    ``auth``
400 ``FAILED_PRECONDITION`` (billing / region)              ``quota``
other 400, 404 (unknown or retired model), other 4xx        ``bad_request``
401, 403 ``PERMISSION_DENIED``                              ``auth``
429 ``RESOURCE_EXHAUSTED``                                  ``rate_limited``  retry_after from
                                                                              ``RetryInfo.retryDelay``
500, 502, 503 ``UNAVAILABLE``                               ``provider_down`` retried
504 ``DEADLINE_EXCEEDED``                                   ``timeout``       retried
==========================================================  ================  ========================
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from bananapics.providers.base import GenerationRequest, ImageOut, ProviderError
from bananapics.providers.http import (
    Budget,
    HttpProvider,
    b64decode,
    b64encode,
    error_json,
    image_out,
    json_body,
    retry_after,
    scrub,
    send,
)

log = logging.getLogger(__name__)

MODERATION_FINISH = {
    "SAFETY", "PROHIBITED_CONTENT", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
    "RECITATION", "IMAGE_RECITATION",
}
ONE_K_ONLY = ("gemini-2.5-flash-image",)


def pick(obj: Any, camel: str, snake: str, default: Any = None) -> Any:
    """A field in either spelling (the REST surface is proto-JSON; proxies and SDK dumps use snake_case)."""
    if not isinstance(obj, dict):
        return default
    if camel in obj:
        return obj[camel]
    return obj.get(snake, default)


def parse_duration(value: Any) -> float | None:
    """A protobuf Duration as JSON: ``"41s"``, ``"0.5s"`` (or ``{"seconds": 41, "nanos": 0}``)."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return max(float(value[:-1]), 0.0)
        except ValueError:
            return None
    if isinstance(value, dict):
        try:
            return max(float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9, 0.0)
        except (TypeError, ValueError):
            return None
    return None


class GeminiProvider(HttpProvider):
    name = "gemini"
    key_field = "gemini_api_key"

    # ---- request -------------------------------------------------------------------------
    def url(self, model: str) -> str:
        model = model.removeprefix("models/")
        return f"{self.config.gemini_base_url.rstrip('/')}/models/{quote(model, safe='.-_')}:generateContent"

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [{"text": request.prompt}]
        for ref in request.references:
            parts.append({"inlineData": {"mimeType": ref.mime, "data": b64encode(ref.data)}})
        image_config: dict[str, Any] = {}
        settings = request.settings
        if settings.get("aspect_ratio"):
            image_config["aspectRatio"] = str(settings["aspect_ratio"])
        size = settings.get("resolution")
        model = request.provider_model.removeprefix("models/")
        if size and str(size) != "1K" and not model.startswith(ONE_K_ONLY):
            image_config["imageSize"] = str(size)
        generation_config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
        if image_config:
            generation_config["imageConfig"] = image_config
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": generation_config}

    def headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key, "Content-Type": "application/json"}

    # ---- generate ------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> list[ImageOut]:
        key = self.key()
        budget = Budget(self.timeout_s)
        url, body, headers = self.url(request.provider_model), self.body(request), self.headers(key)
        images: list[ImageOut] = []
        for n in range(max(request.count, 1)):
            try:
                image = self.retrying(lambda: self.once(url, body, headers, key, budget), budget)
            except ProviderError as exc:
                if not images:
                    raise
                log.warning("gemini: image %d of %d failed (%s), returning %d", n + 1, request.count, exc.kind, len(images))
                break
            images.append(image)
        return images

    def once(self, url: str, body: dict[str, Any], headers: dict[str, str], key: str, budget: Budget) -> ImageOut:
        resp = send(self.client, "POST", url, budget, json=body, headers=headers)
        if resp.status_code != 200:
            raise self.error(resp, key)
        return self.parse(json_body(resp, self.name))

    def parse(self, data: Any) -> ImageOut:
        if not isinstance(data, dict):
            raise ProviderError("provider_down", "gemini: 200 body is not a JSON object")
        feedback = pick(data, "promptFeedback", "prompt_feedback") or {}
        block = pick(feedback, "blockReason", "block_reason")
        candidates = data.get("candidates") or []
        if not isinstance(candidates, list):
            raise ProviderError("provider_down", "gemini: 'candidates' is not a list")
        if block and not candidates:
            message = pick(feedback, "blockReasonMessage", "block_reason_message") or ""
            raise ProviderError("moderation", f"gemini: prompt blocked ({block}) {message}".strip())
        reasons: list[str] = []
        texts: list[str] = []
        for candidate in candidates:
            if not isinstance(candidate, dict):
                raise ProviderError("provider_down", "gemini: a candidate is not an object")
            reasons.append(str(pick(candidate, "finishReason", "finish_reason") or ""))
            content = candidate.get("content") or {}
            parts = (content.get("parts") or []) if isinstance(content, dict) else []
            if not isinstance(parts, list):
                raise ProviderError("provider_down", "gemini: 'parts' is not a list")
            found: tuple[str, str] | None = None
            for part in parts:
                if not isinstance(part, dict) or part.get("thought") is True:
                    continue
                inline = pick(part, "inlineData", "inline_data")
                if isinstance(inline, dict):
                    found = (pick(inline, "data", "data"), pick(inline, "mimeType", "mime_type") or "")
                elif isinstance(part.get("text"), str):
                    texts.append(part["text"])
            if found is not None:
                return image_out(b64decode(found[0], self.name), self.name)
        reason = next((r for r in reasons if r), "")
        said = f": {' '.join(texts)[:300]}" if texts else ""
        if reason in MODERATION_FINISH:
            raise ProviderError("moderation", f"gemini: output blocked (finishReason {reason}){said}")
        if block:
            raise ProviderError("moderation", f"gemini: prompt blocked ({block})")
        what = f"finishReason {reason}" if reason else "no candidates"
        raise ProviderError("no_image", f"gemini: no image in the answer ({what}){said}")

    def error(self, resp, key: str) -> ProviderError:
        body = error_json(resp)
        err = body.get("error") if isinstance(body.get("error"), dict) else {}
        status = str(err.get("status") or "")
        message = scrub(str(err.get("message") or resp.text[:300]), key)
        details = err.get("details") if isinstance(err.get("details"), list) else []
        reasons = {str(d.get("reason")) for d in details if isinstance(d, dict) and d.get("reason")}
        delay = None
        for d in details:
            if isinstance(d, dict) and str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
                delay = parse_duration(pick(d, "retryDelay", "retry_delay"))
        if delay is None:
            delay = retry_after(resp)
        code = resp.status_code
        detail = f"gemini: HTTP {code} {status}: {message}".strip()
        if "API_KEY_INVALID" in reasons or (code == 400 and "API key not valid" in message):
            kind = "auth"
        elif code in (401, 403) or status in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
            kind = "auth"
        elif status == "FAILED_PRECONDITION":
            kind = "quota"
        elif code == 429 or status == "RESOURCE_EXHAUSTED":
            kind = "rate_limited"
        elif code == 504 or status == "DEADLINE_EXCEEDED":
            kind = "timeout"
        elif code >= 500:
            kind = "provider_down"
        elif code == 404:
            kind = "bad_request"
            detail = f"gemini: model not found (unknown or retired id; configure a current one): {message}"
        else:
            kind = "bad_request"
        return ProviderError(kind, detail, retry_after=delay if kind in ("rate_limited", "provider_down") else None,
                             status=code)

    # ---- check ---------------------------------------------------------------------------
    def probe(self, budget: Budget, key: str) -> str:
        """List one model: free, and proves the key and the base URL."""
        url = f"{self.config.gemini_base_url.rstrip('/')}/models"
        resp = send(self.client, "GET", url, budget, params={"pageSize": 1}, headers={"x-goog-api-key": key})
        if resp.status_code != 200:
            raise self.error(resp, key)
        json_body(resp, self.name)
        return "models list ok"
