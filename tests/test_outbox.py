"""Outbox service: claim, send once, retry with backoff, dead letters, crashed senders."""

from __future__ import annotations

import datetime as dt

from bananapics.models import Outbox, utcnow
from bananapics.services import jobs, outbox
from bananapics.worker import Runtime, run_job
from tests.helpers import new_user
from tests.test_jobs import Scripted


def finished_job(tmp_path, chat_id=77):
    from bananapics.storage import LocalStorage

    user = new_user(100)
    job = jobs.submit(user.id, "nano-banana", "deliver me", chat_id=chat_id)
    run_job(job.id, Runtime(storage=LocalStorage(tmp_path), provider_for=lambda _: Scripted()))
    return job


def test_claim_send_once(database, tmp_path):
    job = finished_job(tmp_path)
    rows = outbox.claim()
    assert [(r.job_id, r.kind, r.chat_id, r.attempts) for r in rows] == [(job.id, "job_result", 77, 1)]
    assert outbox.claim() == []  # taken rows are not handed out twice
    assert outbox.mark_sent(rows[0].id) is True
    assert outbox.mark_sent(rows[0].id) is False
    assert outbox.pending_count() == 0


def test_retry_backoff_and_dead_letter(database, tmp_path):
    finished_job(tmp_path)
    now = utcnow()
    row = outbox.claim(now=now)[0]
    assert outbox.retry(row.id, "FloodWait 30", delay_s=30, now=now) == "pending"
    assert outbox.claim(now=now + dt.timedelta(seconds=29)) == []
    for attempt in range(outbox.MAX_ATTEMPTS - 1):
        now += dt.timedelta(hours=1)
        row = outbox.claim(now=now)[0]
        status = outbox.retry(row.id, "network", now=now)
    assert status == "dead"
    assert Outbox.get_by_id(row.id).last_error == "network"
    assert outbox.claim(now=now + dt.timedelta(days=1)) == []


def test_crashed_sender_rows_come_back_via_sweeper(database, tmp_path):
    finished_job(tmp_path)
    now = utcnow()
    row = outbox.claim(now=now, lock_s=60)[0]
    report = jobs.sweep(now=now + dt.timedelta(seconds=61))
    assert report.outbox_released == 1
    again = outbox.claim(now=now + dt.timedelta(seconds=62))
    assert [r.id for r in again] == [row.id] and again[0].attempts == 2


def test_give_up_for_blocked_users(database, tmp_path):
    finished_job(tmp_path)
    row = outbox.claim()[0]
    outbox.give_up(row.id, "UserIsBlockedError")
    assert Outbox.get_by_id(row.id).status == "dead"
    assert outbox.retry(row.id, "late") == "dead"
