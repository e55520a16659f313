"""Chaos on the providers' side: the Gemini API (a real HTTP fake on 127.0.0.1) hangs, answers too
late, storms 429 or 5xx, or returns garbage. Whatever it does, every paid job ends once (refunded
exactly once when it fails), the ledger verifies clean, the retries are bounded, and the model's
circuit breaker opens: the wizard (simulated Telegram) shows the model "temporarily unavailable"
and takes no hold, queued jobs are refunded without calling the provider again, and once the fake
answers again one probe job closes the breaker by itself.

Runs on SQLite and on the real Postgres (the ``database`` fixture), each test a few seconds:
provider timeouts are 0.4 s, retry backoffs 10 ms. "Time passes" (a job's retry delay, the
breaker's cooldown) by moving those timestamps into the past and running the deliveries Huey
had scheduled, as the clock would.
"""

from __future__ import annotations

import datetime as dt
import tempfile

import httpx
import pytest

from bananapics.bot.delivery import deliver_once
from bananapics.config import Config, load_config
from bananapics.db import atomic
from bananapics.errors import BananaError
from bananapics.models import Job, ModelBreaker, Transfer, utcnow
from bananapics.providers.gemini import GeminiProvider
from bananapics.services import breaker, jobs, ledger, users
from bananapics.services.breaker import ModelUnavailable
from bananapics.simtg import SimUser
from bananapics.wiring import build_runtime, build_tasks
from bananapics.worker import run_job
from tests.fakes.gemini import PRESETS, GeminiFake
from tests.fakes.server import Recorded, Reply
from tests.helpers import assert_ledger_clean, new_user, scenario, to_confirm

MODEL = "nano-banana"  # Nano Banana: the Gemini adapter (gemini-3.1-flash-image)
OTHER = "nano-banana-pro"  # the same provider, another model: its breaker is its own
TIMEOUT_S = 0.4
FAILURES = 3
RETRIES = 2  # in-adapter retries per attempt (providers/http.py), so ≤ 3 requests per attempt
FAR = dt.datetime(2100, 1, 1)


class ChaosGemini(GeminiFake):
    """The Gemini fake, misbehaving in ``mode`` for every generate call until ``mode = None``."""

    MODES = {
        "hang": lambda: [Reply(hang_s=30)],                       # accepts, never answers
        "timeout": lambda: [Reply(hang_s=TIMEOUT_S * 3), PRESETS["deadline"]()],  # too slow; its own 504
        "storm_429": lambda: [PRESETS["rate_limited_fast"](), PRESETS["rate_limited"]()],
        "storm_500": lambda: [PRESETS[name]() for name in ("internal", "overloaded", "html_502", "deadline")],
        "garbage": lambda: [PRESETS[name]() for name in ("malformed", "bad_base64", "not_an_image")]
                           + [Reply(200, "<html>upstream proxy</html>", content_type="text/html")],
    }

    def __init__(self) -> None:
        super().__init__()
        self.mode: str | None = None
        self.n = 0

    def handle(self, rec: Recorded) -> Reply:
        if self.mode is None or not rec.path.endswith(":generateContent"):
            return super().handle(rec)
        rec.route = "generate"
        replies = self.MODES[self.mode]()
        self.n += 1
        return replies[self.n % len(replies)]

    def generate_calls(self) -> int:
        return len(self.calls("generate"))


@pytest.fixture
def fake():
    server = ChaosGemini().start()
    try:
        yield server
    finally:
        server.stop()


def chaos_env(fake: ChaosGemini, failures: int = FAILURES) -> dict[str, str]:
    return {
        "BANANAPICS_QUEUE__BACKEND": "immediate", "BANANAPICS_STORAGE__PATH": tempfile.mkdtemp(prefix="chaos-"),
        "BANANAPICS_USERS__START_BALANCE": "100", "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "",
        "BANANAPICS_PROVIDERS__GEMINI_BASE_URL": f"{fake.url}/v1beta", "BANANAPICS_PROVIDERS__GEMINI_API_KEY": fake.key,
        "BANANAPICS_PROVIDERS__TIMEOUT_S": str(TIMEOUT_S), "BANANAPICS_PROVIDERS__BREAKER_FAILURES": str(failures),
        "BANANAPICS_PROVIDERS__BREAKER_COOLDOWN_SECONDS": "60"}


def chaos_config(fake: ChaosGemini, failures: int = FAILURES) -> Config:
    return load_config(None, environ=chaos_env(fake, failures))


def chaos_tasks(config: Config):
    """The real Huey tasks (immediate: a job runs when its transaction commits; a retry waits in
    Huey's schedule) on a runtime whose Gemini adapter backs off in 10 ms instead of seconds."""
    client = httpx.Client(trust_env=False)
    provider = GeminiProvider(config.providers, client, max_retries=RETRIES, backoff_s=0.01, max_retry_wait_s=0.05)
    runtime = build_runtime(config, providers=lambda name: provider)
    return build_tasks(config, runtime=runtime), runtime


def time_passes(tasks, *, cooldown: bool = False, rounds: int = 10) -> None:
    """Retry delays run out (and the breaker's cooldown, with ``cooldown``); Huey runs what it had
    scheduled, until nothing is left to run."""
    for _ in range(rounds):
        with atomic():
            Job.update(not_before=None).where(Job.status == "queued").execute()
            if cooldown:
                (ModelBreaker.update(open_until=utcnow() - dt.timedelta(seconds=1))
                 .where(ModelBreaker.state == "open").execute())
        due = tasks.huey.read_schedule(FAR)
        if not due:
            return
        for task in due:
            tasks.huey.execute(task, timestamp=FAR)
    raise AssertionError("deliveries still scheduled after every retry delay ran out")


def submit(tasks, user, model: str = MODEL) -> Job:
    with atomic():
        job = jobs.submit(user.id, model, "a lighthouse in a storm", chat_id=user.tg_id)
        tasks.enqueue_after_commit(job.id)
    return jobs.get(job.id)


def transfers(job_id: str, kind: str) -> int:
    return Transfer.select().where((Transfer.kind == kind) & (Transfer.ref == job_id)).count()


def assert_refunded_once(job_id: str, kind: str | None = None) -> None:
    job = jobs.get(job_id)
    assert job.status == "failed", (job.status, job.error_kind)
    if kind is not None:
        assert job.error_kind == kind
    assert (transfers(job_id, "hold"), transfers(job_id, "refund"), transfers(job_id, "settle")) == (1, 1, 0)


MODES = list(ChaosGemini.MODES)


@pytest.fixture(autouse=True)
def fresh_breaker_view(monkeypatch):
    """Tests change breaker rows by hand and look at once: no recheck interval for the workers' view."""
    monkeypatch.setattr(breaker, "RECHECK_S", 0.0)


# ----------------------------------------------------------------------------- the pipeline


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_provider_opens_the_breaker_and_every_job_is_refunded_once(database, fake, mode):
    fake.mode = mode
    tasks, _ = chaos_tasks(chaos_config(fake))
    people = [new_user(100) for _ in range(4)]
    failed = [submit(tasks, person) for person in people[:FAILURES]]  # each fails its first attempt
    assert [j.status for j in failed] == ["queued"] * FAILURES  # retryable: back in the queue, tokens held
    calls = fake.generate_calls()
    assert FAILURES <= calls <= FAILURES * (1 + RETRIES)  # bounded retries inside each attempt
    row = breaker.state(MODEL)
    assert row.state == "open" and row.failures == FAILURES and row.last_error in breaker.HEALTH_KINDS

    # Open: the next user is refused before anything is held, and other models are unaffected.
    late = people[FAILURES]
    with pytest.raises(ModelUnavailable):
        submit(tasks, late)
    assert Job.select().where(Job.user == late.id).count() == 0 and ledger.balance(late.id) == (100, 0)
    assert breaker.unavailable().keys() == {MODEL} and breaker.state(OTHER) is None

    # The retries come due while the breaker is open: refunded, the provider is not called again.
    time_passes(tasks)
    assert fake.generate_calls() == calls
    for job in failed:
        assert_refunded_once(job.id, breaker.UNAVAILABLE)
    assert [ledger.balance(p.id) for p in people] == [(100, 0)] * 4
    time_passes(tasks)  # a replayed delivery changes nothing
    assert Transfer.select().where(Transfer.kind == "refund").count() == FAILURES
    assert_ledger_clean()


@pytest.mark.parametrize("mode", MODES)
def test_without_the_breaker_each_job_uses_its_attempts_and_is_refunded_once(database, fake, mode):
    fake.mode = mode
    tasks, _ = chaos_tasks(chaos_config(fake, failures=0))  # 0: the breaker never opens
    people = [new_user(100) for _ in range(2)]
    queued = [submit(tasks, person) for person in people]
    time_passes(tasks)
    for job in queued:
        job = jobs.get(job.id)
        assert job.attempts == job.max_attempts == 3
        assert_refunded_once(job.id, kind=job.error_kind)
        assert job.error_kind in breaker.HEALTH_KINDS
    assert fake.generate_calls() <= len(queued) * 3 * (1 + RETRIES)
    assert breaker.state(MODEL) is None
    assert [ledger.balance(p.id) for p in people] == [(100, 0)] * 2
    assert_ledger_clean()


def test_after_the_cooldown_one_probe_closes_the_breaker_when_the_provider_answers(database, fake):
    fake.mode = "storm_500"
    tasks, _ = chaos_tasks(chaos_config(fake))
    people = [new_user(100) for _ in range(FAILURES + 1)]
    for person in people[:FAILURES]:
        submit(tasks, person)
    assert breaker.state(MODEL).state == "open"

    fake.mode = None  # the provider is back
    time_passes(tasks, cooldown=True)  # the retries come due after the cooldown: the first probes
    row = breaker.state(MODEL)
    assert (row.state, row.failures) == ("closed", 0)
    statuses = sorted(j.status for j in Job.select())
    assert statuses == ["succeeded"] * FAILURES  # the probe closed it, the others ran after it
    assert breaker.unavailable() == {}
    job = submit(tasks, people[FAILURES])
    assert job.status == "succeeded" and ledger.balance(people[FAILURES].id)[1] == 0
    assert_ledger_clean()


def test_a_failed_probe_opens_the_breaker_again(database, fake):
    fake.mode = "hang"
    tasks, _ = chaos_tasks(chaos_config(fake, failures=1))
    first, second = new_user(100), new_user(100)
    submit(tasks, first)
    opened = breaker.state(MODEL).open_until
    with atomic():
        ModelBreaker.update(open_until=utcnow() - dt.timedelta(seconds=1)).execute()  # the cooldown is over
    assert breaker.unavailable() == {}
    probe = submit(tasks, second)  # the model is offered again: this job probes, and hangs too
    assert probe.status == "queued" and probe.attempts == 1
    row = breaker.state(MODEL)
    assert row.state == "open" and row.open_until > utcnow() and row.open_until >= opened
    with pytest.raises(ModelUnavailable):
        submit(tasks, new_user(100))
    time_passes(tasks)
    assert_refunded_once(probe.id, breaker.UNAVAILABLE)
    assert_ledger_clean()


def test_jobs_queued_while_a_probe_runs_wait_for_it_without_spending_attempts(database, fake):
    tasks, runtime = chaos_tasks(chaos_config(fake))
    a, b = new_user(100), new_user(100)
    with atomic():  # the breaker opened a while ago; its cooldown is over
        ModelBreaker.insert(model=MODEL, state="open", failures=FAILURES,
                            open_until=utcnow() - dt.timedelta(seconds=1)).execute()
    probe = jobs.submit(a.id, MODEL, "the probe", chat_id=a.tg_id)  # not enqueued: driven by hand below
    other = jobs.submit(b.id, MODEL, "waits for the probe", chat_id=b.tg_id)
    assert breaker.gate(probe.id, runtime.timing.lease_s).action == "probe"  # a worker took it
    outcome = run_job(other.id, runtime)  # another worker meets the job queued behind it
    assert outcome.status == "retry" and outcome.delay_s >= breaker.MIN_WAIT_S
    other = jobs.get(other.id)
    assert (other.status, other.attempts) == ("queued", 0) and fake.generate_calls() == 0
    assert run_job(probe.id, runtime).status == "succeeded"
    assert breaker.state(MODEL).state == "closed"
    assert run_job(other.id, runtime).status == "succeeded"
    assert fake.generate_calls() == 2
    assert_ledger_clean()


def test_a_refusal_of_the_request_is_not_a_provider_failure(database, fake):
    tasks, _ = chaos_tasks(chaos_config(fake, failures=2))
    people = [new_user(100) for _ in range(3)]
    fake.script("internal", "internal", "internal", "blocked_prompt")  # one attempt (3 calls), then a refusal
    submit(tasks, people[0])
    assert breaker.state(MODEL).failures == 1
    refused = submit(tasks, people[1])  # moderation: refunded at once, and the provider did answer
    assert_refunded_once(refused.id, "moderation")
    assert (breaker.state(MODEL).state, breaker.state(MODEL).failures) == ("closed", 0)
    time_passes(tasks)
    assert Job.select().where(Job.status == "succeeded").count() == 1  # the first job's retry
    assert_ledger_clean()


# ----------------------------------------------------------------------------- the wizard


def test_the_wizard_shows_the_model_unavailable_takes_no_hold_and_recovers(database, fake):
    """Through the simulated Telegram: two failed generations open Nano Banana's breaker; the model
    list marks it, picking or confirming it holds nothing; the queued jobs are refunded with a clear
    message; when the provider answers again the model comes back by itself."""
    fake.mode = "storm_500"

    async def body(tg, bot):
        bot.limiter.update(rate_per_min=60_000, burst=10_000)
        ann, bob, cat = (SimUser(tg, name, lang_code="en") for name in ("Ann", "Bob", "Cat"))
        for person in (ann, bob, cat):
            await person.start()
        await to_confirm(cat, "Nano Banana", "a cat on a roof")  # Cat waits on the confirm screen
        for person in (ann, bob):
            await to_confirm(person, "Nano Banana", "a lighthouse")
            await person.press("Generate — 15")
        assert breaker.state(MODEL).state == "open"
        assert [users.get(p.id).held for p in (ann, bob)] == [15, 15]

        # Cat presses Generate on the screen she opened before: nothing held, the screen says why.
        await cat.press("Generate — 15")
        cat_id = users.get(cat.id).id
        assert ledger.balance(cat_id) == (100, 0) and Job.select().where(Job.user == cat_id).count() == 0
        assert "Nano Banana is temporarily unavailable" in cat.panel.text and "Nothing was charged" in cat.panel.text
        assert not any("Generate" in b for b in cat.buttons()) and "🔀 Other model" in cat.buttons()

        # The model list marks it; picking it says so and keeps the list.
        await cat.send("/generate")
        assert "⏳ Nano Banana · temporarily unavailable" in cat.buttons()
        assert any(b.startswith("Nano Banana Pro ·") for b in cat.buttons())  # its own breaker: available
        await cat.press("⏳ Nano Banana · temporarily unavailable")
        assert "temporarily unavailable" in cat.panel.text and "🎨 Choose a model" in cat.panel.text

        # The retries come due while it is open: refunded, told in plain words.
        time_passes(bot.tasks)
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 2
        for person in (ann, bob):
            text = person.last.text
            assert "This model is temporarily unavailable" in text and "15 tokens were returned" in text
            assert ledger.balance(users.get(person.id).id) == (100, 0)

        # Try again while it is still open: told so, nothing held; Other model keeps the prompt.
        await bob.press("🔁 Try again", message=bob.last)
        assert "Nano Banana is temporarily unavailable" in bob.panel.text and "Nothing was charged" in bob.panel.text
        assert ledger.balance(users.get(bob.id).id) == (100, 0) and Job.select().count() == 2
        await bob.press("🔀 Other model")
        assert "⏳ Nano Banana · temporarily unavailable" in bob.buttons()
        await bob.press("Nano Banana Pro ·")  # another model, the same prompt: on to its confirm screen
        assert "a lighthouse" in bob.panel.text and any("Generate" in b for b in bob.buttons())

        # The provider answers again; once the cooldown is over the model is offered and works.
        fake.mode = None
        time_passes(bot.tasks, cooldown=True)
        await ann.send("/generate")
        assert any(b.startswith("Nano Banana ·") for b in ann.buttons())
        await to_confirm(ann, "Nano Banana", "a lighthouse at dawn")
        await ann.press("Generate — 15")
        assert await deliver_once(bot.client, bot.storage, bot.sender) == 1
        assert "Done: 1 image for 15 tokens" in ann.last.text
        assert breaker.state(MODEL).state == "closed"
        assert_ledger_clean()

    scenario(database, body, tasks_of=lambda config: chaos_tasks(config)[0], **chaos_env(fake, failures=2))


def test_every_language_says_unavailable():
    from bananapics import i18n

    for lang in i18n.LANGUAGES:
        for key in ("btn-model-unavailable", "error-model-unavailable", "fail-unavailable"):
            text = i18n.t(lang, key, name="Nano Banana", model="Nano Banana")
            assert text and "{" not in text
        assert i18n.provider_error_key(breaker.UNAVAILABLE) == "fail-unavailable"
    assert issubclass(ModelUnavailable, BananaError)


def test_a_breaker_opened_by_another_process_reaches_a_worker_within_the_recheck(database, fake, monkeypatch):
    """The healthy path reads no breaker row per job: a worker learns of another process's breaker
    at its next look (``RECHECK_S``), and of its own change at once."""
    tasks, runtime = chaos_tasks(chaos_config(fake))
    monkeypatch.setattr(breaker, "RECHECK_S", 3600.0)
    breaker._Dirty.forget()
    job = jobs.submit(new_user(100).id, MODEL, "a lighthouse", chat_id=1)
    assert breaker.gate(job.id, runtime.timing.lease_s) == breaker.RUN  # every breaker clean: looked once
    with atomic():  # another worker process opens the breaker
        ModelBreaker.insert(model=MODEL, state="open", failures=FAILURES,
                            open_until=utcnow() + dt.timedelta(seconds=60)).execute()
    assert breaker.gate(job.id, runtime.timing.lease_s) == breaker.RUN  # not looked again yet
    breaker._Dirty.forget()  # the recheck interval is over
    assert breaker.gate(job.id, runtime.timing.lease_s).action == "refuse"
    breaker.success(MODEL)  # this process's own change is seen at once
    assert breaker.gate(job.id, runtime.timing.lease_s) == breaker.RUN
