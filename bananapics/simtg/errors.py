"""The errors the simulator raises: RPC errors as Telegram sends them, and its own test failures."""

from __future__ import annotations

class TgError(Exception):
    """An RPC error exactly as Telegram sends it (``rpc_error#2144ca19 error_code error_message``).

    The sender turns it into Telethon's class with ``rpc_message_to_error`` (``FLOOD_WAIT_7`` →
    ``FloodWaitError(seconds=7)``, ``MESSAGE_NOT_MODIFIED`` → ``MessageNotModifiedError`` …).
    """

    def __init__(self, code: int, message: str):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class NotSimulatedError(NotImplementedError):
    """A request the simulator does not answer. Raised loudly (not as an RPC error) so a test
    notices it instead of the bot silently handling a made-up Telegram error."""


class SettleTimeout(AssertionError):
    """``settle()`` gave up: some task started by the action never finished."""


class BotHandlerError(AssertionError):
    """A bot event handler raised; Telethon only logs these, the simulator re-raises them from
    ``settle()`` (the original exception is ``__cause__`` and ``.errors`` has all of them)."""

    def __init__(self, errors: list[BaseException]):
        first = errors[0]
        super().__init__(f"{len(errors)} bot handler error(s); first: {type(first).__name__}: {first}")
        self.errors = errors
