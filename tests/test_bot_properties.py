"""Model-based test of the whole bot and its money (ARCHITECTURE §3), end to end.

A Hypothesis ``RuleBasedStateMachine`` drives the REAL bot (``build_bot`` on the simulated
Telegram, the offline provider, jobs inline or held in a queue) with two or three users: /start
(some through another user's ``ref_`` link), the generate wizard on a random model with random
settings (some prompts carry the local provider's ``#fail:<kind>`` / ``#partial`` markers), double
taps of Generate and Again, Cancel mid-wizard, invoices sent and paid (at once or later) with
simulated Stars, replays of the payment update, the delivery loop, the worker and the sweeper.

Two more users are staff, their roles given by an operator (``users.set_role``): an admin and a
support. The admin steps call the real admin services with real actors (``Actor.for_user`` for the
admin and support users, ``Actor.operator`` for the CLI), never the ORM:

* ``catalog.edit`` (base price, a resolution/quality extra), also aimed at a user waiting on the
  confirm screen: Generate then re-shows the confirm at the new price and holds nothing;
* ``catalog.set_enabled`` off (queued jobs still run), off with ``refund_queued`` (each queued job of
  the model refunded once and its user told through the outbox; the call replayed changes nothing),
  and on;
* ``packages.edit`` / ``set_active`` between an invoice and its payment, also between Telegram's
  pre-checkout and the payment update: the invoice credits the terms it was sent with; pre-checkout
  refuses it once the package is off sale (or the sweeper's hour expired it);
* ``maintenance.set_mode`` on/off (maybe with a new message): while on, a user's step gets the
  maintenance message (a press: an alert), makes no job and moves no money; the staff pass;
  payments still credit;
* ``payments.refund`` by an admin (forced or not) and by support: under ``admin.support_refund_limit``
  (set by the admin through ``settings.set_value``) like an admin's refund, cashback claw-back and
  referrer debt included; over it, or forced, PermissionDenied and nothing changes; support trying
  admin-only actions (prices, switches, packages, maintenance, settings) is refused the same way.

After EVERY step: ``verify()`` reports no breach; no balance is negative; each user's ``held`` is the
sum of the costs of their non-terminal jobs; every job has one hold and, once terminal, one outcome;
every charge id credited once; the sum over all accounts is zero. A small model predicts each
user's available, held and debt and which step makes a job (and at what price). The admin log
under this example's actors is exactly what the model expects: one ``ok`` row for each admin call
that changed something (``settings`` writes log even an unchanged value), one ``denied`` row for
each refused call, nothing else; maintenance stops exactly the users whose role is ``user``.

The ``database`` fixture is shared by every example of a test function, so each example talks to
a bot of its own on fresh Telegram ids and checks only its own users (plus the global invariants).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import logging
import tempfile
from dataclasses import dataclass, field

from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from bananapics.bot.app import build_bot
from bananapics.bot.callbacks import decode
from bananapics.bot.delivery import deliver_once
from bananapics.config import load_config
from bananapics.db import atomic, connection
from bananapics.errors import AlreadyRefunded, PermissionDenied, RefundBlocked
from bananapics.models import AdminAction, AiModel, Hold, InvoiceIntent, Job, Outbox, Package, Payment, Transfer, User
from bananapics.models.jobs import TERMINAL
from bananapics.services import catalog, drafts, jobs, ledger, maintenance, packages, payments, pricing, settings, users
from bananapics.services.audit import Actor
from bananapics.services.verify import verify
from bananapics.simtg import FakeTelegram, ManualClock, SimClient, SimUser
from bananapics.simtg.server import Limits
from tests.test_bot_wizard import HeldQueue, roomy

START_BALANCE = 60
MODELS = ("nano-banana", "nano-banana-pro", "seedream-4", "gpt-image")
PROMPTS = ("a banana astronaut", "#fail:moderation a cat", "#fail:provider_down a dog", "#partial two moons",
           "a lighthouse at dawn")
GENERATE = "✅ Generate — "
_tg_ids = itertools.count(5_100_000_001)  # fresh Telegram ids for every example (the DB is shared)
_seeds = itertools.count(1)  # and a fresh simulated Telegram: its charge ids must not repeat an old example's
_examples = itertools.count(1)  # and a fresh operator name, so each example counts only its own admin-log rows
RESET = Actor.operator("proptest-reset")  # puts back what an earlier example's admins changed
LIMIT = 500  # admin.support_refund_limit as each example starts (the registry's default)
PRICES = (1, 5, 10, 20, 30, 45)
EXTRAS = (0, 3, 12, 25)  # tokens a resolution / quality option adds
PACKAGE_TERMS = {"stars": (25, 50, 100, 250, 600), "tokens": (50, 100, 200, 500), "bonus_pct": (0, 5, 10, 50)}
SWITCHED_OFF = "This model was switched off before your request started"
PRICE_CHANGED = "The price has changed"


SEEN: collections.Counter = collections.Counter()  # what the steps did, over every example (a sanity check)


def event(what: str) -> None:
    SEEN[what] += 1


class FakeStars:
    """The Telegram side of an admin refund: records the call, returns the Stars."""

    def __init__(self) -> None:
        self.refunds: list[tuple[int, str]] = []

    def refund_charge(self, user_tg_id: int, charge_id: str) -> None:
        self.refunds.append((user_tg_id, charge_id))


@dataclass
class MJob:
    id: str
    user: int
    cost: int
    count: int
    prompt: str
    model: str
    status: str = "queued"  # what the database must say

    @property
    def open(self) -> bool:
        return self.status not in TERMINAL

    def settled(self) -> int:
        return {"succeeded": self.cost, "failed": 0,
                "partial": self.cost * (self.count - 1) // max(self.count, 1)}.get(self.status, 0)

    def ran(self) -> None:
        """The worker took it once: the prompt's marker decides the outcome."""
        if "#fail:provider_down" in self.prompt:
            return  # retryable: back to queued with a delay (the sweeper ends it)
        if "#fail:" in self.prompt:
            self.status = "failed"
        elif "#partial" in self.prompt and self.count > 1:
            self.status = "partial"
        else:
            self.status = "succeeded"


@dataclass
class MUser:
    sim: SimUser
    id: int
    base: int  # money in net of everything but jobs: welcome, top-ups, cashback, refunds, debt
    debt: int = 0
    referrer: int | None = None
    role: str = "user"
    jobs: list[MJob] = field(default_factory=list)

    def held(self) -> int:
        return sum(j.cost for j in self.jobs if j.open)

    def available(self) -> int:
        return self.base - sum(j.cost if j.open else j.settled() for j in self.jobs)

    def active(self) -> int:
        return sum(1 for j in self.jobs if j.open)


@dataclass
class MCharge:
    id: str
    payer: int
    stars: int
    tokens: int
    bonus: int
    cashback: int
    referrer: int | None
    msg_id: int
    status: str = "paid"
    clawed: int = 0  # cashback its refund took from the referrer's available
    referrer_debt: int = 0  # and lent them, because they no longer had it


@dataclass
class MInvoice:
    """An invoice the bot sent and nobody paid yet, with the terms its intent froze."""
    user: MUser
    msg_id: int
    package: int
    stars: int
    tokens: int
    bonus: int
    expired: bool = False  # the sweeper an hour later expired its intent (payments.invoice_ttl_minutes)


def _breaches() -> list[str]:
    return [f"{b.check}: {b.detail}" for b in verify()]


class Crashes(logging.Handler):
    """Collects the exceptions a handler let escape (Telethon logs them and carries on): the user
    got no answer, which is a defect even when the money stays right."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.seen.append(f"{record.getMessage()}: {record.exc_info[1]!r}")


class BotMachine(RuleBasedStateMachine):
    config = None  # set per test function (media folder)
    seeded: tuple[list, list] = ([], [])  # models and packages as seeded: each example starts from them

    def __init__(self) -> None:
        super().__init__()
        event("example")
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.users: list[MUser] = []
        self.charges: list[MCharge] = []
        self.held_mode = False
        self.held = HeldQueue()
        self.stars = FakeStars()
        self.invoices: list[MInvoice] = []
        self.disabled_refunds: set[str] = set()  # jobs refunded when their model was switched off
        self.log: collections.Counter = collections.Counter()  # (actor, action, target, outcome) the model expects
        self.operator = Actor.operator(f"prop{next(_examples)}")
        self.admin = self.support = self.operator  # the staff users' actors, once they exist
        self.limit = LIMIT
        self.maint_on, self.maint_message = False, ""  # as the reset below leaves maintenance
        self.closed_texts = {maintenance.i18n.t("en", maintenance.DEFAULT_KEY)}  # maintenance messages used
        self.reset()
        self.crashes = Crashes()
        logging.getLogger("telethon").addHandler(self.crashes)
        self.run(self._boot())

    def reset(self) -> None:
        """Undo what an earlier example's admins changed: the catalog and packages as seeded (rows
        put back as they were), the settings through the settings service (so every cache sees it)."""
        models, packs = self.seeded
        with atomic():
            for row in models:
                AiModel.update(**row).where(AiModel.id == row["id"]).execute()
            for row in packs:
                Package.update(**row).where(Package.id == row["id"]).execute()
        settings.set_value("admin.support_refund_limit", LIMIT, actor=RESET)
        maintenance.set_mode(False, actor=RESET, messages={"en": ""})

    # ------------------------------------------------------------------ plumbing

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    async def _boot(self) -> None:
        self.tg = FakeTelegram(clock=ManualClock(), limits=Limits(rate_limits=False), seed=next(_seeds))
        self.client = SimClient(telegram=self.tg)
        self.bot = build_bot(self.config, self.client)
        roomy(self.bot, self.tg)
        self.inline = self.bot.tasks
        await self.client.start(bot_token=self.tg.bot_token)
        await self.bot.start(delivery_loop=False)

    def teardown(self) -> None:
        try:
            # leave nothing in flight for the next example: end open jobs, send what is due
            for m in self.users:
                for j in m.jobs:
                    if j.open:
                        jobs.fail(j.id, "timeout", "proptest teardown")
            self.run(self._drain())
            self.run(self._bye())
        finally:
            logging.getLogger("telethon").removeHandler(self.crashes)
            self.loop.close()

    async def _bye(self) -> None:
        await self.client.disconnect()

    async def _drain(self) -> int:
        total = 0
        for _ in range(10):
            sent = await deliver_once(self.bot.client, self.bot.storage, self.bot.sender)
            await self.tg.settle()
            total += sent
            if not sent:
                break
        return total

    def closed(self, m: MUser) -> bool:
        """Maintenance mode stops this user (admins and support pass)."""
        return m.role == "user" and maintenance.enabled()

    def turned_away(self, m: MUser, text: str | None = None, press: tuple[str, object] | None = None) -> None:
        """A user's step during maintenance: a message gets the admin's maintenance message (once per
        burst), a button press an alert with it and the panel stays; no job, no money moves."""
        told = {maintenance.message("en"), *self.closed_texts}
        before, panel = self.snapshot(), m.sim.panel
        if press is not None:
            answer = self.run(m.sim.press(press[0], message=press[1]))
            assert answer.alert and answer.message in told, answer
            assert m.sim.panel.id == panel.id and m.sim.panel.text == panel.text
        else:
            self.run(m.sim.send(text))
            assert any(msg.text in told for msg in m.sim.messages), [msg.text for msg in m.sim.messages[-3:]]
        assert self.snapshot() == before and not self.new_jobs(m)
        event("maintenance: user turned away")

    def by_id(self, uid: int) -> MUser:
        return next(m for m in self.users if m.id == uid)

    def snapshot(self) -> tuple:
        """Everything a no-op step must leave alone (our users' rows, jobs, transfers, payments)."""
        ids = [m.id for m in self.users]
        with connection():
            rows = [(u.id, u.available, u.held, u.debt) for u in User.select().where(User.id.in_(ids)).order_by(User.id)]
            njobs = Job.select().where(Job.user.in_(ids)).count()
            transfers = Transfer.select().count()
            pays = Payment.select().where(Payment.user.in_(ids)).count()
        return rows, njobs, transfers, pays

    def new_jobs(self, m: MUser) -> list[Job]:
        known = {j.id for j in m.jobs}
        with connection():
            return [j for j in Job.select().where(Job.user == m.id).order_by(Job.created_at) if j.id not in known]

    def adopt(self, m: MUser, found: list[Job], expect: int | None, cost: int | None) -> None:
        """Jobs a step made: as many as the model predicts (``None``: 0 or 1), at the price shown."""
        if expect is None:
            assert len(found) <= 1, found
        else:
            assert len(found) == expect, (expect, [(j.id, j.status) for j in found])
        for job in found:
            if cost is not None:
                assert job.cost == cost, (job.cost, cost)
            mj = MJob(job.id, m.id, job.cost, job.count, job.prompt, job.model)
            if not self.held_mode:
                mj.ran()
            m.jobs.append(mj)

    def price_now(self, model_id: str, job_settings: dict) -> int | None:
        with connection():
            model = AiModel.get_by_id(model_id)
        if not model.enabled:
            return None
        try:
            return pricing.cost(model, job_settings).total
        except Exception:  # noqa: BLE001 - settings the model no longer offers
            return None

    # ------------------------------------------------------------------ users

    @initialize(n=st.integers(2, 3), refs=st.lists(st.booleans(), min_size=3, max_size=3))
    def start_users(self, n: int, refs: list[bool]) -> None:
        """/start for each user; some come through an earlier user's ref_ link."""
        for i in range(n):
            sim = SimUser(self.tg, f"P{i}", user_id=next(_tg_ids), lang_code="en")
            referrer = self.users[-1] if self.users and refs[i] else None
            if referrer is not None:
                with connection():
                    code = User.get_by_id(referrer.id).referral_code
                self.run(sim.start(f"ref_{code}"))
            else:
                self.run(sim.start())
            with connection():
                row = User.get(User.tg_id == sim.id)
            assert row.referrer_id == (referrer.id if referrer else None)
            self.users.append(MUser(sim, row.id, START_BALANCE, referrer=referrer.id if referrer else None))
        # The staff: users of the bot like the others, given their role by an operator (users.set_role).
        for name, role in (("Boss", "admin"), ("Sam", "support")):
            sim = SimUser(self.tg, name, user_id=next(_tg_ids), lang_code="en")
            self.run(sim.start())
            row = users.set_role(sim.id, role, actor=self.operator, reason="proptest staff")
            self.logged(self.operator, "users.role", f"user:{sim.id}")
            self.users.append(MUser(sim, row.id, START_BALANCE, role=role))
        self.admin = Actor.for_user(self.users[-2].id)
        self.support = Actor.for_user(self.users[-1].id)
        assert (self.admin.role, self.support.role) == ("admin", "support")

    def logged(self, actor: Actor, action: str, target: str, outcome: str = "ok") -> None:
        """The model's admin log: this call must have written exactly one such row."""
        self.log[(actor.name, action, target, outcome)] += 1

    def staff(self, data: st.DataObject) -> Actor:
        """Who acts as admin: the admin user (role read from the DB) or the operator at the CLI."""
        return data.draw(st.sampled_from([self.admin, self.operator]), label="admin")

    @rule(data=st.data())
    def start_again_with_a_link(self, data: st.DataObject) -> None:
        """A later /start ref_ link binds nothing and moves no money."""
        m = data.draw(st.sampled_from(self.users))
        other = data.draw(st.sampled_from(self.users))
        with connection():
            code = User.get_by_id(other.id).referral_code
        if self.closed(m):
            self.turned_away(m, f"/start ref_{code}")
            return
        before = self.snapshot()
        self.run(m.sim.start(f"ref_{code}"))
        assert self.snapshot() == before
        assert "Balance" in " ".join(m.sim.buttons())

    # ------------------------------------------------------------------ the wizard

    @rule(data=st.data(), prompt=st.sampled_from(PROMPTS), picks=st.integers(0, 3), double=st.booleans())
    def generate(self, data: st.DataObject, prompt: str, picks: int, double: bool) -> None:
        """The whole wizard and Generate (tapped twice at once, sometimes)."""
        m = self._walk(data, prompt, picks, go=False)
        if m is not None and any(b.startswith(GENERATE) for b in m.sim.buttons()):
            self._press_generate(m, double)

    @rule(data=st.data(), prompt=st.sampled_from(PROMPTS), picks=st.integers(0, 3))
    def walk_to_confirm(self, data: st.DataObject, prompt: str, picks: int) -> None:
        """/generate → a model → the prompt → Skip → random settings → Next: the confirm screen
        (where the user may stay while the admin changes things, or press Generate at once)."""
        self._walk(data, prompt, picks, go=True)

    def _walk(self, data: st.DataObject, prompt: str, picks: int, go: bool) -> MUser | None:
        m = data.draw(st.sampled_from(self.users))
        sim = m.sim
        if self.closed(m):
            self.turned_away(m, "/generate")
            return None
        before = self.snapshot()
        self.run(sim.send("/generate"))
        models = [b for b in sim.buttons() if " · from " in b]
        if not models:  # every model switched off
            assert "Menu" in " ".join(sim.buttons())
            return None
        self.run(sim.press(data.draw(st.sampled_from(models), label="model")))
        self.run(sim.send(prompt))
        if "Skip ▶" not in sim.buttons():  # a kept prompt from an earlier draft: straight to confirm
            assert any(b.startswith(GENERATE) or "Top up" in b for b in sim.buttons()) \
                or "Edit" in " ".join(sim.buttons()), sim.panel.text
        else:
            self.run(sim.press("Skip ▶"))
            for _ in range(picks):
                rows = [b for b in sim.buttons() if ": " in b and not b.startswith("✅")]
                if not rows:
                    break
                self.run(sim.press(data.draw(st.sampled_from(rows), label="setting")))
                values = [b for b in sim.buttons() if b != "◀ Back"]
                if not values:
                    break
                self.run(sim.press(data.draw(st.sampled_from(values), label="value")))
            nxt = [b for b in sim.buttons() if b.startswith("✅ Next")]
            if nxt:
                self.run(sim.press(nxt[0]))
        assert self.snapshot() == before  # walking the wizard moves no money
        self._check_confirm_screen(m)
        at = "confirm" if any(b.startswith(GENERATE) for b in sim.buttons()) else "short"
        event(f"walk: {at if any('Top up' in b for b in sim.buttons()) or at == 'confirm' else 'elsewhere'}")
        if go and at == "confirm" and data.draw(st.booleans(), label="generate now"):
            self._press_generate(m, data.draw(st.booleans(), label="double"))
        return m

    def _check_confirm_screen(self, m: MUser) -> None:
        buttons = m.sim.buttons()
        go = [b for b in buttons if b.startswith(GENERATE)]
        if go:
            assert int(go[0][len(GENERATE):].replace(",", "")) <= m.available()
        short = [b for b in buttons if b.startswith("💰 Top up (+")]
        if short:
            assert int(short[0].split("+")[1].rstrip(")").replace(",", "")) > 0

    @rule(data=st.data(), double=st.booleans())
    def press_generate(self, data: st.DataObject, double: bool) -> None:
        """Generate on a confirm screen (tapped twice at once, sometimes): one job at the shown price,
        or none when the model was switched off, the price changed, or the user cannot pay."""
        ready = [m for m in self.users if any(b.startswith(GENERATE) for b in m.sim.buttons())]
        if not ready:
            return
        self._press_generate(data.draw(st.sampled_from(ready)), double)

    def _press_generate(self, m: MUser, double: bool) -> None:
        sim = m.sim
        label = next(b for b in sim.buttons() if b.startswith(GENERATE))
        shown = int(label[len(GENERATE):].replace(",", ""))
        confirm = sim.panel
        if self.closed(m):
            self.turned_away(m, press=(label, confirm))
            return
        model = drafts.chosen_model(drafts.get(m.id))  # the one confirmed, switched off or not
        try:
            today = drafts.quote(m.id).total
        except Exception:  # noqa: BLE001
            today = None
        expect = int(model is not None and model.enabled and today == shown and m.debt == 0 and m.available() >= shown
                     and m.active() < 2)
        before = self.snapshot()
        if double:
            async def twice():
                await asyncio.gather(sim.press(label, message=confirm), sim.press(label, message=confirm))
            self.run(twice())
        else:
            self.run(sim.press(label, message=confirm))
        self.adopt(m, self.new_jobs(m), expect, shown)
        event(f"generate: {'job' if expect else 'refused'}")
        if not expect:
            assert self.snapshot() == before
        if double and "Balance" in " ".join(sim.buttons()):
            # The first tap re-showed the screen (a new draft version); the second, on the same old
            # button, came after it and was answered "outdated" with the main menu. Money is safe;
            # the user taps Generate in the menu again.
            event("generate: double tap ended outdated")
        elif model is not None and not model.enabled:  # switched off since the confirm: the model list says so
            assert f"{model.name} is switched off right now" in sim.panel.text, sim.panel.text
        elif today is not None and today != shown:  # repriced since: the confirm again, at today's price
            event("generate: price changed")
            assert PRICE_CHANGED in sim.panel.text, sim.panel.text
            go = [b for b in sim.buttons() if b.startswith(GENERATE)]
            assert [int(b[len(GENERATE):].replace(",", "")) for b in go] == [today] \
                or any(b.startswith("💰 Top up (+") for b in sim.buttons()), (today, sim.buttons())

    @rule(data=st.data(), how=st.sampled_from(["button", "command"]))
    def cancel(self, data: st.DataObject, how: str) -> None:
        """Cancel mid-wizard: nothing is submitted, no money moves, the main menu is back."""
        m = data.draw(st.sampled_from(self.users))
        if self.closed(m):
            self.turned_away(m, "/cancel")
            return
        before = self.snapshot()
        if how == "button" and "✖ Cancel" in m.sim.buttons():
            self.run(m.sim.press("✖ Cancel"))
        else:
            self.run(m.sim.send("/cancel"))
        assert self.snapshot() == before
        assert "Balance" in " ".join(m.sim.buttons())

    @rule(data=st.data(), double=st.booleans())
    def press_again(self, data: st.DataObject, double: bool) -> None:
        """Again / Try again on a result: the same request held anew at the job's price; a changed
        price shows the confirm screen instead; no money when the user cannot pay."""
        offers = [(m, msg, b) for m in self.users for msg in m.sim.messages
                  for b in msg.buttons if b in ("🔁 Again", "🔁 Try again")]
        if not offers:
            return
        m, msg, label = data.draw(st.sampled_from(offers), label="again")
        if self.closed(m):
            self.turned_away(m, press=(label, msg))
            return
        button = msg.button(label)
        source = decode(button.data).args[0]
        with connection():
            job = Job.get_by_id(source)
        today = self.price_now(job.model, {**job.settings_dict, "refs": len(job.refs)})
        again_id = hashlib.sha256(f"{job.id}:again:m{msg.id}".encode()).hexdigest()[:32]
        exists = any(j.id == again_id for j in m.jobs)
        expect = int(today == job.cost and not exists and m.debt == 0 and m.available() >= job.cost
                     and m.active() < 2)
        before = self.snapshot()
        if double:
            async def twice():
                await asyncio.gather(m.sim.press(label, message=msg), m.sim.press(label, message=msg))
            self.run(twice())
        else:
            self.run(m.sim.press(label, message=msg))
        found = self.new_jobs(m)
        self.adopt(m, found, expect, job.cost)
        event(f"again: {'job' if expect else 'refused'}")
        if found:
            assert found[0].id == again_id
        if not expect:
            assert self.snapshot() == before
        if today is not None and today != job.cost:
            assert any(b.startswith(GENERATE) or "Top up" in b for b in m.sim.buttons()), m.sim.panel.text

    # ------------------------------------------------------------------ jobs

    @rule(held=st.booleans())
    def switch_queue(self, held: bool) -> None:
        """Jobs run inline when they commit, or wait in a queue for ``run_worker``."""
        self.held_mode = held
        self.bot.tasks = self.held if held else self.inline

    @rule()
    def run_worker(self) -> None:
        ids, self.held.ids = self.held.ids, []
        for job_id in ids:
            self.held.run(self.bot, job_id)
            for m in self.users:
                for j in m.jobs:
                    if j.id == job_id and j.status == "queued":
                        j.ran()

    @rule()
    def sweep_past_deadlines(self) -> None:
        """The sweeper an hour later: every job still queued or running is failed and refunded."""
        import datetime as dt

        from bananapics.models import utcnow

        jobs.sweep(now=utcnow() + dt.timedelta(hours=1))
        for m in self.users:
            for j in m.jobs:
                if j.open:
                    j.status = "failed"
        for invoice in self.invoices:  # and every invoice sent before is past its hour
            invoice.expired = True

    @rule()
    def deliver(self) -> None:
        """The delivery loop sends results, failures and notices; nothing of ours stays pending."""
        self.run(self._drain())
        ids = [m.id for m in self.users]
        with connection():
            left = Outbox.select().where(Outbox.user.in_(ids) & Outbox.status.in_(["pending", "sending"])).count()
            dead = Outbox.select().where(Outbox.user.in_(ids) & (Outbox.status == "dead")).count()
        assert (left, dead) == (0, 0)
        for m in self.users:  # a job refunded because its model was switched off: its user was told why
            refunded = sum(1 for j in m.jobs if j.id in self.disabled_refunds)
            told = sum(1 for msg in m.sim.messages if SWITCHED_OFF in msg.text)
            assert told >= refunded, (told, refunded)

    # ------------------------------------------------------------------ money in and out

    @rule(data=st.data(), replays=st.integers(1, 3))
    def top_up(self, data: st.DataObject, replays: int) -> None:
        """/balance → Top up → a package → pay the invoice with Stars (the update delivered 1-3 times)."""
        invoice = self._send_invoice(data)
        if invoice is not None:
            self._pay(invoice, replays, None)

    @rule(data=st.data())
    def send_invoice(self, data: st.DataObject) -> None:
        """An invoice the user pays later (or never), while the admin may change its package."""
        self._send_invoice(data)

    @precondition(lambda self: self.invoices)
    @rule(data=st.data(), replays=st.integers(1, 3),
          midway=st.sampled_from([None, "edit", "deactivate", "activate"]))
    def pay_invoice(self, data: st.DataObject, replays: int, midway: str | None) -> None:
        """Pay an invoice sent earlier; ``midway`` the admin changes its package between Telegram's
        pre-checkout (approved) and the payment update."""
        self._pay(data.draw(st.sampled_from(self.invoices), label="invoice"), replays,
                  (lambda package: self._package_change(data, package, midway)) if midway else None)

    def _send_invoice(self, data: st.DataObject) -> MInvoice | None:
        """The invoice's intent froze the package's terms as they were when it was sent."""
        m = data.draw(st.sampled_from(self.users))
        sim = m.sim
        if self.closed(m):
            self.turned_away(m, "/balance")
            return None
        self.run(sim.send("/balance"))
        self.run(sim.press("Top up"))
        offers = [b for b in sim.buttons() if b.startswith("⭐ ")]
        with connection():
            on_sale = Package.select().where(Package.active).count()
        assert len(offers) == on_sale, (offers, on_sale)
        if not offers:  # the admin took every package off sale
            return None
        before = self.snapshot()
        self.run(sim.press(data.draw(st.sampled_from(offers), label="package")))
        message = sim.messages[-1]
        assert message.media_kind == "invoice"
        with connection():
            intent = InvoiceIntent.select().where(InvoiceIntent.user == m.id).order_by(InvoiceIntent.id.desc()).get()
            package = Package.get_by_id(intent.package_id)
        assert (intent.stars, intent.tokens, intent.bonus_tokens) == (package.stars, package.tokens, package.bonus_tokens)
        assert self.snapshot() == before
        invoice = MInvoice(m, message.id, package.id, intent.stars, intent.tokens, intent.bonus_tokens)
        self.invoices.append(invoice)
        return invoice

    def _pay(self, invoice: MInvoice, replays: int, midway) -> None:
        """Pre-checkout refuses an invoice that expired or whose package is off sale now (nothing
        moves); else the payment credits the terms the invoice was sent with, whatever the admin did
        to the package since (or between pre-checkout and the payment update, ``midway``)."""
        m, sim = invoice.user, invoice.user.sim
        record = next(i for i in self.tg.invoices if i.msg_id == invoice.msg_id)
        with connection():
            on_sale = Package.get_by_id(invoice.package).active
        before = self.snapshot()

        async def pay():
            query = self.tg.user_precheckout(sim.record, record)
            await self.tg.settle()
            if not (query.answered and query.ok):
                return None
            if midway is not None:
                midway(invoice.package)
            payment, msg = self.tg.user_payment_succeeds(sim.record, record)
            for _ in range(replays):
                self.tg.deliver_service(sim.record, msg, times=1)
                await self.tg.settle()
            return payment, msg

        paid = self.run(pay())
        if invoice.expired or not on_sale:
            event(f"pay: {'expired' if invoice.expired else 'package off sale'}")
            assert paid is None and self.snapshot() == before
            return
        assert paid is not None
        event(f"pay: {'changed midway' if midway else 'paid'}")
        self.invoices.remove(invoice)
        payment, msg = paid
        tokens, bonus = invoice.tokens, invoice.bonus
        after = m.available() + tokens + bonus
        repaid = min(m.debt, after)
        m.base += tokens + bonus - repaid
        m.debt -= repaid
        cashback = 0
        if m.referrer is not None:
            cashback = tokens * 10 // 100
            self.by_id(m.referrer).base += cashback
        self.charges.append(MCharge(payment.charge_id, m.id, invoice.stars, tokens, bonus, cashback,
                                    m.referrer if cashback else None, msg.id))
        with connection():
            credited = Payment.get(Payment.charge_id == payment.charge_id)
        assert (credited.stars, credited.tokens, credited.bonus_tokens) == (invoice.stars, tokens, bonus)
        thanks = [x for x in sim.messages if x.text.startswith(f"✅ +{tokens + bonus:,} tokens")]
        assert thanks and thanks[-1].id > invoice.msg_id, [x.text for x in sim.messages[-3:]]

    @precondition(lambda self: self.charges)
    @rule(data=st.data(), times=st.integers(1, 4))
    def replay_payment(self, data: st.DataObject, times: int) -> None:
        """Telegram delivers an old successful-payment update again: nothing moves, nothing is said."""
        c = data.draw(st.sampled_from(self.charges))
        m = self.by_id(c.payer)
        before, said = self.snapshot(), len(m.sim.messages)

        async def again():
            self.tg.deliver_service(m.sim.record, self.tg.message(c.msg_id).msg, times=times)
            await self.tg.settle()
        self.run(again())
        assert self.snapshot() == before and len(m.sim.messages) == said

    @precondition(lambda self: self.charges)
    @rule(data=st.data(), force=st.booleans())
    def admin_refund(self, data: st.DataObject, force: bool) -> None:
        """payments.refund by an admin: refused when spent (unless forced: the shortfall is a debt),
        refused when refunded before; else the top-up, bonus and cashback go back once."""
        self._refund(self.staff(data), data.draw(st.sampled_from(self.charges)), force)

    @precondition(lambda self: self.charges)
    @rule(data=st.data(), force=st.booleans())
    def support_refund(self, data: st.DataObject, force: bool) -> None:
        """payments.refund by support: a forced refund, or one of more Stars than
        ``admin.support_refund_limit``, is refused (PermissionDenied, nothing moves, one ``denied``
        row); under the limit it is an admin's refund, cashback claw-back and referrer debt included."""
        c = data.draw(st.sampled_from(self.charges))
        if force or (c.status == "paid" and c.stars > self.limit):
            before, calls = self.snapshot(), len(self.stars.refunds)
            try:
                payments.refund(c.id, actor=self.support, reason="proptest", telegram=self.stars, force=force)
            except PermissionDenied:
                pass
            else:
                raise AssertionError("support went past its refund rights")
            assert self.snapshot() == before and len(self.stars.refunds) == calls
            self.logged(self.support, "payments.refund_force" if force else "payments.refund_over_limit",
                        f"charge:{c.id}", "denied")
            event("support refund: denied")
            return
        self._refund(self.support, c, False)

    def _refund(self, actor: Actor, c: MCharge, force: bool) -> None:
        payer = self.by_id(c.payer)
        need = c.tokens + c.bonus
        before, calls = self.snapshot(), len(self.stars.refunds)
        call = lambda: payments.refund(c.id, actor=actor, reason="proptest", telegram=self.stars,  # noqa: E731
                                       force=force)
        if c.status == "refunded":
            try:
                call()
            except AlreadyRefunded:
                pass
            else:
                raise AssertionError("a second refund must be refused")
            assert self.snapshot() == before and len(self.stars.refunds) == calls
            return
        if payer.available() < need and not force:
            try:
                call()
            except RefundBlocked:
                pass
            else:
                raise AssertionError("a refund of spent tokens must need force")
            assert self.snapshot() == before and len(self.stars.refunds) == calls
            return
        done = call()
        event(f"refund: {actor.role}")
        self.logged(actor, "payments.refund", f"charge:{c.id}")
        shortfall = max(0, need - payer.available())
        assert (done.tokens, done.debt) == (need, shortfall)
        assert self.stars.refunds[-1] == (payer.sim.id, c.id)
        payer.base += shortfall - need
        payer.debt += shortfall
        if c.cashback:  # the whole cashback goes back; what the referrer no longer has becomes their debt
            referrer = self.by_id(c.referrer)
            c.clawed = min(c.cashback, referrer.available())
            c.referrer_debt = c.cashback - c.clawed
            assert (done.clawed, done.referrer_debt) == (c.clawed, c.referrer_debt)
            referrer.base -= c.clawed
            referrer.debt += c.referrer_debt
        c.status = "refunded"

    # ------------------------------------------------------------------ the admin (services, real actors)

    @rule(data=st.data(), model=st.sampled_from(MODELS), price=st.sampled_from(PRICES))
    def admin_sets_price(self, data: st.DataObject, model: str, price: int) -> None:
        """catalog.edit: a new base price and, sometimes, a new extra for one resolution/quality."""
        self._reprice(self.staff(data), model, price, data)

    @rule(data=st.data(), price=st.sampled_from(PRICES), double=st.booleans())
    def admin_reprices_at_confirm(self, data: st.DataObject, price: int, double: bool) -> None:
        """A user waits on the confirm screen; the admin reprices that model; the user presses
        Generate: the confirm comes back at the new price and nothing is held (or, at an unchanged
        price, the job is made)."""
        ready = [m for m in self.users if any(b.startswith(GENERATE) for b in m.sim.buttons())]
        if not ready:
            return
        m = data.draw(st.sampled_from(ready), label="waiting")
        self._reprice(self.staff(data), drafts.chosen_model(drafts.get(m.id)).id, price, data)
        self._press_generate(m, double)

    def _reprice(self, actor: Actor, model_id: str, price: int, data: st.DataObject) -> None:
        with connection():
            model = AiModel.get_by_id(model_id)
        old = catalog.snapshot(model)
        kind = "quality" if "qualities" in model.limits_dict else "resolution"
        options = model.limits_dict[catalog.EXTRA_KINDS[kind]]
        extras = None
        if data.draw(st.booleans(), label="with an extra"):
            extras = {kind: {data.draw(st.sampled_from(options), label="option"): data.draw(st.sampled_from(EXTRAS))}}
        before = self.snapshot()
        catalog.edit(model_id, actor=actor, base_price=price, extras=extras, reason="proptest")
        with connection():
            new = catalog.snapshot(AiModel.get_by_id(model_id))
        rules = {k: dict(v) if isinstance(v, dict) else v for k, v in old["pricing"].items()}
        for k, v in (extras or {}).items():
            rules[k] = {**rules.get(k, {}), **v}
        assert (new["base_price"], new["pricing"]) == (price, rules)
        if (new["base_price"], new["pricing"]) != (old["base_price"], old["pricing"]):
            self.logged(actor, "catalog.edit", f"model:{model_id}")
        assert self.snapshot() == before  # a price moves no money: held jobs keep their price

    @rule(data=st.data(), model=st.sampled_from(MODELS), enabled=st.booleans(), refund=st.booleans(),
          replay=st.booleans())
    def admin_switches_model(self, data: st.DataObject, model: str, enabled: bool, refund: bool,
                             replay: bool) -> None:
        """catalog.set_enabled: off (queued jobs still run), off with ``refund_queued`` (each queued
        job of the model failed and refunded once, its user told through the outbox), or on.
        Sometimes the same call again: it changes nothing and logs nothing."""
        self._switch(data, model, enabled, refund, replay)

    @precondition(lambda self: any(j.status == "queued" for m in self.users for j in m.jobs))
    @rule(data=st.data(), refund=st.booleans(), replay=st.booleans())
    def admin_switches_off_a_busy_model(self, data: st.DataObject, refund: bool, replay: bool) -> None:
        """The same, aimed at a model that has queued jobs (held in the queue, or waiting to retry)."""
        busy = sorted({j.model for m in self.users for j in m.jobs if j.status == "queued"})
        self._switch(data, data.draw(st.sampled_from(busy), label="busy model"), False, refund, replay)

    def _switch(self, data: st.DataObject, model: str, enabled: bool, refund: bool, replay: bool) -> None:
        actor = self.staff(data)
        refund = refund and not enabled
        with connection():
            was = AiModel.get_by_id(model).enabled
        queued = [j for m in self.users for j in m.jobs if j.model == model and j.status == "queued"] if refund else []
        others = self.snapshot()[0]
        done = catalog.set_enabled(model, enabled, actor=actor, refund_queued=refund, reason="proptest")
        assert done.model.enabled == enabled
        assert sorted(done.refunded) == sorted(j.id for j in queued)
        if was != enabled or queued:
            self.logged(actor, "catalog.enable" if enabled else "catalog.disable", f"model:{model}")
        for j in queued:
            j.status = "failed"  # refunded in full: settled() is 0
            self.disabled_refunds.add(j.id)
            with connection():
                told = [o.data for o in Outbox.select().where((Outbox.job == j.id) & (Outbox.kind == "job_failed"))]
            assert [t["reason"] for t in told] == [catalog.DISABLED_KIND] and told[0]["refunded"] == j.cost
        event(f"switch {'on' if enabled else 'off'}{': refunded' if queued else ''}")
        if not queued:  # nothing refunded: nobody's money moved
            assert self.snapshot()[0] == others
        if replay:
            before = self.snapshot()
            again = catalog.set_enabled(model, enabled, actor=actor, refund_queued=refund, reason="proptest")
            assert again.refunded == [] and self.snapshot() == before

    @rule(data=st.data())
    def admin_changes_package(self, data: st.DataObject) -> None:
        """packages.edit / set_active on any package (maybe one an unpaid invoice was sent for)."""
        with connection():
            ids = [p.id for p in Package.select(Package.id).order_by(Package.sort, Package.id)]
        package = data.draw(st.sampled_from([i.package for i in self.invoices] + ids), label="package")
        self._package_change(data, package, data.draw(st.sampled_from(["edit", "deactivate", "activate"])))

    def _package_change(self, data: st.DataObject, package_id: int, what: str) -> None:
        actor = self.staff(data)
        with connection():
            old = packages.snapshot(Package.get_by_id(package_id))
        before = self.snapshot()
        if what == "edit":
            terms = {k: data.draw(st.sampled_from(v), label=k) for k, v in PACKAGE_TERMS.items()
                     if data.draw(st.booleans(), label=f"change {k}")} or {"stars": old["stars"] + 1}
            new = packages.snapshot(packages.edit(package_id, actor=actor, reason="proptest", **terms))
            assert {k: new[k] for k in terms} == terms
            action = "packages.edit"
        else:
            on = what == "activate"
            new = packages.snapshot(packages.set_active(package_id, on, actor=actor, reason="proptest"))
            assert new["active"] == on
            action = f"packages.{what}"
        if new != old:
            self.logged(actor, action, f"package:{package_id}")
        event(f"package: {what}")
        assert self.snapshot() == before

    @rule(data=st.data(), on=st.booleans(), message=st.sampled_from([None, "", "Back at noon."]))
    def admin_maintenance(self, data: st.DataObject, on: bool, message: str | None) -> None:
        """maintenance.set_mode on or off (sometimes with a new English message): each setting it
        writes is one ``toggles.set`` row; users are blocked while it is on, the staff pass."""
        actor = self.staff(data)
        before = self.snapshot()
        messages = {"en": message} if message is not None else None
        if message:
            self.closed_texts.add(message)
        assert maintenance.set_mode(on, actor=actor, messages=messages, reason="proptest") is on
        if messages and message != self.maint_message:  # a setting set to what it holds logs nothing
            self.logged(actor, "toggles.set", "setting:maintenance.message_en")
            self.maint_message = message
        if on != self.maint_on:
            self.logged(actor, "toggles.set", "setting:maintenance.enabled")
            self.maint_on = on
        assert self.snapshot() == before and maintenance.enabled() is on
        if message is not None:
            assert maintenance.message("en") == (message or maintenance.i18n.t("en", maintenance.DEFAULT_KEY))
        event(f"maintenance: {'on' if on else 'off'}")

    @rule(data=st.data(), limit=st.sampled_from([0, 50, 100, 250, 500]))
    def admin_sets_refund_limit(self, data: st.DataObject, limit: int) -> None:
        """settings.set admin.support_refund_limit: what support may refund from now on."""
        actor = self.staff(data)
        assert settings.set_value("admin.support_refund_limit", limit, actor=actor, reason="proptest") == limit
        if limit != self.limit:  # the value it already has: nothing changes, nothing is logged
            self.logged(actor, "settings.set", "setting:admin.support_refund_limit")
        self.limit = limit

    @rule(data=st.data(), what=st.sampled_from(["price", "switch", "package", "maintenance", "limit"]))
    def support_oversteps(self, data: st.DataObject, what: str) -> None:
        """Support tries what only an admin may do: PermissionDenied, nothing changes, one
        ``denied`` row naming the permission."""
        model = data.draw(st.sampled_from(MODELS), label="model")
        with connection():
            package = Package.select(Package.id).order_by(Package.id).first().id
            models_before = [catalog.snapshot(m) for m in AiModel.select().order_by(AiModel.id)]
            packs_before = [packages.snapshot(p) for p in Package.select().order_by(Package.id)]
        before, state = self.snapshot(), (maintenance.enabled(), settings.get("admin.support_refund_limit"))
        call, permission, target = {
            "price": (lambda: catalog.edit(model, actor=self.support, base_price=1), "catalog.edit", f"model:{model}"),
            "switch": (lambda: catalog.set_enabled(model, False, actor=self.support, refund_queued=True),
                       "catalog.edit", f"model:{model}"),
            "package": (lambda: packages.set_active(package, False, actor=self.support), "packages.edit",
                        f"package:{package}"),
            "maintenance": (lambda: maintenance.set_mode(True, actor=self.support), "toggles.set",
                            "setting:maintenance"),
            "limit": (lambda: settings.set_value("admin.support_refund_limit", 100_000, actor=self.support),
                      "settings.set", "setting:admin.support_refund_limit"),
        }[what]
        try:
            call()
        except PermissionDenied:
            pass
        else:
            raise AssertionError(f"support may not {permission}")
        self.logged(self.support, permission, target, "denied")
        with connection():
            assert [catalog.snapshot(m) for m in AiModel.select().order_by(AiModel.id)] == models_before
            assert [packages.snapshot(p) for p in Package.select().order_by(Package.id)] == packs_before
        assert self.snapshot() == before
        assert (maintenance.enabled(), settings.get("admin.support_refund_limit")) == state
        event("support: denied")

    # ------------------------------------------------------------------ after every step

    @invariant()
    def money_is_right(self) -> None:
        event("step")
        assert self.crashes.seen == []
        if not self.users:
            return
        assert _breaches() == []
        with connection():
            negative = User.select().where((User.available < 0) | (User.held < 0) | (User.debt < 0)).count()
            users_total = User.select().count() and sum(
                int(a) + int(h) for a, h in User.select(User.available, User.held).tuples())
            system_total = sum(ledger.system_balances().values())
            rows = {u.id: u for u in User.select().where(User.id.in_([m.id for m in self.users]))}
            for m in self.users:
                db_jobs = {j.id: j for j in Job.select().where(Job.user == m.id)}
                assert set(db_jobs) == {j.id for j in m.jobs}, "a job the model did not expect"
                u = rows[m.id]
                open_cost = sum(j.cost for j in db_jobs.values() if j.status not in TERMINAL)
                assert u.held == open_cost  # held = Σ cost of the non-terminal jobs
                assert (u.available, u.held, u.debt) == (m.available(), m.held(), m.debt), \
                    (m.sim.first_name if hasattr(m.sim, "first_name") else m.id)
                for j in m.jobs:
                    row = db_jobs[j.id]
                    assert row.status == j.status or (j.status == "queued" and row.status == "running"), \
                        (j.id, row.status, j.status, j.prompt)
                    kinds = [t.kind for t in Transfer.select(Transfer.kind).where(Transfer.ref == j.id)]
                    assert kinds.count("hold") == (1 if j.cost else 0)
                    hold = Hold.get_or_none(Hold.ref == j.id)
                    outcomes = kinds.count("settle") + kinds.count("refund")
                    if j.open:
                        assert outcomes == 0 and (hold is None or hold.status == "open")
                    elif j.cost:
                        assert hold.status == "closed" and hold.settled + hold.refunded == j.cost
                        assert kinds.count("settle") <= 1 and kinds.count("refund") <= 1 and outcomes >= 1
                        assert hold.settled == j.settled()
            for c in self.charges:
                assert Transfer.select().where((Transfer.kind == "topup") & (Transfer.ref == c.id)).count() == 1
                assert Payment.get(Payment.charge_id == c.id).status == c.status
                if c.status == "refunded" and c.cashback:  # clawed back + referrer debt = the cashback
                    moved = dict(Transfer.select(Transfer.kind, Transfer.amount).where(
                        (Transfer.ref == c.id) & Transfer.kind.in_(("cashback_reversal", "cashback_debt"))).tuples())
                    assert c.clawed + c.referrer_debt == c.cashback == moved["cashback_reversal"]
                    assert moved.get("cashback_debt", 0) == c.referrer_debt
        assert negative == 0
        assert users_total + system_total == 0

    @invariant()
    def admin_log_is_right(self) -> None:
        """Every admin call that changed something wrote exactly one ``ok`` row, every refused one
        exactly one ``denied`` row, and nothing else is in the log under this example's actors;
        maintenance mode stops exactly the users whose role is ``user``."""
        names = {self.operator.name, self.admin.name, self.support.name}
        with connection():
            rows = collections.Counter(AdminAction.select(AdminAction.actor, AdminAction.action, AdminAction.target,
                                                          AdminAction.outcome)
                                       .where(AdminAction.actor.in_(list(names))).tuples())
            on = maintenance.enabled()
            for m in self.users:
                assert maintenance.blocks(User.get_by_id(m.id)) == (on and m.role == "user"), (m.role, on)
        assert rows == self.log, (rows - self.log, self.log - rows)


SETTINGS = hsettings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)


def test_bot_state_machine(database) -> None:
    media = tempfile.mkdtemp(prefix="bananapics-prop-")
    BotMachine.config = load_config(None, environ={
        "BANANAPICS_USERS__START_BALANCE": str(START_BALANCE), "BANANAPICS_QUEUE__BACKEND": "immediate",
        "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "local", "BANANAPICS_STORAGE__PATH": media})
    with connection():
        BotMachine.seeded = (
            [{"id": m.id, "base_price": m.base_price, "pricing": m.pricing, "limits": m.limits, "enabled": m.enabled}
             for m in AiModel.select()],
            [{"id": p.id, "stars": p.stars, "tokens": p.tokens, "bonus_pct": p.bonus_pct, "active": p.active,
              "sort": p.sort} for p in Package.select()])
    SEEN.clear()
    run_state_machine_as_test(BotMachine, settings=SETTINGS)
    assert _breaches() == []
    print(dict(SEEN))


# ------------------------------------------------------------------ regressions the machine found


def test_cancel_and_generate_answer_when_the_admin_switched_every_model_off(database):
    """Found by the machine: with every model off, /cancel and /generate of a user who already had
    a draft crashed in ``drafts.reset`` (NoModels) and the user got no answer at all."""
    from tests.helpers import scenario

    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")  # she has a draft now
        with atomic():
            AiModel.update(enabled=False).execute()
        await ann.send("/cancel")
        assert "Balance" in " ".join(ann.buttons())
        await ann.send("/generate")
        assert " · from " not in " ".join(ann.buttons()) and "Menu" in " ".join(ann.buttons())
        assert _breaches() == []

    scenario(database, body)


def test_double_tapped_try_again_while_the_first_job_finishes_neither_deadlocks_nor_strands_money(database):
    """Found by the machine (Postgres): both taps of a double-tapped Try again submit the same job id.
    The second tap locked the user's row (``inflight``) before it looked for the job, while the
    first tap's job, run right after its commit, had updated the job row and waited for that user
    row: a deadlock. Either the handler crashed (no answer) or the failed job stayed running with its
    tokens held."""
    from tests.helpers import scenario

    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press(next(b for b in ann.buttons() if b.startswith("GPT Image ·")))
        await ann.send("#fail:moderation a cat")
        await ann.press("Skip ▶")
        await ann.press(next(b for b in ann.buttons() if b.startswith("✅ Next")))
        await ann.press(next(b for b in ann.buttons() if b.startswith(GENERATE)))
        for _ in range(8):
            await deliver_once(bot.client, bot.storage, bot.sender)
            await tg.settle()
            result = ann.panel
            assert "🔁 Try again" in result.buttons
            await asyncio.gather(ann.press("🔁 Try again", message=result), ann.press("🔁 Try again", message=result))
            with connection():
                user = User.get(User.tg_id == ann.id)
                assert (user.available, user.held) == (START_BALANCE, 0)
                assert Job.select().where(Job.status.not_in(list(TERMINAL))).count() == 0
        assert _breaches() == []

    scenario(database, body, BANANAPICS_USERS__START_BALANCE=str(START_BALANCE))
