"""The services the bot's handlers now call: ``onboarding.start`` (the first /start: welcome,
referral binding, deep link) and ``generation`` (submit a job, enqueue its id in the same
transaction, after the job row exists)."""

from __future__ import annotations

import pytest

from bananapics.errors import InvalidInput
from bananapics.models import Job, Outbox, User
from bananapics.services import drafts, generation, ledger, onboarding, preferences, users
from tests.helpers import assert_ledger_clean, new_user


def _fresh(user: User) -> User:
    return users.get_by_id(user.id)


def test_the_first_start_greets_binds_the_referrer_and_tells_them_once(database):
    ann = new_user()
    bob = users.register(700_900_001, first_name="Bob").user  # registered by this update, not yet welcomed
    started = onboarding.start(bob, f"ref_{ann.referral_code}")
    assert started.greet and started.inviter.id == ann.id and started.link is None
    assert _fresh(bob).referrer_id == ann.id and _fresh(bob).welcomed
    notice = Outbox.get(Outbox.user == ann.id)
    assert notice.kind == onboarding.NOTICE_FRIEND_JOINED and notice.data == {"name": "Bob"}

    again = onboarding.start(_fresh(bob), f"ref_{ann.referral_code}")  # a second /start: nothing new
    assert not again.greet and again.inviter is None
    assert Outbox.select().where(Outbox.user == ann.id).count() == 1


def test_a_bad_referral_code_still_greets(database):
    bob = users.register(700_900_002, first_name="Bob").user
    started = onboarding.start(bob, "ref_nosuchcode")
    assert started.greet and started.inviter is None and _fresh(bob).referrer_id is None


def test_a_deep_link_is_chosen_by_its_prefix(database):
    bob = new_user()
    started = onboarding.start(bob, "tpl_12", links=("tpl_",))
    assert (started.link, started.arg) == ("tpl_", "12")
    assert onboarding.start(bob, "what", links=("tpl_",)).link is None


def test_language_change_is_validated(database):
    bob = new_user()
    assert preferences.set_language(bob.id, "ru").language == "ru"
    with pytest.raises(InvalidInput):
        preferences.set_language(bob.id, "xx")
    assert _fresh(bob).language == "ru"


class Tasks:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def enqueue_after_commit(self, job_id: str) -> None:
        self.ids.append(job_id)


def test_confirm_holds_and_enqueues_the_job_once_per_confirm_screen(database):
    user = new_user(100)
    drafts.set_prompt(user.id, "a lighthouse")
    drafts.go(user.id, "confirm")
    tasks = Tasks()
    job = generation.confirm(tasks, user.id, chat_id=user.tg_id)
    assert generation.confirm(tasks, user.id, chat_id=user.tg_id).id == job.id  # a double tap: the same job
    assert tasks.ids == [job.id, job.id] and Job.select().count() == 1
    assert ledger.balance(user.id) == (100 - job.cost, job.cost)
    again = generation.repeat(tasks, user.id, job.id, chat_id=user.tg_id, pressed=7)
    assert again.id != job.id and tasks.ids[-1] == again.id and Job.select().count() == 2
    assert_ledger_clean()


def test_a_refused_submit_enqueues_nothing(database):
    user = new_user(100)
    tasks = Tasks()
    with pytest.raises(InvalidInput):
        generation.confirm(tasks, user.id, chat_id=user.tg_id)  # no prompt yet
    assert tasks.ids == [] and Job.select().count() == 0
    assert_ledger_clean()
