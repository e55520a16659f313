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
  overall, ~1 msg/s per chat with short bursts): ``async with send(chat_id) as go:`` around every
  send request, which counts it until its answer is back (a send that is no longer ``wanted`` when
  its turn comes gives way: the bot coalesces a burst of panels into the newest); user-facing sends
  go first (``priority``); ``pause_chat`` / ``pause_all`` after a ``FloodWaitError`` /
  ``SlowModeWaitError`` (telethon.md §3).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import heapq
import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Hashable, Optional, Protocol

__all__ = ["BULK", "Clock", "INTERACTIVE", "KeyedLocks", "MonotonicClock", "RESULTS", "SendLimiter", "TokenBucket",
           "UserLimiter"]

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


# How long a send may wait behind more urgent ones (seconds of slack in the send queue, earliest
# deadline first): a user's own answer first, a finished job's result next, a broadcast last. A
# result that has waited INTERACTIVE..RESULTS longer than a fresh panel goes before it (panels never
# starve deliveries); a broadcast waits behind anything user-facing of the last BULK seconds.
INTERACTIVE = 0.0  # a panel, an invoice, a one-line answer: the user is looking at the chat
RESULTS = 2.0  # a finished job's result, a notice for one user
BULK = 60.0  # a broadcast's message

GLOBAL_BURST = 3  # messages a send may run ahead of even spacing (an interactive reply never waits)
WINDOW_S = 1.0  # Telegram counts the messages of the last second over all chats
FLIGHT_MAX_S = 60.0  # a send never reported back counts as answered after this (a leak guard)
# Each way of a round trip is taken to last at least this share of the fastest recent round trip
# (a path up to 60:40 lopsided), so a send that is back leaves the window twice that much sooner.
# Getting it wrong costs a fraction of a message per second, inside the margin between the send
# limit (28) and Telegram's ~30.
ONE_WAY_SHARE = 0.4
RTT_SAMPLES = 64  # round trips the fastest is taken from


@dataclass
class _ChatState:
    tat: float = -math.inf  # per-chat pacing (GCRA): when the chat's sends so far are paid off
    paused_until: float = -math.inf
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # acquire() calls in progress (holding or waiting for the lock)
    granted: int = 0  # sends granted to this chat so far
    flying: int = 0  # of them, sends whose answer is not back yet


@dataclass(eq=False)
class _Flight:
    """One granted send request: counted in the window from ``start`` until ``end + WINDOW_S``."""

    start: float
    messages: int
    chat: _ChatState
    n: int  # the chat's n-th grant
    end: Optional[float] = None


class SendLimiter:
    """Paces outbound send requests below Telegram's flood limits.

    * Global: at most ``global_per_s`` messages in any 1 s window *as Telegram counts them*. A send
      reaches Telegram some time after it leaves, and that time varies (the network, a busy event
      loop): the sends of one second here may land in one second there together with stragglers of
      the second before. So a send counts from the moment it is granted until 1 s after its answer
      is back (Telegram handled it somewhere in between): sends still on their way always count.
      However the delays vary, no 1 s window at Telegram then holds more than ``global_per_s``; the
      only assumption is that each way of a trip takes at least ``ONE_WAY_SHARE`` of the fastest
      recent round trip, which shortens the count after the answer by twice that. Sends are also
      spread over the second (a cell rate: at most ``GLOBAL_BURST`` messages ahead of an even
      1/``global_per_s`` spacing).
    * Per chat: ``per_chat_per_s`` with ``per_chat_burst`` capacity (~1/s with short bursts, a
      GCRA), charged one per send *request* (an album is one request but counts ``messages``
      against the global window); when the answer is back the charge moves to that moment (the
      latest Telegram can have counted it).
    * Order: sends wait in one queue, earliest deadline first; a send's deadline is when it asked
      (or ``since``: a result's later parts keep its first part's place) plus its ``priority``
      slack (:data:`INTERACTIVE` 0 s, :data:`RESULTS` 2 s, :data:`BULK` 60 s). A user's panel goes
      before a broadcast that asked long before it; a result that waited 2 s goes before a new
      panel; nothing waits forever.
    * ``pause_chat`` / ``pause_all``: after a FloodWait/SlowModeWait, later sends wait until the
      pause ends.

    Use ``async with limiter.send(chat_id, messages) as go:`` around the request (its answer ends
    the flight); ``acquire()`` is for a send whose answer is taken as back at once. Sends to one
    chat are granted in FIFO order (message order is kept); a chat waiting for its own pace never
    holds the queue. Waiting happens only via ``clock.sleep`` or for an answer to come back.
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
        self._ended: list[tuple[float, int]] = []  # (answer time, messages) of the window, by answer time
        self._ended_messages = 0  # their messages
        self._rtts: "collections.deque[float]" = collections.deque(maxlen=RTT_SAMPLES)
        self._credit = 0.0  # 2 × the shortest one-way trip assumed (see ONE_WAY_SHARE)
        self._flying: dict[_Flight, None] = {}  # in the order granted (the oldest first)
        self._flying_messages = 0
        self._spaced_until = -math.inf  # when the sends so far are paid off at 1/global_per_s each
        self._paused_until = -math.inf
        self._chats: "collections.OrderedDict[Hashable, _ChatState]" = collections.OrderedDict()
        self._queue: list = []  # heap of [deadline, seq, future-or-None] of sends waiting for their turn
        self._seq = itertools.count()
        self._answers: list[asyncio.Future] = []  # queue heads waiting for an answer to come back

    # ------------------------------------------------------------------ state

    def _chat(self, chat_id: Hashable) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = _ChatState()
            self._chats[chat_id] = state
            self._evict()
        else:
            self._chats.move_to_end(chat_id)
        return state

    def _evict(self) -> None:
        """Drop least-recently-used chats whose state equals a fresh one (idle, paid off, not paused)."""
        now = self.clock()
        for _ in range(len(self._chats) - self.max_chats):
            chat_id, state = next(iter(self._chats.items()))
            self._chats.move_to_end(chat_id)
            if state.users == 0 and state.flying == 0 and state.paused_until <= now and state.tat <= now:
                del self._chats[chat_id]

    def _chat_wait(self, state: _ChatState, now: float) -> float:
        return max(state.paused_until - now,
                   state.tat - (self.per_chat_burst - 1) / self.per_chat_per_s - now)

    def _window_wait(self, now: float, messages: int) -> float:
        """Until ``messages`` more fit in the window: 0 now, a time, or inf (only an answer coming back
        can make room)."""
        ended = self._ended
        gone = bisect.bisect_right(ended, (now - WINDOW_S, math.inf))
        if gone:
            self._ended_messages -= sum(m for _, m in ended[:gone])
            del ended[:gone]
        while self._flying:
            oldest = next(iter(self._flying))
            if now - oldest.start <= FLIGHT_MAX_S:
                break
            self._end(oldest, oldest.start + FLIGHT_MAX_S)  # never reported back: taken as answered then
        # A send back at ``end`` reached Telegram one trip down before; this one will arrive one trip
        # up from now: they can share Telegram's second while end > now - WINDOW_S + both trips.
        since = now - WINDOW_S + self._credit
        skip = bisect.bisect_right(ended, (since, math.inf))
        counted = self._ended_messages - sum(m for _, m in ended[:skip])
        excess = self._flying_messages + counted + messages - self.global_per_s
        if excess <= 0:
            return 0.0
        for end, m in itertools.islice(ended, skip, None):  # the oldest answers leave the window first
            excess -= m
            if excess <= 0:
                return end - since
        return math.inf

    def _spacing_wait(self, now: float) -> float:
        return self._spaced_until - GLOBAL_BURST / self.global_per_s - now

    def _grant(self, state: _ChatState, now: float, messages: int) -> _Flight:
        state.tat = max(state.tat, now) + 1 / self.per_chat_per_s
        state.granted += 1
        state.flying += 1
        self._spaced_until = max(now, self._spaced_until) + messages / self.global_per_s
        flight = _Flight(now, messages, state, state.granted)
        self._flying[flight] = None
        self._flying_messages += messages
        return flight

    def _end(self, flight: _Flight, when: float) -> None:
        """The answer to ``flight`` is back at ``when``: it leaves the window 1 s later, and its chat's
        charge moves to ``when`` (with the chat's later sends after it)."""
        if flight.end is not None:
            return
        flight.end = when
        del self._flying[flight]
        self._flying_messages -= flight.messages
        bisect.insort(self._ended, (when, flight.messages))
        self._ended_messages += flight.messages
        if when > flight.start:  # a real round trip (acquire() takes the answer as back at once)
            self._rtts.append(when - flight.start)
            self._credit = 2 * ONE_WAY_SHARE * min(self._rtts)
        state = flight.chat
        state.flying -= 1
        state.tat = max(state.tat, when + (1 + state.granted - flight.n) / self.per_chat_per_s)
        answers, self._answers = self._answers, []
        for fut in answers:
            if not fut.done():
                fut.set_result(None)

    def _wake_head(self) -> None:
        queue = self._queue
        while queue and queue[0][2] is _GONE:
            heapq.heappop(queue)
        if queue and queue[0][2] is not None and not queue[0][2].done():
            queue[0][2].set_result(None)

    # ------------------------------------------------------------------ API

    async def _acquire(self, chat_id: Hashable, messages: int, priority: float,
                       wanted: Optional[Callable[[], bool]], since: Optional[float] = None) -> Optional[_Flight]:
        if not 1 <= messages <= self.global_per_s:
            raise ValueError(f"messages must be in 1..{self.global_per_s}")
        state = self._chat(chat_id)
        state.users += 1
        try:
            async with state.lock:
                while True:
                    while True:  # the chat's own pace first: a chat waiting for it never holds the queue
                        if wanted is not None and not wanted():
                            return None
                        wait = self._chat_wait(state, self.clock())
                        if wait <= 0:
                            break
                        await self.clock.sleep(wait + _SAFETY)
                    flight = await self._turn(state, messages, priority, wanted, since)
                    if flight is not _AGAIN:
                        return flight
        finally:
            state.users -= 1

    async def _turn(self, state: _ChatState, messages: int, priority: float,
                    wanted: Optional[Callable[[], bool]], since: Optional[float]) -> Any:
        """Wait in the queue until this send is first and the window has room: its flight, None when
        no longer ``wanted``, or ``_AGAIN`` when its chat got paused meanwhile."""
        entry = [(self.clock() if since is None else since) + priority, next(self._seq), None]
        heapq.heappush(self._queue, entry)
        loop = asyncio.get_running_loop()
        try:
            while True:
                while self._queue[0][2] is _GONE:
                    heapq.heappop(self._queue)
                if self._queue[0] is not entry:  # someone's deadline is earlier: wait to be first
                    entry[2] = loop.create_future()
                    await entry[2]
                    entry[2] = None
                    continue
                if wanted is not None and not wanted():
                    return None
                now = self.clock()
                if self._chat_wait(state, now) > 0:
                    return _AGAIN  # paused while it waited: the chat's own wait again, then the queue
                wait = max(self._paused_until - now, self._spacing_wait(now), self._window_wait(now, messages))
                if wait <= 0:
                    return self._grant(state, now, messages)
                if math.isinf(wait):  # only an answer coming back makes room
                    answer = loop.create_future()
                    self._answers.append(answer)
                    await answer
                else:
                    await self.clock.sleep(wait + _SAFETY)
        finally:
            if entry[2] is not None and not entry[2].done():
                entry[2].cancel()
            entry[2] = _GONE
            self._wake_head()

    async def acquire(self, chat_id: Hashable, messages: int = 1, *, priority: float = INTERACTIVE,
                      wanted: Optional[Callable[[], bool]] = None, since: Optional[float] = None) -> bool:
        """Wait until one send request (``messages`` messages) to ``chat_id`` is allowed, taking its
        answer as back at once (prefer :meth:`send`, which counts the request until its answer).

        ``wanted`` is asked each time this request's turn comes (and after each wait): when it says
        False the send is no longer needed (a newer panel for the chat superseded it), nothing is
        charged and False is returned; True means the send may go now."""
        flight = await self._acquire(chat_id, messages, priority, wanted, since)
        if flight is None:
            return False
        self._end(flight, flight.start)
        return True

    @contextlib.asynccontextmanager
    async def send(self, chat_id: Hashable, messages: int = 1, *, priority: float = INTERACTIVE,
                   wanted: Optional[Callable[[], bool]] = None, since: Optional[float] = None
                   ) -> AsyncIterator[bool]:
        """``async with limiter.send(chat, n) as go:`` waits for the send's turn (``go`` False: no
        longer ``wanted``, send nothing) and counts the request until the block ends (its answer is
        back, or it failed): make the request inside the block. ``since`` (this clock): when the
        user's wait began, if before now — the later parts of a result keep the first one's place."""
        flight = await self._acquire(chat_id, messages, priority, wanted, since)
        try:
            yield flight is not None
        finally:
            if flight is not None:
                self._end(flight, self.clock())

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

    @property
    def in_flight(self) -> int:
        """Messages of sends whose answer is not back yet."""
        return self._flying_messages


_GONE = object()  # a queue entry whose send was granted or gave up (popped when it reaches the head)
_AGAIN = object()
