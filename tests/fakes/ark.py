"""Fake BytePlus ModelArk images API (Seedream), per providers.md §3 and §6.3.

``POST /api/v3/images/generations`` with ``Authorization: Bearer`` (checked first: missing or wrong →
401 ``AuthenticationError``), then the body: JSON object, ``model`` (missing → 400
``MissingParameter``, unknown → 404 ``InvalidEndpointOrModel.NotFound``), ``prompt``, ``image`` (a
string or an array of URLs / ``data:image/<fmt>;base64,…``; ≤ 10 for 4.0), ``size`` (preset or WxH in
[1280×720, 4096×4096] pixels), ``sequential_image_generation`` (+ ``max_images``, refs + outputs ≤ 15),
``response_format``, ``watermark`` (default true, like the real one).

Outputs are JPEG; with ``response_format: url`` the fake serves them itself at ``GET /files/<name>``
(no auth, like a signed TOS URL). Presets: see ``PRESETS``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply, tiny_image

KEY = "ark-fake-key-0123456789"
MODELS = {"seedream-4-0-250828": 10, "seedream-4-5-251128": 14, "seedream-5-0-260128": 14, "seedream-5-0-lite-260128": 14}
FIELDS = {"model", "prompt", "image", "size", "sequential_image_generation", "sequential_image_generation_options",
          "response_format", "watermark", "stream", "seed", "guidance_scale", "optimize_prompt_options", "output_format",
          "tools"}
DATA_URI = re.compile(r"data:image/(png|jpeg|jpg|webp|bmp|tiff|gif);base64,(.+)", re.DOTALL)
WXH = re.compile(r"(\d+)x(\d+)")


def a_error(status: int, code: str, message: str, etype: str = "BadRequest", headers: dict | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": f"{message} Request id: 0217640000000000fake",
                                    "param": "", "type": etype}}, headers=headers or {})


def invalid(message: str, code: str = "InvalidParameter") -> Reply:
    return a_error(400, code, message)


PRESETS = {
    "output_sensitive": lambda: a_error(400, "OutputImageSensitiveContentDetected",
                                        "The request failed because the output image may contain sensitive information."),
    "input_text_sensitive": lambda: a_error(400, "InputTextSensitiveContentDetected",
                                            "The request failed because the input text may contain sensitive information."),
    "auth": lambda: a_error(401, "AuthenticationError", "The API key or AK/SK in the request is missing or invalid.",
                            "Unauthorized"),
    "account_overdue": lambda: a_error(403, "AccountOverdueError", "Your account has an overdue balance.", "Forbidden"),
    "model_not_open": lambda: a_error(404, "ModelNotOpen", "Your account has not activated the model service.", "NotFound"),
    "rate_limited": lambda: a_error(429, "ModelAccountIpmRateLimitExceeded", "The request has exceeded the images per "
                                    "minute limit.", "TooManyRequests", headers={"Retry-After": "20"}),
    "rate_limited_fast": lambda: a_error(429, "ModelAccountIpmRateLimitExceeded", "IPM limit exceeded.",
                                         "TooManyRequests", headers={"Retry-After": "0"}),
    "overloaded": lambda: a_error(429, "ServerOverloaded", "The service is overloaded, please retry later.",
                                  "TooManyRequests", headers={"Retry-After": "0"}),
    "quota_exceeded": lambda: a_error(429, "QuotaExceeded", "The free quota has been used up.", "TooManyRequests"),
    "internal": lambda: a_error(500, "InternalServiceError", "The service encountered an unexpected internal error.",
                                "InternalServerError"),
    "malformed": lambda: Reply(200, '{"model": "seedream-4-0-250828", "data": [{"url": ', content_type="application/json"),
    "empty": lambda: Reply(200, {"model": "seedream-4-0-250828", "created": 1764000000, "data": [],
                                 "usage": {"generated_images": 0, "output_tokens": 0, "total_tokens": 0}}),
    "all_filtered": lambda: Reply(200, {"model": "seedream-4-0-250828", "created": 1764000000, "data": [
        {"error": {"code": "OutputImageSensitiveContentDetected", "message": "filtered"}}],
        "usage": {"generated_images": 0}}),
    "hang": lambda: Reply(hang_s=30),
}


class ArkFake(FakeServer):
    key = KEY

    def __init__(self) -> None:
        super().__init__()
        self._colours = itertools.count(1)
        self.files: dict[str, bytes] = {}

    def next_colour(self) -> tuple[int, int, int]:
        n = next(self._colours)
        return (200, (n * 45) % 256, (n * 25) % 256)

    def success(self, n: int, response_format: str = "url", *, filtered: int = 0) -> Reply:
        data: list[dict[str, Any]] = []
        for _ in range(n):
            jpeg = tiny_image(self.next_colour(), "JPEG")
            if response_format == "b64_json":
                data.append({"b64_json": base64.b64encode(jpeg).decode(), "size": "2048x2048"})
            else:
                name = f"out{len(self.files) + 1}.jpeg"
                self.files[name] = jpeg
                data.append({"url": f"{self.url}/files/{name}", "size": "2048x2048"})
        data += [{"error": {"code": "OutputImageSensitiveContentDetected", "message": "filtered"}}] * filtered
        return Reply(200, {"model": "seedream-4-0-250828", "created": 1764000000, "data": data,
                           "usage": {"generated_images": n, "output_tokens": 16384 * n, "total_tokens": 16384 * n}},
                     headers={"X-Request-Id": "0217640000000000fake"})

    def handle(self, rec: Recorded) -> Reply:
        if rec.method == "GET" and rec.path.startswith("/files/"):
            rec.route = "files"
            data = self.files.get(rec.path.removeprefix("/files/"))
            return Reply(200, data, content_type="image/jpeg") if data else Reply(404, "NoSuchKey")
        if rec.method != "POST" or rec.path != "/api/v3/images/generations":
            return a_error(404, "InvalidEndpoint", f"{rec.method} {rec.path} not found", "NotFound")
        rec.route = "generate"
        if rec.header("authorization") != f"Bearer {self.key}":
            return PRESETS["auth"]()
        try:
            body = rec.json
        except ValueError:
            return invalid("The request body is not valid JSON.")
        if not isinstance(body, dict):
            return invalid("The request body must be a JSON object.")
        if not body.get("model"):
            return invalid("The parameter `model` specified in the request is missing.", "MissingParameter")
        if body["model"] not in MODELS:
            return a_error(404, "InvalidEndpointOrModel.NotFound", f"The model or endpoint {body['model']} does not "
                           "exist or you do not have access to it.", "NotFound")
        problem = self.validate(body)
        if problem:
            return problem
        scripted = self.next_scripted()
        if isinstance(scripted, str):
            return PRESETS[scripted]()
        if scripted:
            return scripted
        n = 1
        if body.get("sequential_image_generation") == "auto":
            n = int((body.get("sequential_image_generation_options") or {}).get("max_images", 15))
        return self.success(n, body.get("response_format") or "url")

    @staticmethod
    def validate(body: dict) -> Reply | None:
        unknown = set(body) - FIELDS
        if unknown:
            return invalid(f"The parameter `{sorted(unknown)[0]}` specified in the request is not valid.")
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return invalid("The parameter `prompt` specified in the request is missing.", "MissingParameter")
        images = body.get("image")
        refs: list = []
        if images is not None:
            refs = [images] if isinstance(images, str) else images
            if not isinstance(refs, list) or not all(isinstance(x, str) for x in refs) or not refs:
                return invalid("The parameter `image` must be a string or an array of strings.")
            if len(refs) > MODELS[body["model"]]:
                return invalid(f"The parameter `image` accepts at most {MODELS[body['model']]} images.")
            for ref in refs:
                if ref.startswith(("http://", "https://")):
                    continue
                m = DATA_URI.fullmatch(ref)
                if not m:
                    return invalid("The parameter `image` must be a URL or a data URI data:image/<format>;base64,<data>.")
                try:
                    base64.b64decode(m.group(2), validate=True)
                except (binascii.Error, ValueError):
                    return invalid("The parameter `image` contains invalid base64 data.")
        size = body.get("size", "2048x2048")
        if size not in ("1K", "2K", "4K"):
            m = WXH.fullmatch(str(size))
            if not m or not 1280 * 720 <= int(m.group(1)) * int(m.group(2)) <= 4096 * 4096:
                return invalid(f"The parameter `size` specified in the request is not valid: {size}.")
            w, h = int(m.group(1)), int(m.group(2))
            if not 1 / 16 <= w / h <= 16:
                return invalid(f"The parameter `size` has an aspect ratio outside [1/16, 16]: {size}.")
        mode = body.get("sequential_image_generation", "disabled")
        if mode not in ("auto", "disabled"):
            return invalid(f"The parameter `sequential_image_generation` is not valid: {mode}.")
        options = body.get("sequential_image_generation_options") or {}
        max_images = options.get("max_images", 15) if isinstance(options, dict) else None
        if not isinstance(max_images, int) or not 1 <= max_images <= 15:
            return invalid("The parameter `sequential_image_generation_options.max_images` must be 1-15.")
        if mode == "auto" and len(refs) + max_images > 15:
            return invalid("The number of input images plus output images must not exceed 15.")
        if body.get("response_format", "url") not in ("url", "b64_json"):
            return invalid(f"The parameter `response_format` is not valid: {body.get('response_format')}.")
        if not isinstance(body.get("watermark", True), bool):
            return invalid("The parameter `watermark` must be a boolean.")
        return None
