"""``bananapics jobs …``, ``bananapics generate`` and ``bananapics worker``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bananapics.cli.common import AsOpt, JsonOpt, config, database, operator, out, print_json, table, group
from bananapics.errors import InvalidInput
from bananapics.models import Job
from bananapics.models.jobs import ACTIVE, TERMINAL
from bananapics.services import jobs, lists

app = group("Generation jobs.")
STATUSES = ACTIVE + TERMINAL


def job_dict(job: Job) -> dict:
    return {
        "id": job.id, "user_tg_id": job.user.tg_id, "model": job.model, "provider_model": job.provider_model,
        "status": job.status, "cost": job.cost, "count": job.count, "delivered": job.delivered,
        "attempts": job.attempts, "error_kind": job.error_kind, "prompt": job.prompt,
        "settings": job.settings_dict, "references": job.refs, "results": job.results,
        "created_at": job.created_at, "finished_at": job.finished_at,
        "hidden_at": job.hidden_at,  # the user deleted it from their history
    }


@app.command("list")
def list_(status: Annotated[str | None, typer.Option(help=f"{', '.join(STATUSES)}.")] = None,
          user: Annotated[int | None, typer.Option(help="Only this Telegram user.")] = None,
          limit: Annotated[int, typer.Option(min=1, max=1000)] = 50, as_json: JsonOpt = False) -> None:
    """Recent jobs, newest first.

    Example: bananapics jobs list --status failed --json
    """
    if status is not None and status not in STATUSES:  # a typo would list nothing and look like "no jobs"
        raise typer.BadParameter(f"{status!r} is not one of {', '.join(STATUSES)}", param_hint="'--status'")
    database()
    rows = lists.jobs(actor=operator(None), status=status, user=user, limit=limit).items
    if as_json:
        print_json([job_dict(j) for j in rows])
        return
    table(None, ["id", "user", "model", "status", "cost", "delivered", "attempts", "created"],
          [[j.id, j.user.tg_id, j.model, j.status, j.cost, f"{j.delivered}/{j.count}", j.attempts,
            j.created_at.isoformat(sep=" ", timespec="seconds")] for j in rows])


@app.command()
def show(job_id: str, as_json: JsonOpt = False) -> None:
    """One job with its settings, error and result keys.

    Example: bananapics jobs show 01J9ZKX3 --json
    """
    database()
    data = job_dict(jobs.get(job_id))
    if as_json:
        print_json(data)
        return
    table(None, ["field", "value"], [[k, json.dumps(v, default=str) if isinstance(v, (dict, list)) else v]
                                      for k, v in data.items()])


@app.command()
def retry(job_id: str,
          extra_attempt: Annotated[bool, typer.Option("--extra-attempt", help="Grant one more attempt to a job "
                                                      "that has used them all (admin; logged).")] = False,
          reason: Annotated[str | None, typer.Option("--reason", "-r", help="Why (kept in the admin log).")] = None,
          as_: AsOpt = None) -> None:
    """Put a stuck job back in the queue now (a finished job cannot be retried).

    Example: bananapics jobs retry 01J9ZKX3 --extra-attempt --reason "provider recovered"
    """
    from bananapics.wiring import build_tasks

    actor = operator(as_)
    database()
    job = jobs.requeue(job_id, extra_attempt=extra_attempt, actor=actor, reason=reason)
    build_tasks(config()).enqueue(job.id)
    out.print(f"job {job.id} re-queued")


@app.command()
def sweep(as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Run the sweeper once: re-enqueue stale jobs, refund overdue ones, release stuck deliveries.

    Example: bananapics jobs sweep --json
    """
    from bananapics.wiring import build_tasks, timing

    database()
    report = jobs.sweep(timing(config()), actor=operator(as_))
    tasks = build_tasks(config())
    for job_id in report.requeued:
        tasks.enqueue(job_id)
    data = report.as_dict()
    if as_json:
        print_json(data)
    else:
        out.print(", ".join(f"{k.replace('_', ' ')}: {len(v) if isinstance(v, list) else v}" for k, v in data.items()))


@app.command("purge-media")
def purge_media(days: Annotated[int | None, typer.Option(min=1, help="Override [storage] retention_days.")] = None,
                as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Delete stored images and references older than the retention period now, and clear the
    prompts of generations users deleted from their history.

    Example: bananapics jobs purge-media --days 30
    """
    from bananapics.services import privacy
    from bananapics.storage import make_storage

    database()
    keep = days if days is not None else config().storage.retention_days
    done = privacy.apply_retention(make_storage(config().storage), keep, actor=operator(as_))
    if as_json:
        print_json({"deleted": done.files_deleted, "days": keep, "prompts_cleared": done.prompts_cleared})
        return
    out.print(f"deleted {done.files_deleted} stored file(s) older than {keep} day(s)" if keep
              else "retention is off (0 days): no stored file deleted")
    out.print(f"cleared the prompts of {done.prompts_cleared} generation(s) deleted from users' history")


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--set takes key=value, got {pair!r}")
        settings[key.strip()] = value.strip()
    return settings


def generate(model: Annotated[str, typer.Option("--model", "-m", help="Model id, e.g. nano-banana.")],
             prompt: Annotated[str, typer.Option("--prompt", "-p", help="What to draw.")],
             ref: Annotated[list[Path] | None, typer.Option("--ref", help="Reference image file (repeatable).")] = None,
             set_: Annotated[list[str] | None, typer.Option("--set", help="Setting key=value (repeatable).")] = None,
             count: Annotated[int | None, typer.Option(help="Images to make (1-4).")] = None,
             user: Annotated[int | None, typer.Option(help="Charge this Telegram user's balance.")] = None,
             deliver: Annotated[bool, typer.Option("--deliver", help="With --user: also send the result to the "
                                                   "user's chat (through the bot's outbox).")] = False,
             out_dir: Annotated[Path | None, typer.Option("--out", help="Directory for the images.")] = None,
             as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Run one job through the real pipeline (hold → provider → settle/refund) and write its images.

    Example: bananapics generate --model nano-banana --prompt "a banana astronaut" --out out/
    """
    from bananapics.cli.generate import run_generate

    if deliver and user is None:
        raise typer.BadParameter("--deliver needs --user (whose chat to send to)", param_hint="'--deliver'")
    database()
    job, files = run_generate(config(), model=model, prompt=prompt, refs=ref or [], settings=_parse_sets(set_ or []),
                              count=count, user_tg_id=user, out_dir=out_dir or Path(config().jobs.output_dir),
                              actor=operator(as_), deliver=deliver)
    if as_json:
        print_json({**job_dict(job), "files": [str(f) for f in files]})
    else:
        _print_generated(job, files)
        if user is not None:
            out.print(f"queued for delivery to {user}'s chat (the bot sends it)" if deliver
                      else f"not sent to {user}: add --deliver to send the result to their chat")
    if job.status == "failed":  # the same exit code with or without --json: scripts test it
        raise typer.Exit(1)


def _print_generated(job: Job, files: list[Path]) -> None:
    out.print(f"job {job.id}: {job.status}, {job.delivered}/{job.count} image(s), cost {job.cost}")
    if job.error_kind:
        out.print(f"error: {job.error_kind}: {job.error_detail}")
    for file in files:
        out.print(str(file))


def worker(workers: Annotated[int | None, typer.Option("--workers", "-w", help="Thread workers (default [queue] workers).")] = None,
           periodic: Annotated[bool, typer.Option(help="Run the sweeper here (exactly one worker should).")] = True) -> None:
    """Run the Huey consumer: generation jobs and, unless --no-periodic, the sweeper.

    Example: bananapics worker -w 8 --no-periodic
    """
    from bananapics.logs import setup_logging
    from bananapics.wiring import build_tasks

    database()
    cfg = config()
    if workers:
        cfg.queue.workers = workers  # also sizes the Redis pool (workers + slack)
    setup_logging(cfg)
    tasks = build_tasks(cfg)
    # SIGTERM (what supervisors send) finishes running jobs, up to the lease; the sweeper covers a kill -9.
    consumer = tasks.huey.create_consumer(workers=workers or cfg.queue.workers, worker_type="thread",
                                          periodic=periodic, flush_locks=True, check_worker_health=True,
                                          graceful_signal="TERM", shutdown_timeout=cfg.jobs.lease_s)
    out.print(f"worker: {cfg.queue.backend} queue, {workers or cfg.queue.workers} threads, sweeper {'on' if periodic else 'off'}")
    consumer.run()


def demo(name: Annotated[str, typer.Option(help="Your first name in the chat; another name is another user.")] = "You",
         lang: Annotated[str, typer.Option(help="Your Telegram language: uz, ru or en (a new user starts in it; /lang changes it).")] = "en",
         out_dir: Annotated[Path, typer.Option("--out", help="Where generated images are written.")] = Path("data/demo")) -> None:
    """Chat with the real bot in this terminal: offline images, SQLite, simulated Telegram.

    Example: bananapics demo --name Ann --lang en
    """
    import asyncio

    from bananapics import db as dbm
    from bananapics.demo import demo_config, run_demo

    if lang not in DEMO_LANGUAGES:  # an unknown code would silently chat in the default language
        raise typer.BadParameter(f"{lang!r} is not one of {', '.join(DEMO_LANGUAGES)}", param_hint="'--lang'")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot write images to {out_dir}: {exc.strerror}") from None
    cfg = demo_config(config())
    dbm.upgrade(database(require_schema=False))

    from rich.console import Console

    asyncio.run(run_demo(cfg, _read_line, Console(), out_dir, first_name=name, lang=lang))


DEMO_LANGUAGES = ("uz", "ru", "en")


async def _read_line() -> str | None:
    """The next line typed at ``you>`` (None at end of input).

    It is read in a daemon thread of its own with os.read on fd 0, not input() in asyncio.to_thread:
    Ctrl-C cannot interrupt a thread blocked in input(), asyncio.run's shutdown then waited for it
    (the demo ended only after one more Enter), and a daemon thread parked in input() holds
    stdin's buffer lock, which aborts the interpreter at exit ("Fatal Python error")."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    line: asyncio.Future[str | None] = loop.create_future()

    def settle(value: str | None) -> None:
        if not line.done():
            line.set_result(value)

    def read() -> None:
        value = _STDIN.next_line("you> ")
        try:
            loop.call_soon_threadsafe(settle, value)
        except RuntimeError:  # the loop is already closed: the demo has ended
            pass

    threading.Thread(target=read, name="demo-input", daemon=True).start()
    return await line


class _StdinLines:
    """Lines from fd 0, unbuffered by Python (a pipe may hold several lines in one read)."""

    def __init__(self) -> None:
        self.pending, self.eof = b"", False

    def next_line(self, prompt: str) -> str | None:
        import os
        import sys

        sys.stdout.write(prompt)
        sys.stdout.flush()
        while b"\n" not in self.pending and not self.eof:
            try:
                chunk = os.read(0, 4096)
            except OSError:
                chunk = b""
            self.eof = not chunk
            self.pending += chunk
        if not self.pending:
            return None
        raw, _, self.pending = self.pending.partition(b"\n")
        return raw.decode("utf-8", errors="replace").rstrip("\r")


_STDIN = _StdinLines()
