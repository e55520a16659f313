"""Logging setup with a filter that keeps secrets out of every log line.

The filter masks the configured secret values themselves, anything shaped like a Telegram bot
token, ``Authorization``/``x-goog-api-key`` header values and passwords in URLs (the user part, also
when empty or when the password holds ``@``, and ``?password=``) — even when a library logs them by
accident. The passwords of the configured database and Redis URLs are among the secret values.
"""

from __future__ import annotations

import logging
import re

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


def setup_logging(config: Config) -> SecretFilter:
    """Configure the root logger once for a process; returns the secret filter in use."""
    secret_filter = SecretFilter(config.secret_values())
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalSafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(secret_filter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.logging.level)
    for noisy in ("httpx", "httpcore", "telethon", "peewee"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return secret_filter
