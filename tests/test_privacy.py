"""`users forget` (privacy.forget), retention of deleted prompts, and private database files."""

from __future__ import annotations

import os
import stat

import pytest

from bananapics.config import DatabaseConfig, QueueConfig
from bananapics.db import atomic, make_database
from bananapics.errors import InvalidInput, NotFound, PermissionDenied
from bananapics.models import AdminAction, Draft, Job, Outbox, Panel, TgFile, Transfer, User
from bananapics.services import history, privacy, users
from bananapics.services.audit import Actor
from bananapics.simtg import SimUser
from bananapics.storage import LocalStorage
from bananapics.tasks.queue import make_huey
from tests.helpers import assert_ledger_clean, new_user, scenario
from tests.test_bot_wizard import deliver, picture, roomy

OPS = Actor.operator("tests")


def test_forget_erases_a_real_users_data_and_the_same_id_comes_back_new(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", last_name="Lee", username="annlee", lang_code="en")
        await ann.start()
        await ann.press("Generate")
        await ann.press("SeeDream 4")
        await ann.send("my secret garden")
        await ann.send_photo(picture(1))
        await ann.press("Done")
        await ann.press("Next")
        await ann.press("Generate — 10")
        assert await deliver(bot) == 1
        old = users.get(ann.id)
        job = Job.get(Job.user == old.id)
        keys = job.refs + job.results
        assert len(job.refs) == 1 and job.results and all(bot.storage.exists(k) for k in keys)
        assert TgFile.select().where(TgFile.storage_key.in_(keys)).count() > 0
        transfers = Transfer.select().count()

        done = privacy.forget(ann.id, actor=OPS, reason="asked in /support", storage=bot.storage)

        assert (done.replayed, done.jobs) == (False, 1) and done.files_deleted >= len(keys)
        row = User.get_by_id(old.id)
        assert (row.tg_id, row.username, row.first_name, row.last_name) == (-old.id, None, "", "")
        assert (row.available, row.held) == (old.available, old.held)  # the money stays, anonymous
        job = Job.get_by_id(job.id)
        assert (job.prompt, job.refs, job.results, job.chat_id) == ("", [], [], None)
        assert not any(bot.storage.exists(k) for k in keys)
        assert bot.storage.list(f"refs/{old.id}/") == [] and bot.storage.list(f"jobs/{job.id}/") == []
        assert TgFile.select().where(TgFile.storage_key.in_(keys)).count() == 0
        assert Draft.select().where(Draft.user == old.id).count() == 0
        assert Panel.select().where(Panel.user == old.id).count() == 0
        assert Outbox.select().where(Outbox.user == old.id).count() == 0
        assert Transfer.select().count() == transfers
        log = AdminAction.get(AdminAction.action == "users.forget")
        assert (log.actor, log.target, log.reason) == ("cli:tests", f"user:{ann.id}", "asked in /support")
        assert_ledger_clean()

        # the same Telegram account writes again: a new user, greeted as one
        await ann.start()
        assert "Welcome to BananaPics" in ann.panel.text or any("Welcome to BananaPics" in m.text for m in ann.messages[-3:])
        fresh = users.get(ann.id)
        assert fresh.id != old.id and fresh.first_name == "Ann" and fresh.available == 50
        assert User.get_by_id(old.id).tg_id == -old.id
        assert_ledger_clean()

    scenario(database, body)


def test_forget_again_only_finishes_the_file_deletes(database, tmp_path):
    storage = LocalStorage(tmp_path / "media")
    user = new_user(first_name="Bo")
    storage.put(f"refs/{user.id}/{'a' * 64}.jpg", b"x")
    first = privacy.forget(user.tg_id, actor=OPS, reason="request", storage=storage)
    assert (first.replayed, first.files_deleted) == (False, 1)
    storage.put(f"refs/{user.id}/{'b' * 64}.jpg", b"y")  # a delete that failed the first time
    again = privacy.forget(user.tg_id, actor=OPS, reason="request", storage=storage)
    assert (again.replayed, again.files_deleted, again.user_id) == (True, 1, user.id)
    assert AdminAction.select().where(AdminAction.action == "users.forget").count() == 1
    assert_ledger_clean()


def test_forget_is_admin_only_needs_a_reason_and_waits_for_running_jobs(database, tmp_path):
    storage = LocalStorage(tmp_path / "media")
    user = new_user(start=50)
    with pytest.raises(PermissionDenied):
        privacy.forget(user.tg_id, actor=Actor("tg:1", "support"), reason="x", storage=storage)
    with pytest.raises(InvalidInput):
        privacy.forget(user.tg_id, actor=OPS, reason=" ", storage=storage)
    with pytest.raises(NotFound):
        privacy.forget(123_456_789, actor=OPS, reason="x", storage=storage)
    from bananapics.services import jobs

    with atomic():
        jobs.submit(user.id, "seedream-4", "a cat")
    with pytest.raises(InvalidInput, match="running"):
        privacy.forget(user.tg_id, actor=OPS, reason="x", storage=storage)
    assert users.get(user.tg_id).id == user.id  # nothing changed
    # only the support's refusal is logged (as every refused admin call is)
    assert [(a.action, a.outcome) for a in AdminAction.select()] == [("users.forget", "denied")]


def test_retention_clears_prompts_of_deleted_generations(database, tmp_path):
    from bananapics.services import jobs

    storage = LocalStorage(tmp_path / "media")
    user = new_user(start=50)
    with atomic():
        kept = jobs.submit(user.id, "seedream-4", "keep me", free=True)
        gone = jobs.submit(user.id, "seedream-4", "delete me", free=True)
    for job in (kept, gone):
        jobs.claim(job.id, "w")
        jobs.succeed(job.id, [f"jobs/{job.id}/0.png"])
    history.delete(user.id, gone.id, storage)
    done = privacy.apply_retention(storage, 30, actor=OPS)
    assert done.prompts_cleared == 1
    assert (Job.get_by_id(kept.id).prompt, Job.get_by_id(gone.id).prompt) == ("keep me", "")
    log = AdminAction.get(AdminAction.action == "jobs.purge_media")
    assert (log.actor, log.target) == ("cli:tests", "storage")
    assert privacy.apply_retention(storage, 0).prompts_cleared == 0  # the periodic run: nothing left, no log
    assert AdminAction.select().count() == 1


def test_sqlite_database_and_queue_files_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        database = make_database(DatabaseConfig(url=f"sqlite:///{tmp_path}/data/db.sqlite"))
        database.connect()
        database.execute_sql("CREATE TABLE t (x)")
        database.close()
        huey = make_huey(QueueConfig(backend="sqlite", sqlite_path=str(tmp_path / "q" / "queue.db")))
        huey.pending_count()
    finally:
        os.umask(old)
    for path in (tmp_path / "data" / "db.sqlite", tmp_path / "q" / "queue.db"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
