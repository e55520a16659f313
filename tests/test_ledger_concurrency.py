"""Threads racing on the same hot user rows must never break the ledger (reliability.md §1.5).

Eight threads (four on SQLite, where ``BEGIN IMMEDIATE`` serialises writers) hammer three users
with holds, settles, partial settles and refunds, close each other's holds, overdraw on purpose,
and duel in pairs: both threads of a pair place the *same* hold ref at the same moment, then one
settles it while the other refunds it. Every call's result is logged; afterwards the log, the
cached balances and the transfers must tell one consistent story:

* ``verify()`` finds no breach and no balance is negative;
* no lost update: each user's available + held = welcome grant − what their settled holds earned;
* each hold ref exists once with one hold transfer, and is closed exactly once (every other
  close of it is a replay that reports the winner's outcome);
* InsufficientTokens is counted consistently: attempts = holds made + replays + refusals.
"""

from __future__ import annotations

import collections
import itertools
import random
import threading
from dataclasses import dataclass, field

import pytest

from bananapics.db import connection
from bananapics.errors import InsufficientTokens
from bananapics.models import Hold, Transfer, User
from bananapics.services import ledger, users
from bananapics.services.ledger import HoldOutcome
from bananapics.services.verify import verify

GRANT = 3000
HOT_USERS = 3
_tg_ids = itertools.count(4_000_000_001)


@dataclass
class Log:
    """What one thread saw; merged and checked by the main thread afterwards."""

    hold_attempts: list[tuple[str, int, int, str]] = field(default_factory=list)  # ref, user, amount, outcome
    closes: list[tuple[str, str, HoldOutcome]] = field(default_factory=list)  # ref, how, outcome
    insufficient: list[InsufficientTokens] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def _hold(log: Log, user_id: int, amount: int, ref: str) -> bool:
    """Try a hold; log ok / replayed / insufficient. True when the hold now exists."""
    try:
        result = ledger.hold(user_id, amount, ref)
    except InsufficientTokens as exc:
        log.insufficient.append(exc)
        log.hold_attempts.append((ref, user_id, amount, "insufficient"))
        return False
    log.hold_attempts.append((ref, user_id, amount, "replayed" if result.replayed else "ok"))
    return True


def _close(log: Log, rng: random.Random, ref: str, how: str | None = None) -> HoldOutcome:
    how = how or rng.choice(["settle", "settle", "refund", "partial"])
    if how == "settle":
        outcome = ledger.settle(ref)
    elif how == "refund":
        outcome = ledger.refund(ref)
    else:
        requested = rng.randint(1, 4)
        outcome = ledger.partial_settle(ref, rng.randint(0, requested), requested)
    log.closes.append((ref, how, outcome))
    return outcome


def _race(database, n_threads: int, ops_per_thread: int, duels: int, seed: int) -> None:
    hot = [users.register(next(_tg_ids), first_name="Hot", start_balance=GRANT).user.id for _ in range(HOT_USERS)]
    duellists = [users.register(next(_tg_ids), first_name="Duel", start_balance=GRANT).user.id for _ in range(2)]
    logs = [Log() for _ in range(n_threads)]
    shared: collections.deque[str] = collections.deque()  # open holds any thread may close
    start = threading.Barrier(n_threads)
    pairs = [threading.Barrier(2) for _ in range(n_threads // 2)]
    duel_seen: dict[tuple[int, int], list[bool]] = collections.defaultdict(list)
    duel_lock = threading.Lock()

    def worker(tid: int) -> None:
        log, rng = logs[tid], random.Random(seed * 1000 + tid)
        pair, partner_first = pairs[tid // 2], tid % 2 == 0
        try:
            start.wait(timeout=60)
            # phase 1: free-for-all on the hot rows
            for i in range(ops_per_thread):
                ref = f"race-{seed}-{tid}-{i}"
                if i % 10 == 3:  # more than anyone can ever have: always refused
                    assert not _hold(log, rng.choice(hot), GRANT + 1, ref)
                elif rng.random() < 0.55 or not shared:
                    user, amount = rng.choice(hot), rng.randint(1, 160)
                    if not _hold(log, user, amount, ref):
                        continue
                    fate = rng.random()
                    if fate < 0.35:
                        _close(log, rng, ref)
                    elif fate < 0.65:
                        shared.append(ref)
                    elif fate < 0.9:  # contested: two threads will each try to close it
                        shared.append(ref)
                        shared.append(ref)
                    # else: abandoned, left open for the main thread (the sweeper's job)
                    if rng.random() < 0.15:  # a retried submit of the same job
                        assert _hold(log, user, amount, ref)
                else:
                    try:
                        ref = shared.popleft()
                    except IndexError:
                        continue
                    _close(log, rng, ref)
            # phase 1b: everyone drains the shared queue at once (contested refs are in it twice)
            while True:
                try:
                    ref = shared.popleft()
                except IndexError:
                    break
                _close(log, rng, ref)
            # phase 2: duels, both threads of a pair on the same ref at the same moment
            for d in range(duels):
                ref = f"duel-{seed}-{tid // 2}-{d}"
                user = duellists[d % len(duellists)]
                amount = 1 + (d * 37 + tid // 2 * 11) % 120
                pair.wait(timeout=60)
                made = _hold(log, user, amount, ref)
                with duel_lock:
                    duel_seen[(tid // 2, d)].append(made)
                pair.wait(timeout=60)
                if any(duel_seen[(tid // 2, d)]):
                    if d % 3 == 2:
                        _close(log, rng, ref, "partial")
                    else:
                        _close(log, rng, ref, "settle" if partner_first else "refund")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            log.errors.append(exc)
            start.abort()
            pair.abort()
        finally:
            database.close()  # give this thread's connection back

    threads = [threading.Thread(target=worker, args=(tid,), name=f"ledger-race-{tid}") for tid in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    if hasattr(database, "_in_use"):  # Postgres pool: every worker gave its connection back
        assert len(database._in_use) == 0, f"{len(database._in_use)} pooled connections still checked out"
    errors = [exc for log in logs for exc in log.errors]
    assert errors == [], f"unexpected errors in workers: {errors!r}"

    attempts = [a for log in logs for a in log.hold_attempts]
    closes = [c for log in logs for c in log.closes]
    refused = [e for log in logs for e in log.insufficient]
    made = {ref: (user, amount) for ref, user, amount, outcome in attempts if outcome == "ok"}
    open_refs = set(made) - {ref for ref, _, outcome in closes if not outcome.replayed}

    # -- mid-way (the abandoned holds are still open): the ledger is consistent and nothing was lost
    assert open_refs, "expected some abandoned holds to check held balances against"
    assert [f"{b.check}: {b.detail}" for b in verify()] == []
    _check_balances(hot + duellists, made, closes, open_refs)

    # -- close whatever is still open (leftovers and duplicate entries in the shared queue)
    main_log, rng = Log(), random.Random(seed)
    for ref in sorted(set(shared) | open_refs):
        _close(main_log, rng, ref, "refund")
    closes += main_log.closes
    assert [f"{b.check}: {b.detail}" for b in verify()] == []
    _check_balances(hot + duellists, made, closes, set())

    # -- every hold ref: at most one real hold; a replay only after a real one
    by_ref: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for ref, _user, _amount, outcome in attempts:
        by_ref[ref][outcome] += 1
    for ref, outcomes in by_ref.items():
        assert outcomes["ok"] <= 1, f"hold {ref} was placed {outcomes['ok']} times"
        if outcomes["replayed"]:
            assert outcomes["ok"] == 1, f"hold {ref} replayed but never placed"
    duel_refs = [ref for ref in by_ref if ref.startswith("duel-")]
    assert len(duel_refs) == (n_threads // 2) * duels
    assert all(sum(by_ref[ref].values()) == 2 for ref in duel_refs)  # both duellists tried each one
    assert sum(by_ref[ref]["replayed"] for ref in duel_refs) > 0  # the duels really replayed

    # -- InsufficientTokens accounting: every attempt is a hold, a replay or a refusal
    tally = collections.Counter(outcome for _, _, _, outcome in attempts)
    assert set(tally) <= {"ok", "replayed", "insufficient"}
    assert tally["insufficient"] == len(refused)
    overdraws = [a for a in attempts if a[2] == GRANT + 1]
    assert len(overdraws) == n_threads * len(range(3, ops_per_thread, 10))
    assert all(a[3] == "insufficient" for a in overdraws)
    for exc, (ref, _user, amount, _) in zip(refused, (a for a in attempts if a[3] == "insufficient")):
        assert exc.needed == amount and exc.available >= 0
    assert all(0 <= e.available < GRANT + 1 for e in refused)

    # -- the database agrees with the log: one hold row and one hold transfer per placed hold
    with connection():
        refs = list(by_ref)
        rows = {h.ref: h for h in Hold.select().where(Hold.ref.in_(refs))}
        hold_transfers = collections.Counter(
            t.ref for t in Transfer.select().where((Transfer.kind == "hold") & Transfer.ref.in_(refs))
        )
        outcome_transfers = collections.Counter(
            (t.kind, t.ref) for t in Transfer.select().where(Transfer.kind.in_(["settle", "refund"])
                                                             & Transfer.ref.in_(refs))
        )
    assert set(rows) == set(made)
    assert hold_transfers == collections.Counter(made.keys())
    assert tally["ok"] == len(made)
    assert all(rows[ref].status == "closed" for ref in rows)

    # -- each hold closed exactly once; every other close replayed the winner's outcome
    winners: dict[str, HoldOutcome] = {}
    for ref, _how, outcome in closes:
        if not outcome.replayed:
            assert ref not in winners, f"hold {ref} was closed twice"
            winners[ref] = outcome
    assert set(winners) == set(made)
    for ref, _how, outcome in closes:
        won = winners[ref]
        assert (outcome.user_id, outcome.amount, outcome.settled, outcome.refunded) == \
            (won.user_id, won.amount, won.settled, won.refunded)
        row = rows[ref]
        assert (row.user_id, row.amount, row.settled, row.refunded) == \
            (won.user_id, won.amount, won.settled, won.refunded)
        assert won.amount == made[ref][1] and won.settled + won.refunded == won.amount
    assert outcome_transfers == collections.Counter(
        [("settle", ref) for ref, w in winners.items() if w.settled]
        + [("refund", ref) for ref, w in winners.items() if w.refunded]
    )
    assert any(len([c for c in closes if c[0] == ref]) > 1 for ref in made)  # some closes did collide

    # -- the system side: revenue is exactly what the winners settled, the grants are all accounted for
    system = ledger.system_balances()
    assert system["revenue"] == sum(w.settled for w in winners.values())
    assert system["bonus"] == -GRANT * (HOT_USERS + 2)


def _check_balances(hot: list[int], made: dict[str, tuple[int, int]], closes, open_refs: set[str]) -> None:
    settled = collections.Counter()
    for _ref, _how, outcome in closes:
        if not outcome.replayed:
            settled[outcome.user_id] += outcome.settled
    held = collections.Counter()
    for ref in open_refs:
        held[made[ref][0]] += made[ref][1]
    with connection():
        rows = {u.id: u for u in User.select().where(User.id.in_(hot))}
        revenue = collections.Counter()
        for t in Transfer.select().where((Transfer.kind == "settle") & Transfer.debit_user.in_(hot)):
            revenue[t.debit_user_id] += t.amount
    for uid in hot:
        row = rows[uid]
        assert row.available >= 0 and row.held >= 0
        assert row.available + row.held == GRANT - settled[uid], f"user #{uid}: lost update"
        assert row.held == held[uid]
        assert revenue[uid] == settled[uid]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_threads_race_on_hot_rows_postgres(database) -> None:
    _race(database, n_threads=8, ops_per_thread=100, duels=12, seed=1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_threads_race_on_hot_rows_sqlite(database) -> None:
    _race(database, n_threads=4, ops_per_thread=60, duels=8, seed=2)
