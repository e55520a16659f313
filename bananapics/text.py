"""Text from users made safe to show on an operator's terminal (CLI today, TUI later).

A Telegram user chooses their name, and an admin copies their words into a ban reason: either may
carry terminal control sequences (ESC …), C1 controls or bidi overrides (U+202E) that rewrite
what an operator sees. :func:`safe_terminal` replaces each such character by a visible escape
(``\\x1b``, ``\\u202e``), so the text stays readable and nothing reaches the terminal raw.
:func:`safe_json` does the same for JSON output with ``\\uXXXX`` escapes, which decode back to
the exact string.
"""

from __future__ import annotations

import re

# C0 controls (newline and tab included: a name must not forge an output line), DEL, C1 controls,
# the bidi marks, embeddings, overrides and isolates, the Unicode line/paragraph separators, and lone
# surrogates (undecodable bytes of an argument: they cannot even be encoded for the terminal).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_terminal(text: str) -> str:
    """``text`` with every control and bidi-formatting character shown as a visible escape."""
    return UNSAFE.sub(_visible, text)


# What json.dumps leaves raw (it escapes C0 itself; a raw newline in its output is indentation).
UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def safe_json(encoded: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters json leaves raw (DEL,
    C1, bidi, lone surrogates) escaped as ``\\uXXXX``: such characters occur only inside string
    literals, where the escape decodes back to the same character."""
    return UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)
