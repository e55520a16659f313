"""Jobs through Pilot: filter by status, retry a stuck job (an extra attempt when it used them all),
refund one; asserted on the job rows, the ledger and the admin log."""

from __future__ import annotations

import pytest

from bananapics.models import AdminAction, Job, User
from bananapics.services import jobs
from bananapics.tui.dialogs import Choose, ReasonConfirm
from tests.helpers import assert_ledger_clean
from tests.tui.conftest import settle
from tests.tui.screens_helpers import answer, go_to, keys

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def test_filter_retry_with_extra_attempt_and_refund(world, make_app):
    second = jobs.submit(world.alice.id, "nano-banana", "a second banana")
    jobs.claim(second.id, "w1")
    Job.update(attempts=Job.max_attempts).where(Job.id == second.id).execute()
    enqueued = []
    app = make_app(start="jobs")
    app.enqueue = enqueued.append
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert set(keys(pilot.app)) == {world.job.id, second.id}
        await answer(pilot, "s", "s")  # all → queued → running
        assert keys(pilot.app) == [second.id]

        await go_to(pilot, second.id)
        await answer(pilot, "y")
        assert isinstance(pilot.app.screen, Choose)
        await answer(pilot, "enter")
        await answer(pilot, *"provider hiccup", "enter")
        assert Job.get_by_id(second.id).status == "queued" and enqueued == [second.id]
        assert keys(pilot.app) == []

        await answer(pilot, "s", "s", "s", "s")  # failed, succeeded, partial, all
        held = User.get_by_id(world.alice.id).held
        await go_to(pilot, world.job.id)
        await answer(pilot, "f")
        assert isinstance(pilot.app.screen, ReasonConfirm)
        await answer(pilot, *"stuck for an hour", "enter")
    job = Job.get_by_id(world.job.id)
    assert job.status == "failed" and User.get_by_id(world.alice.id).held == held - job.cost
    actions = [a.action for a in AdminAction.select().order_by(AdminAction.id)][-3:]
    assert actions == ["jobs.extra_attempt", "jobs.retry", "jobs.refund"]
    assert_ledger_clean()


async def test_refunding_a_finished_job_is_refused(world, make_app):
    jobs.fail(world.job.id, "provider", "boom")
    async with make_app(start="jobs").run_test(size=(80, 24)) as pilot:
        await go_to(pilot, world.job.id)
        await answer(pilot, "f", *"again", "enter")
        await settle(pilot)
    assert not AdminAction.select().where(AdminAction.action == "jobs.refund").exists()
