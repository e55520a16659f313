"""A user's right to be forgotten, and the retention that runs every night.

:func:`forget` erases what a person told or sent us — names, username, prompts, reference and result
images, Telegram file references, drafts, pending messages — in one transaction with its admin-log
row. The user row stays, anonymous (its Telegram id becomes ``-id``, which no real id can be), so the
ledger still balances and every transfer, hold and payment keeps its owner. The Telegram id is free
again: the same person writing ``/start`` is a new user. Stored files are deleted after the commit
(a file deleted for a transaction that rolled back could not come back); calling :func:`forget`
again for the same Telegram id deletes whatever a failed first pass left and changes nothing else.

:func:`apply_retention` deletes stored images past ``[storage] retention_days`` and clears the
prompts of generations users deleted from their history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bananapics.db import atomic, is_postgres
from bananapics.errors import InvalidInput, NotFound
from bananapics.models import AdminAction, Draft, Job, Outbox, Panel, User, utcnow
from bananapics.models.jobs import ACTIVE
from bananapics.services import audit, tgfiles
from bananapics.services.audit import Actor
from bananapics.services.users import check_tg_id
from bananapics.storage import JOBS_PREFIX, REFS_PREFIX, user_references_prefix

FORGET_ACTION = "users.forget"


@dataclass(frozen=True)
class Forgotten:
    tg_id: int
    user_id: int  # the anonymous row that keeps the money records
    jobs: int  # generations whose prompt and images were erased
    files_deleted: int
    replayed: bool  # the user was forgotten before; only leftover files were deleted


def forget(tg_id: int, *, actor: Actor, reason: str, storage) -> Forgotten:
    """Erase a user's personal data (admin only); see the module docstring."""
    audit.authorize(actor, "users.forget", f"user:{tg_id}")
    check_tg_id(tg_id)
    if not reason or not reason.strip():
        raise InvalidInput("erasing a user's data needs a reason")
    with atomic():
        # The user's row is locked first, as jobs.submit does: a generation submitted meanwhile either
        # commits before (and is counted as running below) or waits and finds the user gone.
        query = User.select().where(User.tg_id == tg_id)
        user = (query.for_update() if is_postgres() else query).first()
        if user is None:
            earlier = _earlier_forget(tg_id)
            if earlier is None:
                raise NotFound(f"user {tg_id} not found")
            user_id, replayed = earlier, True
        else:
            user_id, replayed = user.id, False
            running = Job.select().where((Job.user == user.id) & Job.status.in_(ACTIVE)).count()
            if running:  # a worker would store (and the bot send) images after the erasure
                raise InvalidInput(f"user {tg_id} has {running} generation(s) running; try again when they end")
            keys = _erase(user)
            audit.record(actor, FORGET_ACTION, f"user:{tg_id}", before={"user_id": user.id},
                         after={"user_id": user.id, "tg_id": -user.id}, reason=reason.strip())
        job_ids = [job_id for (job_id,) in Job.select(Job.id).where(Job.user == user_id).tuples()]
    if replayed:
        keys = []
    deleted = _delete_files(storage, user_id, job_ids, keys)
    return Forgotten(tg_id, user_id, len(job_ids), deleted, replayed)


def _earlier_forget(tg_id: int) -> int | None:
    row = (AdminAction.select(AdminAction.after)
           .where((AdminAction.action == FORGET_ACTION) & (AdminAction.target == f"user:{tg_id}"))
           .order_by(AdminAction.id.desc()).first())
    return json.loads(row.after)["user_id"] if row is not None else None


def _erase(user: User) -> list[str]:
    """Blank the user's personal data in the database; returns the storage keys it referred to."""
    keys: set[str] = set()
    for ref_keys, result_keys in Job.select(Job.ref_keys, Job.result_keys).where(Job.user == user.id).tuples():
        keys.update(json.loads(ref_keys or "[]"))
        keys.update(json.loads(result_keys or "[]"))
    draft = Draft.get_or_none(Draft.user == user.id)
    if draft is not None:
        keys.update(draft.refs)
    Job.update(prompt="", ref_keys="[]", result_keys="[]", error_detail=None, chat_id=None,
               updated_at=utcnow()).where(Job.user == user.id).execute()
    Draft.delete().where(Draft.user == user.id).execute()
    Panel.delete().where(Panel.user == user.id).execute()
    Outbox.delete().where(Outbox.user == user.id).execute()  # nothing more is sent to them
    tgfiles.forget_keys(sorted(keys))
    User.update(tg_id=-user.id, username=None, first_name="", last_name="", ban_reason=None,
                pref_model=None, pref_ratio=None, blocked_bot=True, updated_at=utcnow()) \
        .where(User.id == user.id).execute()
    return sorted(keys)


def _delete_files(storage, user_id: int, job_ids: list[str], keys: list[str]) -> int:
    deleted = 0
    for key in keys:
        if storage.exists(key):
            storage.delete(key)
            deleted += 1
    deleted += storage.delete_prefix(user_references_prefix(user_id))
    for job_id in job_ids:
        deleted += storage.delete_prefix(f"{JOBS_PREFIX}{job_id}/")
    return deleted


@dataclass(frozen=True)
class Retention:
    days: int
    files_deleted: int
    prompts_cleared: int


def apply_retention(storage, retention_days: int, *, actor: Actor | None = None) -> Retention:
    """Delete stored images and references older than ``retention_days`` (0 keeps them) and clear
    the prompts of generations their owners deleted from their history. An operator's run
    (``actor``) is logged."""
    if actor is not None:
        audit.authorize(actor, "jobs.purge_media", "storage")
    files = 0
    if retention_days > 0:  # no transaction held while storage is walked
        files = sum(storage.purge_older_than(retention_days, prefix=prefix) for prefix in (JOBS_PREFIX, REFS_PREFIX))
    with atomic():
        cleared = Job.update(prompt="").where(Job.hidden_at.is_null(False) & (Job.prompt != "")).execute()
        if actor is not None:
            audit.record(actor, "jobs.purge_media", "storage",
                         after={"days": retention_days, "files_deleted": files, "prompts_cleared": cleared})
    return Retention(retention_days, files, cleared)
