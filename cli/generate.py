"""The operator's `bananapics generate`: one job through the real pipeline, in this process."""

from __future__ import annotations

import time
from pathlib import Path

from bananapics.config import Config
from bananapics.db import atomic
from bananapics.errors import InvalidInput
from bananapics.models import Job
from bananapics.services import jobs, users
from bananapics.wiring import build_runtime
from bananapics.storage import store_reference
from bananapics.worker import run_job

# Jobs run without --user belong to this house account and are free (cost 0, no hold): an operator
# trying a model or a key should not need tokens. With --user the user's balance pays as usual.
OPERATOR_TG_ID = 1


def _reference_keys(runtime, user_id: int, paths: list[Path]) -> list[str]:
    keys = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
        keys.append(store_reference(runtime.storage, user_id, data))
    return keys


def run_generate(config: Config, *, model: str, prompt: str, refs: list[Path], settings: dict, count: int | None,
                 user_tg_id: int | None, out_dir: Path) -> tuple[Job, list[Path]]:
    runtime = build_runtime(config)
    if user_tg_id is None:
        user = users.register(OPERATOR_TG_ID, first_name="operator").user
    else:
        user = users.get(user_tg_id)
    if count is not None:
        settings = {**settings, "count": count}
    keys = _reference_keys(runtime, user.id, refs)
    with atomic():
        job = jobs.submit(user.id, model, prompt, settings, ref_keys=keys, source="cli", free=user_tg_id is None)
    outcome = run_job(job.id, runtime)
    while outcome.status == "retry":
        time.sleep(min(outcome.delay_s, 30.0))
        outcome = run_job(job.id, runtime)
    job = jobs.get(job.id)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for key in job.results:
        target = out_dir / key.replace("/", "_")
        target.write_bytes(runtime.storage.get(key))
        files.append(target)
    return job, files
