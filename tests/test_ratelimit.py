"""Rate limiters: per-user token buckets and the outbound send limiter, on a fake clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math

import pytest

from bananapics.bot.ratelimit import MonotonicClock, SendLimiter, TokenBucket, UserLimiter
from bananapics.simtg.server import Limits, ManualClock


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 5))


class VirtualClock(ManualClock):
    """ManualClock whose ``sleep`` really suspends until a driver advances time to the wake-up,
    so concurrent sleepers overlap (ManualClock's sleep just adds, serialising them)."""

    def __init__(self) -> None:
        super().__init__()
        self._sleepers: list = []
        self._seq = itertools.count()

    async def sleep(self, seconds: float) -> None:
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), fut))
        await fut

    async def drive(self, *coros):
        """Run coros to completion, jumping time to the next wake-up whenever all are blocked."""
        tasks = [asyncio.ensure_future(c) for c in coros]
        while not all(t.done() for t in tasks):
            for _ in range(20):
                await asyncio.sleep(0)
            if self._sleepers:
                when, _, fut = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                fut.set_result(None)
        return [t.result() for t in tasks]


def assert_within_telegram_limits(sends, limits: Limits = Limits()):
    """Replays (time, chat) sends through the simulator's flood model (simtg ``_check_flood``):
    a sliding 1 s global window and a per-chat bucket; raises if any send would get FLOOD_WAIT."""
    window: list[float] = []
    chats: dict = {}
    for now, chat in sorted(sends):
        tokens, at = chats.get(chat, (float(limits.per_chat_burst), now))
        tokens = min(float(limits.per_chat_burst), tokens + (now - at) * limits.per_chat_rate)
        assert tokens >= 1.0, f"chat {chat} flood at {now}"
        window = [t for t in window if not t <= now - 1.0]
        assert len(window) + 1 <= limits.global_messages_per_second, f"global flood at {now}"
        chats[chat] = (tokens - 1.0, now)
        window.append(now)


def check_spread(sends, start, global_limit=25, burst=3):
    times = sorted(t for t, _ in sends)
    # No sliding 1 s window (and so no calendar second) holds more than the global limit.
    for i, t in enumerate(times):
        assert sum(1 for u in times[: i + 1] if u > t - 1.0) <= global_limit
    per_second: dict = {}
    for t in times:
        per_second[math.floor(t - start)] = per_second.get(math.floor(t - start), 0) + 1
    assert max(per_second.values()) <= global_limit
    # After its burst, no chat gets more than 1 send per second.
    by_chat: dict = {}
    for t, c in sorted(sends):
        by_chat.setdefault(c, []).append(t)
    for ts in by_chat.values():
        for k in range(burst, len(ts)):
            assert ts[k] >= ts[0] + (k - burst + 1) - 1e-6
        for i in range(len(ts)):  # any span holds at most burst + 1/s * its length
            for j in range(i + burst, len(ts)):
                assert ts[j] - ts[i] >= (j - i + 1 - burst) - 1e-6
    assert_within_telegram_limits(sends)


# --------------------------------------------------------------------------- TokenBucket


def test_bucket_burst_then_refill():
    clock = ManualClock()
    b = TokenBucket(rate_per_s=2, burst=3, clock=clock)
    assert [b.try_take() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)  # one token back
    assert b.try_take() and not b.try_take()
    clock.advance(100)  # capped at burst
    assert [b.try_take() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.25)  # half a token: fractional takes work
    assert b.try_take(0.5) and not b.try_take(0.5)
    clock.advance(10)
    assert b.try_take(3) and not b.try_take(1)


def test_bucket_retry_after_exact():
    clock = ManualClock()
    b = TokenBucket(rate_per_s=0.5, burst=2, clock=clock)
    assert b.retry_after() == 0.0
    assert b.try_take() and b.try_take()
    assert b.retry_after() == 2.0
    assert b.retry_after(2) == 4.0
    assert b.retry_after(3) == math.inf
    clock.advance(1.5)
    assert b.retry_after() == pytest.approx(0.5)
    assert not b.try_take()
    clock.advance(b.retry_after())
    assert b.retry_after() == 0.0 and b.try_take()


def test_bucket_rejects_bad_params():
    with pytest.raises(ValueError):
        TokenBucket(0, 1, ManualClock())
    with pytest.raises(ValueError):
        TokenBucket(1, 0.5, ManualClock())


# --------------------------------------------------------------------------- UserLimiter


def test_user_limiter_per_user_and_refill():
    clock = ManualClock()
    lim = UserLimiter(rate_per_min=20, burst=5, clock=clock)
    assert all(lim.allow(1) for _ in range(5)) and not lim.allow(1)
    assert lim.allow(2)  # another user is unaffected
    assert lim.retry_after(1) == pytest.approx(3.0)  # 20/min -> one token per 3 s
    assert lim.retry_after(999) == 0.0
    clock.advance(3)
    assert lim.allow(1) and not lim.allow(1)


def test_user_limiter_lru_bound():
    clock = ManualClock()
    lim = UserLimiter(rate_per_min=20, burst=1, clock=clock, max_users=100)
    for uid in range(10_000):
        assert lim.allow(uid)
    assert len(lim) == 100
    assert not lim.allow(9_999)  # recent users keep their state
    lim.allow(9_900)  # touch: 9_900 becomes most recent
    for uid in range(20_000, 20_099):
        lim.allow(uid)
    assert len(lim) == 100
    assert not lim.allow(9_900)  # survived eviction (LRU, not FIFO)
    assert lim.allow(9_901)  # evicted -> fresh bucket


def test_user_limiter_update_takes_effect_at_once():
    clock = ManualClock()
    lim = UserLimiter(rate_per_min=20, burst=2, clock=clock)
    assert lim.allow(1) and lim.allow(1) and not lim.allow(1)
    lim.update(rate_per_min=60, burst=10)
    clock.advance(1)  # existing user refills at the new rate
    assert lim.allow(1) and not lim.allow(1)
    assert sum(lim.allow(2) for _ in range(20)) == 10  # new users get the new burst
    lim.update(rate_per_min=6, burst=1)  # tightening caps stored tokens
    clock.advance(100)
    assert lim.allow(2) and not lim.allow(2)
    assert lim.retry_after(2) == pytest.approx(10.0)


# --------------------------------------------------------------------------- SendLimiter


def test_default_clock_is_real_monotonic():
    lim = SendLimiter()
    assert isinstance(lim.clock, MonotonicClock)
    run(lim.acquire(1))  # burst: no waiting


def test_100_sends_10_chats_sequential_spread():
    clock = ManualClock()
    lim = SendLimiter(global_per_s=25, per_chat_per_s=1, per_chat_burst=3, clock=clock)
    start, sends = clock(), []

    async def go():
        for i in range(100):
            await lim.acquire(i % 10)
            sends.append((clock(), i % 10))

    run(go())
    check_spread(sends, start)
    assert clock() - start < 10  # 10 chats x (3 burst + 7 s) -> about 7-9 s, not much slower


def test_100_sends_10_chats_concurrent_spread():
    clock = VirtualClock()
    lim = SendLimiter(global_per_s=25, per_chat_per_s=1, per_chat_burst=3, clock=clock)
    start, sends = clock(), []

    async def send(chat):
        await lim.acquire(chat)
        sends.append((clock(), chat))

    run(clock.drive(*(send(i % 10) for i in range(100))))
    assert len(sends) == 100
    check_spread(sends, start)
    assert clock() - start < 8.5  # 10 sends per chat: 3 at once, then 1/s -> ~7 s


def test_global_limit_many_chats():
    clock = VirtualClock()
    lim = SendLimiter(global_per_s=25, clock=clock)
    start, sends = clock(), []

    async def send(chat):
        await lim.acquire(chat, messages=1)
        sends.append((clock(), chat))

    run(clock.drive(*(send(c) for c in range(200))))  # a broadcast: one message per chat
    check_spread(sends, start)
    assert 7 <= clock() - start < 8.5  # 200 / 25 per s


def test_pause_chat_delays_only_that_chat():
    clock = VirtualClock()
    lim = SendLimiter(clock=clock)
    start, sends = clock(), []

    async def send(chat):
        await lim.acquire(chat)
        sends.append((clock() - start, chat))

    lim.pause_chat("A", 30)
    assert lim.paused_for("A") == 30 and lim.paused_for("B") == 0
    run(clock.drive(send("A"), send("B"), send("B"), send("C")))
    done = {c: t for t, c in sends}
    assert done["A"] >= 30
    assert done["B"] == 0 and done["C"] == 0  # not blocked behind the paused chat
    assert [c for _, c in sends][-1] == "A"


def test_pause_all_delays_all():
    clock = VirtualClock()
    lim = SendLimiter(clock=clock)
    start, sends = clock(), []

    async def send(chat):
        await lim.acquire(chat)
        sends.append(clock() - start)

    run(clock.drive(send(1)))
    lim.pause_all(12)
    lim.pause_all(5)  # a shorter pause never shortens a longer one
    run(clock.drive(*(send(c) for c in range(1, 6))))
    assert sends[0] == 0 and all(12 <= t < 13 for t in sends[1:])


def test_same_chat_fifo_and_album_counts_globally():
    clock = VirtualClock()
    lim = SendLimiter(global_per_s=25, per_chat_burst=3, clock=clock)
    order = []

    async def send(i, chat, messages=1):
        await lim.acquire(chat, messages=messages)
        order.append((i, clock()))

    run(clock.drive(*(send(i, "x") for i in range(6))))
    assert [i for i, _ in order] == list(range(6))  # message order kept within a chat
    order.clear()
    t0 = clock()
    run(clock.drive(*(send(i, 100 + i, messages=10) for i in range(3))))  # 3 albums of 10
    assert order[2][1] - t0 >= 0.99  # 30 messages > 25 per window: the third album waits
    with pytest.raises(ValueError):
        run(lim.acquire(1, messages=26))


def test_chat_state_is_bounded():
    clock = ManualClock()
    lim = SendLimiter(clock=clock, max_chats=50)

    async def go():
        for c in range(1000):
            await lim.acquire(c)
            if c % 20 == 0:
                clock.advance(5)  # older chats refill fully and become evictable

    run(go())
    assert len(lim._chats) <= 60


def arrivals_within(arrivals, limit):
    """No 1 s window (Telegram's sliding one) holds more than ``limit`` of the arrival times."""
    times = sorted(arrivals)
    for i, t in enumerate(times):
        inside = sum(1 for u in times[: i + 1] if u > t - 1.0)
        assert inside <= limit, f"{inside} messages reached Telegram within 1 s (at {t:.3f})"


def test_sends_count_until_answered_so_varying_delays_never_bunch_at_telegram():
    """Each request reaches Telegram after its own delay (50-400 ms each way, at random): counted
    from its grant until its answer is back, no second at Telegram ever holds more than the limit."""
    import random

    rnd = random.Random(7)
    clock = VirtualClock()
    lim = SendLimiter(global_per_s=28, clock=clock)
    arrived = []

    async def send(chat):
        up, down = rnd.uniform(0.05, 0.4), rnd.uniform(0.05, 0.4)
        async with lim.send(chat) as go:
            assert go
            t = clock()
            await clock.sleep(up)
            arrived.append(clock())  # Telegram counts it now
            await clock.sleep(down)
        assert t + up + down <= clock()

    start = clock()
    run(clock.drive(*(send(c) for c in range(600))))
    arrivals_within(arrived, 28)
    assert len(arrived) == 600 and lim.in_flight == 0
    assert 600 / (clock() - start) > 20  # the pace stays near the limit despite the slow trips


def test_a_request_still_on_its_way_keeps_its_place_in_the_window():
    clock = VirtualClock()
    lim = SendLimiter(global_per_s=3, per_chat_burst=3, clock=clock)
    order = []

    async def slow(chat):  # its answer takes 5 s to come back
        async with lim.send(chat):
            order.append(("sent", chat, clock()))
            await clock.sleep(5)

    async def later():
        await clock.sleep(0.5)
        await lim.acquire("late")
        order.append(("sent", "late", clock()))

    t0 = clock()
    run(clock.drive(slow(1), slow(2), slow(3), later()))
    late = [t for _, c, t in order if c == "late"][0]
    assert late - t0 >= 5  # three in flight fill the window until an answer is back, 1 s before that
    assert late - t0 < 5.0 + 1.0 + 0.01


def test_user_facing_sends_go_before_queued_results_and_broadcast():
    """A saturated limiter (10/s): 100 broadcast messages wait, then 40 results; a panel asked later
    goes next, the results before the rest of the broadcast; results that waited longer than their
    2 s of slack go before a panel asked after that (panels never starve results)."""
    from bananapics.bot.ratelimit import BULK, INTERACTIVE, RESULTS

    clock = VirtualClock()
    lim = SendLimiter(global_per_s=10, clock=clock)
    order = []

    async def send(name, priority, after=0.0):
        if after:
            await clock.sleep(after)
        await lim.acquire(name, priority=priority)
        order.append((name, clock() - start))

    start = clock()
    sends = [send(f"b{i}", BULK) for i in range(100)]
    sends += [send(f"r{i}", RESULTS, 0.2) for i in range(40)]
    sends += [send("panel", INTERACTIVE, 0.5), send("late panel", INTERACTIVE, 2.5)]
    run(clock.drive(*sends))
    names = [n for n, _ in order]
    at = dict(order)
    first_result, last_result = names.index("r0"), names.index("r39")
    assert all(n.startswith("r") or n == "panel" or n == "late panel" for n in names[first_result:last_result + 1])
    assert at["panel"] - 0.5 < 0.2 and names.index("panel") < names.index("r5")  # a panel: next in line
    assert at["late panel"] > 2.5 and names.index("late panel") > last_result  # results due first: not starved
    assert names[-1].startswith("b") and names.index("late panel") < names.index("b99")
