"""Fake Gemini API (``generateContent``), per providers.md §1 and §6.1.

Validates like the real API: key in ``x-goog-api-key`` or ``?key=`` (none → 403, wrong → 400
``API_KEY_INVALID``), path ``/v1|v1beta/models/{model}:generateContent``, known model ids (else 404),
proto-JSON body (bad JSON, unknown fields, missing ``contents``, bad parts, bad base64, bad
``imageConfig`` values → 400 ``INVALID_ARGUMENT``). Accepts camelCase and snake_case.

Default success: a thought text part, a thought image (red), a text part, and the final image (a new
colour per call, from ``next_colour``). Presets: see ``PRESETS``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply, tiny_image

KEY = "gm-fake-key-0123456789"
MODELS = {"gemini-2.5-flash-image", "gemini-3-pro-image", "gemini-3.1-flash-image", "gemini-3.1-flash-lite-image",
          "gemini-nano-banana-2.1"}
RETIRED = {"gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview", "gemini-2.5-flash-image-preview"}
RATIOS = {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "1:4", "4:1", "1:8", "8:1"}
SIZES = {"512", "1K", "2K", "4K"}
THOUGHT_COLOUR = (255, 0, 0)
TOP_FIELDS = {"contents", "generationConfig", "generation_config", "safetySettings", "safety_settings",
              "systemInstruction", "system_instruction", "tools", "toolConfig", "tool_config", "cachedContent",
              "cached_content"}
GEN_FIELDS = {"responseModalities", "response_modalities", "imageConfig", "image_config", "seed", "candidateCount",
              "candidate_count", "temperature", "topP", "top_p", "thinkingConfig", "thinking_config"}
PATH = re.compile(r"/(v1|v1beta)/models/([^/:]+):generateContent")


def g_error(code: int, status: str, message: str, details: list | None = None, headers: dict | None = None) -> Reply:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "status": status}}
    if details is not None:
        body["error"]["details"] = details
    return Reply(code, body, headers=headers or {})


def bad_key() -> Reply:
    return g_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
         "metadata": {"service": "generativelanguage.googleapis.com"}}])


def rate_limited(delay: str = "41s") -> Reply:
    return g_error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.", [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests", "quotaId": "PerMinute"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}])


def invalid(message: str) -> Reply:
    return g_error(400, "INVALID_ARGUMENT", message)


PRESETS = {
    "bad_key": bad_key,
    "rate_limited": rate_limited,
    "rate_limited_fast": lambda: rate_limited("0.01s"),
    "overloaded": lambda: g_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "internal": lambda: g_error(500, "INTERNAL", "An internal error has occurred."),
    "deadline": lambda: g_error(504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."),
    "permission_denied": lambda: g_error(403, "PERMISSION_DENIED", "Your API key was reported as leaked."),
    "failed_precondition": lambda: g_error(400, "FAILED_PRECONDITION", "User location is not supported for the API use without a billing account linked."),
    "not_found": lambda: g_error(404, "NOT_FOUND", "models/gemini-3-pro-image-preview is not found for API version v1beta"),
    "blocked_prompt": lambda: Reply(200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT",
                                                             "safetyRatings": []}}),
    "image_safety": lambda: Reply(200, {"candidates": [{"content": {"parts": [{"text": "I can't create that."}]},
                                                        "finishReason": "IMAGE_SAFETY", "index": 0}]}),
    "no_image": lambda: Reply(200, {"candidates": [{"content": {"parts": [{"text": "Here you go"}]},
                                                    "finishReason": "NO_IMAGE", "index": 0}]}),
    "text_only": lambda: Reply(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": "A poem instead."}]},
                                                     "finishReason": "STOP", "index": 0}]}),
    "empty": lambda: Reply(200, {"candidates": [{"content": {"parts": []}, "finishReason": "OTHER"}]}),
    "no_candidates": lambda: Reply(200, {"usageMetadata": {"promptTokenCount": 3}}),
    "malformed": lambda: Reply(200, '{"candidates": [{"content": ', content_type="application/json"),
    "html_502": lambda: Reply(502, "<html><body>Bad Gateway</body></html>", content_type="text/html"),
    "bad_base64": lambda: Reply(200, {"candidates": [{"content": {"parts": [
        {"inlineData": {"mimeType": "image/png", "data": "%%%not-base64%%%"}}]}, "finishReason": "STOP"}]}),
    "not_an_image": lambda: Reply(200, {"candidates": [{"content": {"parts": [
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(b"hello world").decode()}}]},
        "finishReason": "STOP"}]}),
    "hang": lambda: Reply(hang_s=30),
}


def _get(obj: dict, camel: str, snake: str) -> Any:
    return obj[camel] if camel in obj else obj.get(snake)


class GeminiFake(FakeServer):
    key = KEY

    def __init__(self) -> None:
        super().__init__()
        self._colours = itertools.count(1)

    def next_colour(self) -> tuple[int, int, int]:
        n = next(self._colours)
        return (0, (n * 40) % 256, (255 - n * 30) % 256)

    def success(self, *, snake: bool = False, thoughts: bool = True) -> Reply:
        def inline(data: bytes) -> dict:
            b64 = base64.b64encode(data).decode()
            return {"inline_data": {"mime_type": "image/png", "data": b64}} if snake else \
                {"inlineData": {"mimeType": "image/png", "data": b64}}

        parts: list[dict] = []
        if thoughts:
            parts += [{"text": "Drafting the layout...", "thought": True},
                      {**inline(tiny_image(THOUGHT_COLOUR)), "thought": True}]
        parts += [{"text": "Here is your scene."},
                  {**inline(tiny_image(self.next_colour())), ("thought_signature" if snake else "thoughtSignature"): "opaque"}]
        candidate = {"content": {"role": "model", "parts": parts}, ("finish_reason" if snake else "finishReason"): "STOP",
                     "index": 0}
        return Reply(200, {"candidates": [candidate], ("model_version" if snake else "modelVersion"): "fake",
                           ("response_id" if snake else "responseId"): "r1"})

    def handle(self, rec: Recorded) -> Reply:
        key = rec.header("x-goog-api-key") or (rec.query.get("key") or [None])[0]
        if not key:
            return g_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without "
                           "established identity). Please use API Key or other form of API consumer identity to call this API.")
        if key != self.key:
            return bad_key()
        if rec.method == "GET" and re.fullmatch(r"/(v1|v1beta)/models", rec.path):
            rec.route = "models"
            return Reply(200, {"models": [{"name": f"models/{m}"} for m in sorted(MODELS)][:1], "nextPageToken": "x"})
        m = PATH.fullmatch(rec.path)
        if rec.method != "POST" or not m:
            return g_error(404, "NOT_FOUND", f"Method not found: {rec.method} {rec.path}")
        rec.route = "generate"
        model = m.group(2)
        if model not in MODELS:
            return g_error(404, "NOT_FOUND", f"models/{model} is not found for API version {m.group(1)}, or is not "
                           "supported for generateContent.")
        problem = self.validate(rec)
        if problem:
            return invalid(problem)
        scripted = self.next_scripted()
        if isinstance(scripted, str):
            return PRESETS[scripted]()
        return scripted or self.success()

    @staticmethod
    def validate(rec: Recorded) -> str | None:
        try:
            body = rec.json
        except ValueError:
            return "Invalid JSON payload received. Unexpected token."
        if not isinstance(body, dict):
            return "Invalid JSON payload received. Expected an object."
        unknown = set(body) - TOP_FIELDS
        if unknown:
            return f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}": Cannot find field.'
        contents = body.get("contents")
        if not contents or not isinstance(contents, list):
            return "* GenerateContentRequest.contents: contents is not specified"
        for content in contents:
            parts = content.get("parts") if isinstance(content, dict) else None
            if not parts or not isinstance(parts, list):
                return "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty."
            for part in parts:
                if not isinstance(part, dict):
                    return "Invalid JSON payload received. part is not an object."
                inline = _get(part, "inlineData", "inline_data")
                if inline is not None:
                    mime, data = _get(inline, "mimeType", "mime_type"), inline.get("data")
                    if mime not in ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"):
                        return f"Unsupported MIME type: {mime}"
                    if not isinstance(data, str) or data.startswith("data:"):
                        return "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed"
                    try:
                        base64.b64decode(data, validate=True)
                    except (binascii.Error, ValueError):
                        return "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed"
                elif not isinstance(part.get("text"), str) and _get(part, "fileData", "file_data") is None:
                    return "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field"
        config = _get(body, "generationConfig", "generation_config") or {}
        if not isinstance(config, dict):
            return "Invalid JSON payload received. generationConfig is not an object."
        unknown = set(config) - GEN_FIELDS
        if unknown:
            return f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" at \'generation_config\': Cannot find field.'
        image_config = _get(config, "imageConfig", "image_config") or {}
        ratio = _get(image_config, "aspectRatio", "aspect_ratio")
        size = _get(image_config, "imageSize", "image_size")
        if ratio is not None and ratio not in RATIOS:
            return f"Unsupported aspect ratio: {ratio}"
        if size is not None and size not in SIZES:
            return f"Unsupported image size: {size}"
        return None
