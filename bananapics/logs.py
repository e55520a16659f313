"""Logging setup with a filter that keeps secrets out of every log line.

The filter masks the configured secret values themselves, anything shaped like a Telegram bot
token, ``Authorization``/``x-goog-api-key`` header values and passwords in URLs (the user part, also
when empty or when the password holds ``@``, and ``?password=``) — even when a library logs them by
accident. The passwords of the configured database and Redis URLs are among the secret values.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator

from bananapics.config import Config
from bananapics.text import safe_terminal

MASK = "********"
PATTERNS = [
    re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b"),  # Telegram bot token
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)?\s*)[^\s'\",]+"),
    re.compile(r"(?i)((?:x-goog-api-key|api[_-]?key)['\"]?\s*[:=]\s*['\"]?)[^\s'\",&]+"),
    # password in a URL's user part (the user may be empty: redis://:pw@host); greedy up to the last
    # "@" before the path, so a password holding "@" is masked whole
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^/\s]*(@)"),
    # ?password=… (psycopg2 and libpq take it from the query)
    re.compile(r"(?i)([?&](?:ssl)?(?:password|passwd|pass|pwd)=)[^&\s'\"#]+"),
]


class SecretFilter(logging.Filter):
    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = sorted({s for s in (secrets or []) if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern in PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK + (m.group(2) if (m.lastindex or 0) >= 2 else ""), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class TerminalSafeFormatter(logging.Formatter):
    """Log lines go to an operator's terminal: a user's name or prompt in a message must not carry
    control or bidi characters there (:func:`~bananapics.text.safe_terminal`, line by line, so a
    traceback keeps its lines)."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(safe_terminal(line) for line in super().format(record).split("\n"))


# The ids a log line carries where they apply (JSON logs): set by the bot per update, by the worker
# per job, by the payment service per charge. Context variables follow asyncio tasks and the
# threads ``asyncio.to_thread`` starts, so a service call made for an update logs the update's ids.
CONTEXT_FIELDS = ("update_id", "user_id", "job_id", "charge_id")
_CONTEXT: dict[str, contextvars.ContextVar] = {name: contextvars.ContextVar(f"bananapics_{name}", default=None)
                                               for name in CONTEXT_FIELDS}


def bind(**ids: object) -> None:
    """Set log context ids for the rest of this task or thread (``None`` clears one)."""
    for name, value in ids.items():
        _CONTEXT[name].set(value)


@contextlib.contextmanager
def context(**ids: object) -> Iterator[None]:
    """Log context ids for the duration of a block."""
    tokens = [(_CONTEXT[name], _CONTEXT[name].set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_context() -> dict[str, object]:
    return {name: var.get() for name, var in _CONTEXT.items() if var.get() is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context ids that
    are set, and the traceback (already redacted by :class:`SecretFilter`). Non-ASCII and control
    characters are escaped, so a user's text cannot break the line or an operator's terminal."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(current_context())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=True, default=str)


def wants_json(config: Config, stream: object = None) -> bool:
    """``[logging] format``: json, text, or auto (json when the stream is not a terminal)."""
    fmt = config.logging.format
    if fmt != "auto":
        return fmt == "json"
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty())


def setup_logging(config: Config) -> SecretFilter:
    """Configure the root logger once for a process; returns the secret filter in use."""
    secret_filter = SecretFilter(config.secret_values())
    handler = logging.StreamHandler()
    if wants_json(config, handler.stream):
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TerminalSafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(secret_filter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.logging.level)
    for noisy in ("httpx", "httpcore", "telethon", "peewee"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return secret_filter
