"""The operator's `bananapics generate`: one job through the real pipeline, in this process."""

from __future__ import annotations

import stat
import time
from pathlib import Path

from bananapics.config import Config
from bananapics.db import atomic
from bananapics.errors import InvalidInput
from bananapics.images import MAX_BYTES
from bananapics.models import Job
from bananapics.services import jobs, users
from bananapics.services.audit import Actor
from bananapics.wiring import build_runtime
from bananapics.storage import store_reference
from bananapics.worker import run_job

# Jobs run without --user belong to this house account and are free (cost 0, no hold): an operator
# trying a model or a key should not need tokens. With --user the user's balance pays as usual.
OPERATOR_TG_ID = 1


def _read_reference(path: Path) -> bytes:
    """A regular file up to the reference size limit: a device (/dev/zero), a FIFO or a huge file
    would otherwise be read without end."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # before open(): opening a FIFO waits for a writer
            raise InvalidInput(f"cannot read {path}: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{path} is larger than the {MAX_BYTES // 2**20} MB limit for a reference image")
    return data


def _reference_keys(runtime, user_id: int, paths: list[Path]) -> list[str]:
    return [store_reference(runtime.storage, user_id, _read_reference(path)) for path in paths]


def run_generate(config: Config, *, model: str, prompt: str, refs: list[Path], settings: dict, count: int | None,
                 user_tg_id: int | None, out_dir: Path, actor: Actor, deliver: bool = False) -> tuple[Job, list[Path]]:
    """``user_tg_id``: the job is that user's, paid from their balance, held and logged under the
    operator ``actor``; ``deliver`` also sends it to their chat (the job carries the chat, so the
    result goes through the outbox and the bot's delivery loop like any bot job)."""
    try:  # before anything is spent
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot write images to {out_dir}: {exc.strerror}") from None
    runtime = build_runtime(config)
    if user_tg_id is None:
        user = users.register(OPERATOR_TG_ID, first_name="operator").user
    else:
        user = users.get(user_tg_id)
    if count is not None:
        settings = {**settings, "count": count}
    keys = _reference_keys(runtime, user.id, refs)
    with atomic():
        job = jobs.submit(user.id, model, prompt, settings, ref_keys=keys, source="cli", free=user_tg_id is None,
                          chat_id=user.tg_id if deliver else None, actor=actor if user_tg_id is not None else None)
    outcome = run_job(job.id, runtime)
    while outcome.status == "retry":
        time.sleep(min(outcome.delay_s, 30.0))
        outcome = run_job(job.id, runtime)
    job = jobs.get(job.id)
    files = []
    for key in job.results:
        target = out_dir / key.replace("/", "_")
        try:
            target.write_bytes(runtime.storage.get(key))
        except OSError as exc:
            raise InvalidInput(f"job {job.id} is {job.status} but {target} cannot be written: {exc.strerror}") from None
        files.append(target)
    return job, files
