"""Jobs on SQLite and Postgres: submit with a hold, claim, finish once, retries, sweeper, crash injection."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from bananapics.errors import BananaError, InsufficientTokens, InvalidInput, NotFound, UserBanned
from bananapics.models import AiModel, Job, Outbox, Transfer, utcnow
from bananapics.providers.base import GenerationRequest, ImageOut, ProviderError
from bananapics.services import jobs, ledger, settings, users
from bananapics.services.audit import Actor
from bananapics.services.jobs import Timing, TooManyJobs
from bananapics.storage import LocalStorage
from bananapics.worker import Runtime, run_job
from tests.helpers import assert_ledger_clean, new_user

ADMIN = Actor.operator("ops")
TIMING = Timing(lease_s=60, deadline_s=600, requeue_after_s=30)


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 180, 20)).save(buf, "PNG")
    return buf.getvalue()


class Scripted:
    """A provider double whose outcomes the test scripts: an int (images), or a ProviderError."""

    name = "scripted"

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> list[ImageOut]:
        self.calls.append(request)
        step = self.steps.pop(0) if self.steps else request.count
        if isinstance(step, Exception):
            raise step
        return [ImageOut(png(), "image/png", 8, 8) for _ in range(step)]


class Crash(Exception):
    """A worker dying at a boundary (the process would be gone; nothing catches this)."""


@pytest.fixture
def runtime(database, tmp_path):
    def make(provider, fault=None):
        return Runtime(storage=LocalStorage(tmp_path / "media"), provider_for=lambda name: provider,
                       timing=TIMING, name="test", fault=fault)
    return make


def balance(user):
    return ledger.balance(user.id)


def test_submit_holds_the_price_and_run_settles(database, runtime):
    user = new_user(100)
    job = jobs.submit(user.id, "nano-banana", "a fox", {"count": 2}, chat_id=5)
    assert (job.status, job.cost, job.count) == ("queued", 30, 2)
    assert balance(user) == (70, 30)
    provider = Scripted()
    assert run_job(job.id, runtime(provider)).status == "succeeded"
    job = jobs.get(job.id)
    assert (job.status, job.delivered, job.attempts, len(job.results)) == ("succeeded", 2, 1, 2)
    assert balance(user) == (70, 0)
    assert provider.calls[0].prompt == "a fox" and provider.calls[0].settings["count"] == 2
    row = Outbox.get(Outbox.job == job.id)
    assert (row.kind, row.chat_id, row.data["images"]) == ("job_result", 5, job.results)
    assert_ledger_clean()


def test_partial_result_charges_the_delivered_share(database, runtime):
    user = new_user(100)
    job = jobs.submit(user.id, "nano-banana", "three foxes", {"count": 3}, chat_id=5)
    assert run_job(job.id, runtime(Scripted(1))).status == "partial"
    assert balance(user) == (85, 0)  # 45 held, 15 settled, 30 refunded
    assert Outbox.get(Outbox.job == job.id).data["refunded"] == 30
    assert_ledger_clean()


def test_final_failure_refunds_and_tells_the_user(database, runtime):
    user = new_user(100)
    job = jobs.submit(user.id, "gpt-image", "something blocked", {"quality": "high"}, chat_id=9)
    outcome = run_job(job.id, runtime(Scripted(ProviderError("moderation", "raw provider text: moderation_blocked"))))
    assert outcome.status == "failed"
    job = jobs.get(job.id)
    assert (job.error_kind, job.delivered) == ("moderation", 0)
    assert "moderation_blocked" in job.error_detail
    assert balance(user) == (100, 0)
    row = Outbox.get(Outbox.job == job.id)
    assert row.kind == "job_failed" and row.data == {"reason": "moderation", "refunded": 30, "model": "gpt-image"}
    assert "raw provider text" not in row.payload
    assert_ledger_clean()


def test_transient_errors_retry_then_succeed_or_refund(database, runtime):
    user = new_user(100)
    job = jobs.submit(user.id, "seedream-4", "busy", chat_id=1)
    rt = runtime(Scripted(ProviderError("rate_limited", "429", retry_after=0.0), 1))
    first = run_job(job.id, rt)
    assert (first.status, first.delay_s) == ("retry", 0.0)
    assert jobs.get(job.id).status == "queued"
    assert run_job(job.id, rt).status == "succeeded"
    job = jobs.get(job.id)
    assert job.status == "succeeded" and job.attempts == 2
    other = jobs.submit(user.id, "seedream-4", "always down", chat_id=1)
    down = ProviderError("provider_down", "503", retry_after=0.0)
    rt = runtime(Scripted(down, down, down, down))
    assert [run_job(other.id, rt).status for _ in range(4)] == ["retry", "retry", "failed", "skipped"]
    assert jobs.get(other.id).status == "failed"
    assert balance(user) == (90, 0)
    assert_ledger_clean()


def test_duplicate_delivery_claims_nothing(database, runtime):
    user = new_user(100)
    job = jobs.submit(user.id, "nano-banana", "once", chat_id=1)
    provider = Scripted()
    rt = runtime(provider)
    assert [run_job(job.id, rt).status for _ in range(3)] == ["succeeded", "skipped", "skipped"]
    assert len(provider.calls) == 1
    assert Transfer.select().where(Transfer.ref == job.id).count() == 2  # hold + settle
    assert_ledger_clean()


@pytest.mark.parametrize("model,job_settings,refs,prompt,title", [
    ("dall-e-9", {}, 0, "x", "model_unknown"),
    ("nano-banana", {"count": 0}, 0, "x", None),
    ("nano-banana", {"count": 99}, 0, "x", None),
    ("seedream-4", {}, 11, "x", None),
    ("nano-banana", {}, 0, "   ", "prompt_empty"),
    ("nano-banana", {}, 0, "y" * 2001, "prompt_too_long"),
    ("nano-banana", {"resolution": "16K"}, 0, "x", None),
])
def test_bad_requests_move_no_token(database, model, job_settings, refs, prompt, title):
    user = new_user(100)
    with pytest.raises((InvalidInput, NotFound)) as exc:
        jobs.submit(user.id, model, prompt, job_settings, ref_keys=[f"refs/x/{n}.jpg" for n in range(refs)])
    if title:
        assert exc.value.title == title
    assert balance(user) == (100, 0) and Job.select().count() == 0
    assert users.get(user.tg_id).inflight == 0


def test_disabled_model_banned_user_and_insufficient_balance(database):
    user = new_user(10)
    AiModel.update(enabled=False).where(AiModel.id == "gpt-image").execute()
    with pytest.raises(InvalidInput) as exc:
        jobs.submit(user.id, "gpt-image", "x")
    assert exc.value.title == "model_disabled"
    with pytest.raises(InsufficientTokens):
        jobs.submit(user.id, "nano-banana", "x")
    users.ban(user.tg_id, reason="spam", actor=ADMIN)
    with pytest.raises(UserBanned):
        jobs.submit(user.id, "seedream-4", "x")
    assert balance(user) == (10, 0) and Job.select().count() == 0
    assert users.get(user.tg_id).inflight == 0
    assert_ledger_clean()


def test_same_job_id_is_one_job(database):
    user = new_user(100)
    first = jobs.submit(user.id, "nano-banana", "tap", job_id="confirm-1")
    again = jobs.submit(user.id, "nano-banana", "tap", job_id="confirm-1")
    assert first.id == again.id and balance(user) == (85, 15)
    stranger = new_user(100)
    with pytest.raises(InvalidInput):
        jobs.submit(stranger.id, "nano-banana", "tap", job_id="confirm-1")
    assert_ledger_clean()


def test_per_user_parallel_cap_and_per_model_cap(database, runtime):
    user = new_user(500)
    a = jobs.submit(user.id, "nano-banana", "one")
    jobs.submit(user.id, "nano-banana", "two")
    with pytest.raises(TooManyJobs):
        jobs.submit(user.id, "nano-banana", "three")
    run_job(a.id, runtime(Scripted()))
    jobs.submit(user.id, "nano-banana", "three")
    settings.set_value("limits.model_concurrency", 1, actor=ADMIN)
    other = new_user(100)
    b = jobs.submit(other.id, "seedream-4", "b")
    c = jobs.submit(other.id, "seedream-4", "c")
    assert jobs.claim(b.id, "w1") is not None
    assert jobs.claim(c.id, "w2") is None  # the model's only slot is taken
    assert jobs.get(c.id).status == "queued"
    assert_ledger_clean()


def test_a_model_with_its_own_concurrency_cap(database, runtime):
    """catalog.set_concurrency: one model capped below the shared limit, the others unaffected;
    0 takes the model back to the shared limit; the change is in the admin log."""
    from bananapics.models import AdminAction
    from bananapics.services import catalog

    assert catalog.set_concurrency("seedream-4", 1, actor=ADMIN, reason="slow provider") == 1
    users_ = [new_user(100) for _ in range(3)]
    b, c = (jobs.submit(u.id, "seedream-4", "x") for u in users_[:2])
    assert jobs.claim(b.id, "w1") is not None
    assert jobs.claim(c.id, "w2") is None  # seedream's one slot is taken
    d, e = (jobs.submit(users_[2].id, "nano-banana", p) for p in ("d", "e"))
    assert jobs.claim(d.id, "w3") is not None and jobs.claim(e.id, "w4") is not None  # the shared limit (16)
    assert catalog.set_concurrency("seedream-4", 0, actor=ADMIN) is None
    assert jobs.claim(c.id, "w2") is not None
    row = AdminAction.select().where(AdminAction.action == "catalog.concurrency").order_by(AdminAction.id).first()
    assert row.target == "model:seedream-4" and '"concurrency": 1' in row.after and row.reason == "slow provider"
    with pytest.raises(InvalidInput):
        catalog.set_concurrency("seedream-4", -1, actor=ADMIN)
    with pytest.raises(NotFound):
        catalog.set_concurrency("no-such-model", 2, actor=ADMIN)
    assert_ledger_clean()


@pytest.mark.parametrize("boundary", ["after_claim", "before_call", "after_call", "before_finish", "after_finish"])
def test_crash_at_any_boundary_ends_exactly_once(database, runtime, boundary):
    user = new_user(100)
    job = jobs.submit(user.id, "nano-banana", "crash me", chat_id=3)

    def fault(point, job_id):
        if point == boundary:
            raise Crash(point)

    with pytest.raises(Crash):
        run_job(job.id, runtime(Scripted(), fault))
    assert_ledger_clean()
    later = utcnow() + dt.timedelta(seconds=TIMING.lease_s + 1)
    report = jobs.sweep(TIMING, now=later)
    if boundary == "after_finish":
        assert report.requeued == [] and jobs.get(job.id).status == "succeeded"
    else:
        assert report.requeued == [job.id]
        assert run_job(job.id, runtime(Scripted())).status == "succeeded"
    job = jobs.get(job.id)
    assert job.status == "succeeded"
    assert Transfer.select().where((Transfer.ref == job.id) & (Transfer.kind == "settle")).count() == 1
    assert Outbox.select().where(Outbox.job == job.id).count() == 1
    assert balance(user) == (85, 0)
    assert_ledger_clean()


def test_sweeper_refunds_past_deadline_and_after_max_attempts(database, runtime):
    user = new_user(100)
    stuck = jobs.submit(user.id, "nano-banana", "never picked up", chat_id=1, timing=TIMING)
    report = jobs.sweep(TIMING, now=utcnow() + dt.timedelta(seconds=TIMING.deadline_s + 1))
    assert report.failed == [stuck.id]
    assert jobs.get(stuck.id).error_kind == "timeout"
    assert balance(user) == (100, 0)
    crashy = jobs.submit(user.id, "nano-banana", "crashes every time", chat_id=1)

    def always(point, job_id):
        if point == "before_call":
            raise Crash(point)

    now = utcnow()
    for attempt in range(3):
        with pytest.raises(Crash):
            run_job(crashy.id, runtime(Scripted(), always))
        now += dt.timedelta(seconds=TIMING.lease_s + 1)
        report = jobs.sweep(TIMING, now=now)
        if attempt < 2:
            assert report.requeued == [crashy.id]
    assert report.failed == [crashy.id]
    assert jobs.get(crashy.id).status == "failed"
    assert balance(user) == (100, 0)
    assert Outbox.select().where(Outbox.kind == "job_failed").count() == 2
    assert_ledger_clean()


def test_errors_are_typed(database):
    assert issubclass(TooManyJobs, BananaError)
    with pytest.raises(NotFound):
        jobs.get("nope")
    with pytest.raises(NotFound):
        jobs.requeue("nope", actor=ADMIN)


def test_no_free_slot_means_retry_soon_not_skip(database, runtime):
    settings.set_value("limits.model_concurrency", 1, actor=ADMIN)
    user = new_user(100)
    a = jobs.submit(user.id, "seedream-4", "a")
    b = jobs.submit(user.id, "seedream-4", "b")
    assert jobs.claim(a.id, "w1") is not None
    outcome = run_job(b.id, runtime(Scripted()))
    assert (outcome.status, outcome.delay_s) == ("retry", jobs.SLOT_RETRY_S)
    assert jobs.get(b.id).status == "queued"
    assert_ledger_clean()


def test_lease_takeover_keeps_slot_count(database):
    user = new_user(100)
    job = jobs.submit(user.id, "nano-banana", "taken over")
    assert jobs.claim(job.id, "dead-worker") is not None
    Job.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(Job.id == job.id).execute()
    again = jobs.claim(job.id, "new-worker")
    assert again is not None and (again.worker, again.attempts) == ("new-worker", 2)
    assert jobs.claim(job.id, "third") is None  # the new lease is fresh
    assert_ledger_clean()  # model_slots.running still equals the one running job
