"""Rate limiting for the bot: per-user token buckets and an outbound send limiter.

Pure asyncio + stdlib. Every class takes an injectable *clock*: an object whose ``__call__()``
returns the current time in seconds and whose ``async sleep(seconds)`` waits. The default is
:class:`MonotonicClock` (``time.monotonic`` / ``asyncio.sleep``); tests inject
``bananapics.simtg.server.ManualClock`` so nothing really sleeps.

* :class:`TokenBucket` - ``rate_per_s`` tokens per second, at most ``burst`` stored; starts full.
* :class:`UserLimiter` - one bucket per user id for commands/callbacks (reliability.md §5, e.g.
  20/min), LRU-bounded so memory stays flat; ``allow(user_id)`` is False when the bot should
  answer "slow down" instead of acting.
* :class:`SendLimiter` - outbound pacing below Telegram's limits (reliability.md §4.1: ~30 msg/s
  overall, ~1 msg/s per chat with short bursts): ``await acquire(chat_id)`` before every send
  request (a send that is no longer ``wanted`` when its turn comes gives way: the bot coalesces a
  burst of panels into the newest); ``pause_chat`` / ``pause_all`` after a ``FloodWaitError`` /
  ``SlowModeWaitError`` (telethon.md §3).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Hashable, Optional, Protocol

__all__ = ["Clock", "KeyedLocks", "MonotonicClock", "TokenBucket", "UserLimiter", "SendLimiter"]

# Float slack when comparing token counts (the clock may be epoch seconds, ulp ~2e-7).
_EPS = 1e-9
# Extra time added to every wait in SendLimiter so float rounding can never make us send a hair
# early (Telegram / the simulator check with no slack) and so a wait always advances the clock.
_SAFETY = 1e-3


class Clock(Protocol):
    def __call__(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def __call__(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def _check(rate: float, burst: float) -> None:
    if not rate > 0 or math.isinf(rate):
        raise ValueError(f"rate must be a positive finite number, got {rate!r}")
    if not burst >= 1:
        raise ValueError(f"burst must be >= 1, got {burst!r}")


class TokenBucket:
    """Classic token bucket: refills at ``rate_per_s``, holds at most ``burst`` tokens, starts full."""

    __slots__ = ("rate", "burst", "clock", "_tokens", "_stamp")

    def __init__(self, rate_per_s: float, burst: float, clock: Optional[Clock] = None):
        _check(rate_per_s, burst)
        self.rate = float(rate_per_s)
        self.burst = float(burst)
        self.clock = clock if clock is not None else MonotonicClock()
        self._tokens = self.burst
        self._stamp = self.clock()

    def _refill(self) -> float:
        now = self.clock()
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = max(self._stamp, now)
        return self._tokens

    @property
    def tokens(self) -> float:
        return self._refill()

    def try_take(self, n: float = 1) -> bool:
        """Take ``n`` tokens if available now; never blocks."""
        if self._refill() + _EPS >= n:
            self._tokens = max(0.0, self._tokens - n)
            return True
        return False

    def retry_after(self, n: float = 1) -> float:
        """Seconds until ``try_take(n)`` would succeed (0 if it would now; inf if ``n > burst``)."""
        if n > self.burst + _EPS:
            return math.inf
        missing = n - self._refill()
        return 0.0 if missing <= _EPS else missing / self.rate

    def configure(self, rate_per_s: float, burst: float) -> None:
        """Change rate and capacity at once, keeping the tokens earned so far (capped at the new burst)."""
        _check(rate_per_s, burst)
        self._refill()
        self.rate, self.burst = float(rate_per_s), float(burst)
        self._tokens = min(self._tokens, self.burst)

    def is_full(self) -> bool:
        return self._refill() >= self.burst - _EPS


class UserLimiter:
    """Per-user token buckets (``rate_per_min`` per minute, ``burst`` capacity), LRU-bounded.

    A user evicted from the LRU comes back with a full bucket; with ``max_users`` far above the
    number of users active within one refill period this never loosens the limit in practice.
    """

    def __init__(self, rate_per_min: float, burst: float, clock: Optional[Clock] = None,
                 max_users: int = 100_000):
        _check(rate_per_min, burst)
        if max_users < 1:
            raise ValueError("max_users must be >= 1")
        self.rate_per_min = float(rate_per_min)
        self.burst = float(burst)
        self.clock = clock if clock is not None else MonotonicClock()
        self.max_users = int(max_users)
        self._buckets: "collections.OrderedDict[Hashable, TokenBucket]" = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, user_id: Hashable) -> TokenBucket:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = TokenBucket(self.rate_per_min / 60.0, self.burst, self.clock)
            self._buckets[user_id] = bucket
            while len(self._buckets) > self.max_users:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(user_id)
        return bucket

    def allow(self, user_id: Hashable) -> bool:
        """Spend one token for ``user_id``; False means "slow down" (nothing is spent)."""
        return self._bucket(user_id).try_take(1)

    def retry_after(self, user_id: Hashable) -> float:
        """Seconds until ``allow(user_id)`` would succeed (for the "try again in N s" text)."""
        bucket = self._buckets.get(user_id)
        return 0.0 if bucket is None else bucket.retry_after(1)

    def update(self, rate_per_min: float, burst: float) -> None:
        """Apply new limits immediately to every known user and to new ones."""
        _check(rate_per_min, burst)
        self.rate_per_min, self.burst = float(rate_per_min), float(burst)
        for bucket in self._buckets.values():
            bucket.configure(self.rate_per_min / 60.0, self.burst)


class KeyedLocks:
    """One asyncio lock per key (a user, a chat), FIFO, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, list] = {}  # key → [lock, holders + waiters]

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class _ChatState:
    bucket: TokenBucket
    paused_until: float = -math.inf
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # acquire() calls in progress (holding or waiting for the lock)


GLOBAL_BURST = 3  # messages a send may run ahead of even spacing (an interactive reply never waits)


class SendLimiter:
    """Paces outbound send requests below Telegram's flood limits.

    * Global: at most ``global_per_s`` messages in any sliding 1 s window (Telegram: ~30/s), and
      spread over the second rather than sent in one burst when the window frees (a cell rate:
      at most ``GLOBAL_BURST`` messages ahead of an even 1/``global_per_s`` spacing). Requests
      reach Telegram after a network delay that varies per request (uploads, RTT): a window's
      worth of sends released at once arrives bunched with the previous window's stragglers and
      trips the server's own window; evenly spaced sends leave it the slack.
    * Per chat: a token bucket of ``per_chat_per_s`` with ``per_chat_burst`` capacity (~1/s with
      short bursts), charged one token per send *request* (an album is one request but counts
      ``messages`` against the global window).
    * ``pause_chat`` / ``pause_all``: after a FloodWait/SlowModeWait, later acquires wait until the
      pause ends.

    Acquires for one chat are served in FIFO order (message order is kept); chats wait
    independently, so a paused or saturated chat never blocks the others. Waiting happens only via
    ``clock.sleep``.
    """

    def __init__(self, global_per_s: int = 25, per_chat_per_s: float = 1.0, per_chat_burst: int = 3,
                 clock: Optional[Clock] = None, max_chats: int = 100_000):
        _check(per_chat_per_s, per_chat_burst)
        if global_per_s < 1:
            raise ValueError("global_per_s must be >= 1")
        self.global_per_s = int(global_per_s)
        self.per_chat_per_s = float(per_chat_per_s)
        self.per_chat_burst = float(per_chat_burst)
        self.clock = clock if clock is not None else MonotonicClock()
        self.max_chats = int(max_chats)
        self._window: "collections.deque[float]" = collections.deque()
        self._spaced_until = -math.inf  # when the sends so far are paid off at 1/global_per_s each
        self._paused_until = -math.inf
        self._chats: "collections.OrderedDict[Hashable, _ChatState]" = collections.OrderedDict()

    # ------------------------------------------------------------------ state

    def _chat(self, chat_id: Hashable) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = _ChatState(TokenBucket(self.per_chat_per_s, self.per_chat_burst, self.clock))
            self._chats[chat_id] = state
            self._evict()
        else:
            self._chats.move_to_end(chat_id)
        return state

    def _evict(self) -> None:
        """Drop least-recently-used chats whose state equals a fresh one (idle, full, not paused)."""
        now = self.clock()
        for _ in range(len(self._chats) - self.max_chats):
            chat_id, state = next(iter(self._chats.items()))
            self._chats.move_to_end(chat_id)
            if state.users == 0 and state.paused_until <= now and state.bucket.is_full():
                del self._chats[chat_id]

    def _global_wait(self, now: float, messages: int) -> float:
        window = self._window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) + messages <= self.global_per_s:
            return 0.0
        # The send may happen once enough old entries have left the window.
        return window[len(window) + messages - self.global_per_s - 1] + 1.0 - now

    def _spacing_wait(self, now: float) -> float:
        return self._spaced_until - GLOBAL_BURST / self.global_per_s - now

    def _record(self, now: float, messages: int) -> None:
        self._window.extend([now] * messages)
        self._spaced_until = max(now, self._spaced_until) + messages / self.global_per_s

    # ------------------------------------------------------------------ API

    async def acquire(self, chat_id: Hashable, messages: int = 1, *,
                      wanted: Optional[Callable[[], bool]] = None) -> bool:
        """Wait until one send request (``messages`` messages) to ``chat_id`` is allowed, then record it.

        ``wanted`` is asked each time this request's turn comes (and after each wait): when it says
        False the send is no longer needed (a newer panel for the chat superseded it), nothing is
        charged and False is returned; True means the send may go now."""
        if not 1 <= messages <= self.global_per_s:
            raise ValueError(f"messages must be in 1..{self.global_per_s}")
        state = self._chat(chat_id)
        state.users += 1
        try:
            async with state.lock:
                while True:
                    if wanted is not None and not wanted():
                        return False
                    now = self.clock()
                    wait = max(
                        self._paused_until - now,
                        state.paused_until - now,
                        state.bucket.retry_after(1),
                        self._global_wait(now, messages),
                        self._spacing_wait(now),
                    )
                    if wait <= 0:
                        state.bucket.try_take(1)
                        self._record(now, messages)
                        return True
                    await self.clock.sleep(wait + _SAFETY)
        finally:
            state.users -= 1

    def pause_chat(self, chat_id: Hashable, seconds: float) -> None:
        """No sends to ``chat_id`` for ``seconds`` (e.g. ``SlowModeWaitError.seconds``)."""
        state = self._chat(chat_id)
        state.paused_until = max(state.paused_until, self.clock() + float(seconds))

    def pause_all(self, seconds: float) -> None:
        """No sends at all for ``seconds`` (e.g. ``FloodWaitError.seconds``; Telethon remembers flood
        waits per request type, not per chat)."""
        self._paused_until = max(self._paused_until, self.clock() + float(seconds))

    def paused_for(self, chat_id: Optional[Hashable] = None) -> float:
        """Seconds left of the global pause, or of the larger of it and ``chat_id``'s pause."""
        now = self.clock()
        until = self._paused_until
        if chat_id is not None and chat_id in self._chats:
            until = max(until, self._chats[chat_id].paused_until)
        return max(0.0, until - now)
