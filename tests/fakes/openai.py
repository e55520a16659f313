"""Fake OpenAI Images API, per providers.md §2 and §6.2.

``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits`` (multipart with repeated
``image[]`` file parts, or a single ``image``), ``GET /v1/models``. Validates like the real API:
``Authorization: Bearer`` (missing or wrong → 401), JSON/multipart content types, required
``prompt``/``image``, unknown parameters, enum values of ``size``/``quality``/``output_format``,
``n`` 1–10, image MIME types; retired ids (``gpt-image-1``, ``dall-e-*``) → 404 ``model_not_found``.
Success always answers ``data[].b64_json`` (in the requested ``output_format``) plus ``usage``.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply, tiny_image

KEY = "sk-fake-openai-0123456789abcdef"
MODELS = {"gpt-image-1.5", "gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-1-mini",
          "chatgpt-image-latest"}
RETIRED = {"gpt-image-1", "dall-e-2", "dall-e-3"}
SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
QUALITIES = {"low", "medium", "high", "auto"}
FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
GEN_FIELDS = {"model", "prompt", "n", "size", "quality", "background", "output_format", "output_compression",
              "moderation", "safety_identifier", "user", "stream", "partial_images"}
EDIT_FIELDS = {"model", "prompt", "n", "size", "quality", "background", "output_format", "output_compression",
               "input_fidelity", "mask", "image", "image[]", "safety_identifier", "user", "stream", "partial_images"}


def o_error(status: int, message: str, etype: str, code: str | None, param: str | None = None,
            headers: dict | None = None, **extra: Any) -> Reply:
    return Reply(status, {"error": {"message": message, "type": etype, "param": param, "code": code, **extra}},
                 headers=headers or {})


def invalid(message: str, param: str | None = None, code: str = "invalid_value") -> Reply:
    return o_error(400, message, "invalid_request_error", code, param)


PRESETS = {
    "moderation_blocked": lambda: o_error(
        400, "Your request was rejected by the safety system. safety_violations=[sexual].",
        "image_generation_user_error", "moderation_blocked",
        moderation_details={"moderation_stage": "input", "categories": ["sexual"]}),
    "content_policy_violation": lambda: o_error(400, "Your request was rejected as a result of our safety system.",
                                                "invalid_request_error", "content_policy_violation"),
    "invalid_api_key": lambda: o_error(401, "Incorrect API key provided: sk-fake***cdef. You can find your API key "
                                            "at https://platform.openai.com/account/api-keys.",
                                       "invalid_request_error", "invalid_api_key"),
    "org_verification": lambda: o_error(403, "Your organization must be verified to use the model `gpt-image-2`.",
                                        "invalid_request_error", "model_not_available"),
    "rate_limited": lambda: o_error(429, "Rate limit reached for gpt-image-2 on images per minute (IPM): Limit 5, "
                                         "Used 5, Requested 1. Please try again in 12s.", "requests",
                                    "rate_limit_exceeded", headers={"retry-after": "12"}),
    "rate_limited_fast": lambda: o_error(429, "Rate limit reached. Please try again in 10ms.", "requests",
                                         "rate_limit_exceeded", headers={"retry-after-ms": "10"}),
    "insufficient_quota": lambda: o_error(429, "You exceeded your current quota, please check your plan and billing "
                                               "details.", "insufficient_quota", "insufficient_quota"),
    "server_error": lambda: o_error(500, "The server had an error while processing your request.", "server_error", None),
    "overloaded": lambda: o_error(503, "The engine is currently overloaded, please try again later.", "server_error", None),
    "model_not_found": lambda: o_error(404, "The model `gpt-image-1` does not exist or you do not have access to it.",
                                       "invalid_request_error", "model_not_found"),
    "malformed": lambda: Reply(200, '{"created": 1764000000, "data": [', content_type="application/json"),
    "empty": lambda: Reply(200, {"created": 1764000000, "data": [], "usage": {"total_tokens": 0}}),
    "hang": lambda: Reply(hang_s=30),
}


class OpenAIFake(FakeServer):
    key = KEY

    def __init__(self) -> None:
        super().__init__()
        self._colours = itertools.count(1)

    def next_colour(self) -> tuple[int, int, int]:
        n = next(self._colours)
        return ((n * 50) % 256, 200, (n * 20) % 256)

    def success(self, n: int, output_format: str = "png", size: str = "1024x1024") -> Reply:
        data = [{"b64_json": base64.b64encode(tiny_image(self.next_colour(), FORMATS[output_format])).decode()}
                for _ in range(n)]
        return Reply(200, {"created": 1764000000, "background": "opaque", "output_format": output_format,
                           "quality": "medium", "size": size, "data": data,
                           "usage": {"input_tokens": 50, "output_tokens": 1056 * n, "total_tokens": 50 + 1056 * n,
                                     "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
                                     "output_tokens_details": {"text_tokens": 0, "image_tokens": 1056 * n}}})

    def handle(self, rec: Recorded) -> Reply:
        auth = rec.header("authorization") or ""
        if not auth:
            return o_error(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                                "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                           "invalid_request_error", None)
        if auth != f"Bearer {self.key}":
            return PRESETS["invalid_api_key"]()
        if rec.method == "GET" and rec.path == "/v1/models":
            rec.route = "models"
            return Reply(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in sorted(MODELS)]})
        if rec.method == "POST" and rec.path == "/v1/images/generations":
            rec.route = "generations"
            fields, problem = self.parse_generations(rec)
        elif rec.method == "POST" and rec.path == "/v1/images/edits":
            rec.route = "edits"
            fields, problem = self.parse_edits(rec)
        else:
            return o_error(404, f"Invalid URL ({rec.method} {rec.path})", "invalid_request_error", None)
        if problem is not None:
            return problem
        model = fields.get("model") or "gpt-image-1.5"
        if model in RETIRED:
            return o_error(404, f"The model `{model}` does not exist or you do not have access to it.",
                           "invalid_request_error", "model_not_found")
        if model not in MODELS:
            return invalid(f"Invalid value: '{model}'. Supported values are: {', '.join(sorted(MODELS))}.", "model")
        problem = self.check_values(fields)
        if problem is not None:
            return problem
        scripted = self.next_scripted()
        if isinstance(scripted, str):
            return PRESETS[scripted]()
        return scripted or self.success(int(fields.get("n") or 1), fields.get("output_format") or "png",
                                        fields.get("size") or "1024x1024")

    @staticmethod
    def parse_generations(rec: Recorded) -> tuple[dict, Reply | None]:
        if not (rec.header("content-type") or "").startswith("application/json"):
            return {}, invalid("Invalid Content-Type header, expected application/json.", None, "invalid_content_type")
        try:
            body = rec.json
        except ValueError:
            return {}, invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                               "using your HTTP library correctly.)", None, "invalid_json")
        if not isinstance(body, dict):
            return {}, invalid("The request body must be a JSON object.", None, "invalid_json")
        unknown = set(body) - GEN_FIELDS
        if unknown:
            name = sorted(unknown)[0]
            return {}, invalid(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        if not body.get("prompt"):
            return {}, invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        return body, None

    @staticmethod
    def parse_edits(rec: Recorded) -> tuple[dict, Reply | None]:
        if not (rec.header("content-type") or "").startswith("multipart/form-data"):
            return {}, invalid("Invalid Content-Type header, expected multipart/form-data.", None, "invalid_content_type")
        try:
            parts = rec.parts
        except ValueError:
            return {}, invalid("Could not parse multipart form.", None, "invalid_multipart")
        fields: dict[str, Any] = {}
        images = []
        for part in parts:
            if part.name not in EDIT_FIELDS:
                return {}, invalid(f"Unknown parameter: '{part.name}'.", part.name, "unknown_parameter")
            if part.name in ("image", "image[]"):
                if part.filename is None:
                    return {}, invalid(f"Invalid type for '{part.name}': expected a file.", part.name, "invalid_type")
                if part.content_type not in ("image/png", "image/jpeg", "image/webp"):
                    return {}, invalid(f"Invalid file '{part.name}': unsupported mimetype ('{part.content_type}'). "
                                       "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
                                       part.name, "unsupported_file")
                images.append(part)
            else:
                fields[part.name] = part.text
        if not fields.get("prompt"):
            return {}, invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        if not images:
            return {}, invalid("Missing required parameter: 'image'.", "image", "missing_required_parameter")
        if len(images) > 16:
            return {}, invalid("Too many images: at most 16.", "image", "invalid_value")
        fields["_images"] = images
        return fields, None

    @staticmethod
    def check_values(fields: dict) -> Reply | None:
        try:
            n = int(fields.get("n", 1))
        except (TypeError, ValueError):
            return invalid(f"Invalid type for 'n': expected an integer, but got {fields.get('n')!r}.", "n", "invalid_type")
        if not 1 <= n <= 10:
            return invalid(f"Invalid 'n': integer between 1 and 10 expected, got {n}.", "n", "integer_out_of_range")
        for name, allowed in (("size", SIZES), ("quality", QUALITIES), ("output_format", set(FORMATS))):
            value = fields.get(name)
            if value is not None and value not in allowed:
                return invalid(f"Invalid value: '{value}'. Supported values are: {', '.join(sorted(allowed))}.", name)
        return None
