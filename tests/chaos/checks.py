"""What every chaos test asserts at the end: each paid job ended once (held once; settled or
refunded once, never both), told its user once (one outbox row, sent), and the ledger verifies."""

from __future__ import annotations

from collections import Counter

from bananapics.models import Job, Outbox, Transfer
from bananapics.models.jobs import TERMINAL
from tests.helpers import assert_ledger_clean

DONE = "✅ Done: 1 image"
FAILED = "❌ The image could not be created."


def job_states() -> Counter:
    return Counter(j.status for j in Job.select(Job.status))


def all_finished(expected: int) -> bool:
    """Every job terminal and every outbox row settled (sent, or dead for a user who blocked the bot)."""
    states = job_states()
    if sum(states.values()) != expected or any(s not in TERMINAL for s in states):
        return False
    return not Outbox.select().where(Outbox.status.in_(("pending", "sending"))).exists()


def progress() -> str:
    outbox = Counter(o.status for o in Outbox.select(Outbox.status))
    return f"jobs {dict(job_states())}, outbox {dict(outbox)}"


def assert_each_job_once(expected: int, *, blocked: set[int] = frozenset()) -> dict[str, Job]:
    """Every job ended exactly once in money and in messages; returns them by id. ``blocked``: user
    ids (database ids) whose rows are dead because they blocked the bot."""
    jobs = {j.id: j for j in Job.select()}
    assert len(jobs) == expected, progress()
    moves = Counter((t.kind, t.ref) for t in Transfer.select(Transfer.kind, Transfer.ref)
                    .where(Transfer.kind.in_(("hold", "settle", "refund"))))
    rows = Counter(o.job_id for o in Outbox.select(Outbox.job).where(Outbox.job.is_null(False)))
    for job in jobs.values():
        assert job.status in ("succeeded", "failed"), (job.id, job.status)
        held, settled, refunded = (moves[("hold", job.id)], moves[("settle", job.id)], moves[("refund", job.id)])
        assert held == 1, (job.id, held)
        if job.status == "succeeded":
            assert (settled, refunded) == (1, 0), (job.id, settled, refunded)
        else:
            assert (settled, refunded) == (0, 1), (job.id, job.error_kind, settled, refunded)
        assert rows[job.id] == 1, (job.id, rows[job.id])
    for row in Outbox.select().where(Outbox.job.is_null(False)):
        wanted = "dead" if row.user_id in blocked else "sent"
        assert row.status == wanted, (row.id, row.status, row.last_error)
    assert_ledger_clean()
    return jobs


def assert_told_once(people, jobs: dict[str, Job]) -> None:
    """Each user's chat shows one result (photo, file, "Done") per succeeded job of theirs and one
    failure notice per failed one: nothing twice, nothing missing."""
    by_user = Counter((j.user.tg_id, j.status) for j in jobs.values())
    for person in people:
        texts = person.texts
        done = sum(t.startswith(DONE) for t in texts)
        failed = sum(t.startswith(FAILED) for t in texts)
        photos = sum(m.media_kind == "photo" for m in person.messages)
        assert (done, photos, failed) == (by_user[(person.id, "succeeded")], by_user[(person.id, "succeeded")],
                                          by_user[(person.id, "failed")]), person.id
