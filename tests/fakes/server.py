"""A real HTTP server on 127.0.0.1 for provider fakes: records every request, replays scripted replies.

Each fake subclasses :class:`FakeServer` and implements ``handle(rec) -> Reply``: it validates the
request the way the real API does (auth, path, body) and answers with the next scripted reply for
the route, or a default success. Tests script replies with ``fake.script(...)`` (``Reply`` objects or
preset names of the fake) and assert on ``fake.requests``.

A reply with ``hang_s`` holds the connection open without answering (for timeout tests); a stopped
server releases hanging handlers at once, so teardown is fast.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image


def tiny_image(colour: tuple[int, int, int], fmt: str = "PNG", size: tuple[int, int] = (4, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def colour_of(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB").getpixel((0, 0))


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes → raw
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0  # wait this long before answering (released when the server stops)
    content_type: str | None = None

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), self.content_type or "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return self.body or b"", self.content_type or "application/octet-stream"


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    route: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @cached_property
    def json(self) -> Any:
        return json.loads(self.body)

    @cached_property
    def parts(self) -> list[Part]:
        """multipart/form-data parts, parsed with the stdlib MIME parser (as a server framework would)."""
        ctype = self.header("content-type") or ""
        raw = b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        if not msg.is_multipart():
            raise ValueError("not multipart")
        out = []
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            out.append(Part(name=str(name), filename=part.get_filename(), content_type=part.get_content_type(),
                            data=part.get_payload(decode=True) or b""))
        return out

    def form(self, name: str) -> str | None:
        for part in self.parts:
            if part.name == name and part.filename is None:
                return part.text
        return None


class FakeServer:
    """Start with ``start()`` (or the fixtures), stop with ``stop()``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._scripts: dict[str, deque[Reply | str]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                rec = Recorded(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                               {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(rec)
                try:
                    reply = fake.handle(rec)
                except Exception as exc:  # a bug in the fake must be visible, not a hang
                    reply = Reply(599, {"fake_error": repr(exc)})
                if reply.hang_s:
                    fake._stopped.wait(reply.hang_s)
                    self.close_connection = True
                    return
                payload, ctype = reply.encoded()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # ---- scripting ---------------------------------------------------------------------------
    def script(self, *replies: Reply | str, route: str = "default") -> None:
        """Queue replies for the next requests on ``route`` (after validation). Strings are preset names."""
        with self._lock:
            self._scripts[route].extend(replies)

    def next_scripted(self, route: str = "default") -> Reply | str | None:
        with self._lock:
            queue = self._scripts.get(route)
            return queue.popleft() if queue else None

    def calls(self, route: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.route == route]

    def handle(self, rec: Recorded) -> Reply:  # pragma: no cover - subclasses implement it
        raise NotImplementedError
