"""Fake fal.ai queue, per providers.md §4 and §6.4.

* ``POST /{endpoint path}`` (submit; body = model input) → ``request_id`` + status/response/cancel URLs
  built from **owner/app only** (``/fal-ai/bytedance/requests/{id}/status`` for a seedream path).
* ``GET …/requests/{id}/status`` → 202 ``IN_QUEUE``, 202 ``IN_PROGRESS`` (``polls`` times), then 200
  ``COMPLETED``. A request id under another app's path → 404, like the real queue.
* ``GET …/requests/{id}`` → the raw model output, or the model's 422 validation error (input
  checks happen here, as on fal): ``prompt`` required, ``image_urls`` required on edit endpoints,
  ``num_images`` 1–4, per-family ``aspect_ratio`` / ``image_size`` / ``quality``.
* ``PUT …/requests/{id}/cancel``; ``GET /files/<name>`` serves outputs (the CDN, no auth).
* Every queue route needs ``Authorization: Key <key>`` (else 401).

Script replies per route: ``fake.script("content_policy", route="result")``; routes are ``submit``,
``status`` and ``result``.
"""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply, tiny_image

KEY = "fal-fake-key-id:0123456789secret"
ENDPOINTS = {  # path → (family, edit endpoint?)
    "fal-ai/nano-banana": ("nano", False), "fal-ai/nano-banana/edit": ("nano", True),
    "fal-ai/nano-banana-pro": ("nano", False), "fal-ai/nano-banana-pro/edit": ("nano", True),
    "fal-ai/nano-banana-2": ("nano", False), "fal-ai/nano-banana-2/edit": ("nano", True),
    "fal-ai/bytedance/seedream/v4/text-to-image": ("seedream", False), "fal-ai/bytedance/seedream/v4/edit": ("seedream", True),
    "fal-ai/gpt-image-1.5": ("gpt", False), "fal-ai/gpt-image-1.5/edit": ("gpt", True),
    "fal-ai/gpt-image-1/text-to-image": ("gpt", False), "fal-ai/gpt-image-1/edit-image": ("gpt", True),
}
RATIOS = {"21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "auto"}
GPT_SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
REQUEST_PATH = re.compile(r"/([^/]+/[^/]+)/requests/([^/]+)(/status|/cancel)?")


def f_detail(status: int, loc: list, msg: str, etype: str, headers: dict | None = None) -> Reply:
    return Reply(status, {"detail": [{"loc": loc, "msg": msg, "type": etype, "url": "https://docs.fal.ai/errors"}]},
                 headers={"X-Fal-Retryable": "false", **(headers or {})})


def f_infra(status: int, error_type: str, detail: str, headers: dict | None = None) -> Reply:
    return Reply(status, {"detail": detail, "error_type": error_type},
                 headers={"X-Fal-Error-Type": error_type, **(headers or {})})


PRESETS = {
    "content_policy": lambda: f_detail(422, ["body", "prompt"], "The content could not be processed because it "
                                       "contained material flagged by a content checker.", "content_policy_violation"),
    "validation": lambda: f_detail(422, ["body", "num_images"], "Input should be less than or equal to 4",
                                   "less_than_equal"),
    "unauthorized": lambda: Reply(401, {"detail": "Invalid authentication credentials"}),
    "exhausted_balance": lambda: Reply(403, {"detail": "User is locked. Reason: Exhausted balance. Top up your "
                                             "balance at fal.ai/dashboard/billing."}),
    "rate_limited": lambda: Reply(429, {"detail": "Too many requests"}, headers={"Retry-After": "0"}),
    "runner_failure": lambda: f_infra(503, "runner_scheduling_failure", "Could not schedule a runner"),
    "request_timeout": lambda: f_infra(504, "request_timeout", "Request timed out"),
    "malformed": lambda: Reply(200, '{"images": [{"url": ', content_type="application/json"),
    "empty": lambda: Reply(200, {"images": [], "description": ""}),
    "hang": lambda: Reply(hang_s=30),
}


class FalFake(FakeServer):
    key = KEY

    def __init__(self, polls: int = 2) -> None:
        super().__init__()
        self.polls = polls
        self.jobs: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self._colours = itertools.count(1)

    def next_colour(self) -> tuple[int, int, int]:
        n = next(self._colours)
        return ((n * 30) % 256, (n * 70) % 256, 90)

    def output(self, n: int, *, nsfw: list[bool] | None = None) -> Reply:
        images = []
        for _ in range(n):
            name = f"{uuid.uuid4().hex[:8]}.png"
            self.files[name] = tiny_image(self.next_colour())
            images.append({"url": f"{self.url}/files/{name}", "content_type": "image/png", "file_name": name,
                           "file_size": len(self.files[name]), "width": 4, "height": 4})
        body: dict[str, Any] = {"images": images, "description": "", "seed": 42}
        if nsfw is not None:
            body["has_nsfw_concepts"] = nsfw
        return Reply(200, body)

    def scripted(self, route: str) -> Reply | None:
        item = self.next_scripted(route)
        return PRESETS[item]() if isinstance(item, str) else item

    def handle(self, rec: Recorded) -> Reply:
        if rec.method == "GET" and rec.path.startswith("/files/"):
            rec.route = "files"
            data = self.files.get(rec.path.removeprefix("/files/"))
            return Reply(200, data, content_type="image/png") if data else Reply(404, "Not Found")
        if rec.header("authorization") != f"Key {self.key}":
            rec.route = "auth"
            return PRESETS["unauthorized"]()
        m = REQUEST_PATH.fullmatch(rec.path)
        if m:
            return self.request_route(rec, m.group(1), m.group(2), m.group(3) or "")
        path = rec.path.strip("/")
        if rec.method != "POST" or path not in ENDPOINTS:
            rec.route = "unknown"
            return Reply(404, {"detail": f"Application '{path}' not found"})
        rec.route = "submit"
        try:
            body = rec.json
        except ValueError:
            return Reply(400, {"detail": "Invalid JSON body"})
        if not isinstance(body, dict):
            return Reply(400, {"detail": "Request body must be a JSON object"})
        scripted = self.scripted("submit")
        if scripted is not None:
            return scripted
        request_id = str(uuid.uuid4())
        app = "/".join(path.split("/")[:2])
        self.jobs[request_id] = {"path": path, "app": app, "input": body, "polls_left": self.polls, "cancelled": False}
        base = f"{self.url}/{app}/requests/{request_id}"
        return Reply(200, {"status": "IN_QUEUE", "request_id": request_id, "response_url": base,
                           "status_url": f"{base}/status", "cancel_url": f"{base}/cancel", "queue_position": 0})

    def request_route(self, rec: Recorded, app: str, request_id: str, tail: str) -> Reply:
        rec.route = {"/status": "status", "/cancel": "cancel", "": "result"}[tail]
        job = self.jobs.get(request_id)
        if job is None or job["app"] != app:
            return Reply(404, {"detail": "Request not found"})
        if tail == "/cancel":
            if rec.method != "PUT":
                return Reply(405, {"detail": "Method Not Allowed"})
            job["cancelled"] = True
            return Reply(202, {"status": "CANCELLATION_REQUESTED"})
        if rec.method != "GET":
            return Reply(405, {"detail": "Method Not Allowed"})
        if tail == "/status":
            scripted = self.scripted("status")
            if scripted is not None:
                return scripted
            if job["polls_left"] > 0:
                job["polls_left"] -= 1
                state = "IN_QUEUE" if job["polls_left"] >= 1 and self.polls > 1 else "IN_PROGRESS"
                return Reply(202, {"status": state, "queue_position": job["polls_left"], "request_id": request_id,
                                   "response_url": f"{self.url}/{app}/requests/{request_id}"})
            return Reply(200, {"status": "COMPLETED", "request_id": request_id, "logs": None,
                               "metrics": {"inference_time": 0.01},
                               "response_url": f"{self.url}/{app}/requests/{request_id}"})
        if job["polls_left"] > 0:
            return Reply(400, {"detail": "Request is still in progress"})
        problem = self.validate(job["path"], job["input"])
        if problem is not None:
            return problem
        scripted = self.scripted("result")
        return scripted if scripted is not None else self.output(int(job["input"].get("num_images", 1)))

    @staticmethod
    def validate(path: str, body: dict) -> Reply | None:
        family, edit = ENDPOINTS[path]
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return f_detail(422, ["body", "prompt"], "Field required", "missing")
        n = body.get("num_images", 1)
        if not isinstance(n, int) or not 1 <= n <= 4:
            return f_detail(422, ["body", "num_images"], "Input should be between 1 and 4", "less_than_equal")
        urls = body.get("image_urls")
        if edit:
            if not isinstance(urls, list) or not urls:
                return f_detail(422, ["body", "image_urls"], "Field required", "missing")
            if not all(isinstance(u, str) and u.startswith(("http://", "https://", "data:image/")) for u in urls):
                return f_detail(422, ["body", "image_urls"], "Input should be a valid URL", "url_parsing")
        if family == "nano" and body.get("aspect_ratio", "1:1") not in RATIOS:
            return f_detail(422, ["body", "aspect_ratio"], "Input should be one of the listed ratios", "enum")
        if family == "nano" and body.get("resolution", "1K") not in ("1K", "2K", "4K", "0.5K"):
            return f_detail(422, ["body", "resolution"], "Input should be '1K', '2K' or '4K'", "enum")
        if family == "seedream":
            size = body.get("image_size", "square_hd")
            if isinstance(size, dict):
                w, h = size.get("width"), size.get("height")
                if not (isinstance(w, int) and isinstance(h, int) and 960 * 960 <= w * h <= 4096 * 4096):
                    return f_detail(422, ["body", "image_size"], "Total pixels must be between 960x960 and 4096x4096",
                                    "value_error")
            elif size not in ("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3",
                              "landscape_16_9", "auto", "auto_2K", "auto_4K"):
                return f_detail(422, ["body", "image_size"], "Input should be a preset or {width, height}", "enum")
        if family == "gpt":
            if body.get("image_size", "1024x1024") not in GPT_SIZES:
                return f_detail(422, ["body", "image_size"], "Input should be one of the sizes", "enum")
            if body.get("quality", "auto") not in ("low", "medium", "high", "auto"):
                return f_detail(422, ["body", "quality"], "Input should be low, medium, high or auto", "enum")
        return None
