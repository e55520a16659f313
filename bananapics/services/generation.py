"""Submitting a generation from the bot: the job (hold + job row) and, once that transaction has
committed, its id on the queue. One function for every way a user submits (the wizard's Generate,
Again / Try again), so none of them can enqueue a job that was rolled back or forget to enqueue.

``tasks`` is the runtime's task object (``bananapics.wiring.build_tasks``): anything with
``enqueue_after_commit(job_id)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bananapics.db import atomic
from bananapics.models import Job
from bananapics.services import drafts


def submitted(tasks: Any, submit: Callable[..., Job], *args: Any, **kwargs: Any) -> Job:
    """``submit(*args, **kwargs)`` (a service that writes the job row and its hold) in one
    transaction, and the job's id enqueued after it commits. A double tap gets the same job back
    from ``submit`` (it locks the user's row first) and enqueues the id once more, which the worker's
    claim makes harmless."""
    with atomic():
        job = submit(*args, **kwargs)
        tasks.enqueue_after_commit(job.id)
    return job


def confirm(tasks: Any, user_id: int, *, chat_id: int | None, **options: Any) -> Job:
    """The user's draft as a job (:func:`drafts.confirm`; ``options`` go to it unchanged)."""
    return submitted(tasks, drafts.confirm, user_id, chat_id=chat_id, **options)


def repeat(tasks: Any, user_id: int, job_id: str, *, chat_id: int | None, pressed: int | None = None) -> Job:
    """The same request as ``job_id`` again, held anew (:func:`drafts.repeat`)."""
    return submitted(tasks, drafts.repeat, user_id, job_id, chat_id=chat_id, pressed=pressed)
