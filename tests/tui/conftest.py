"""Fixtures for the admin TUI tests: a seeded database on each engine, the simulated Telegram
behind refunds, and an app factory with a frozen clock, no cursor blink and no background refresh."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bananapics.botapi import BotApi
from bananapics.models import Package
from bananapics.services import invoices, jobs, payments, users
from bananapics.services.audit import Actor
from bananapics.simtg import FakeTelegram, ManualClock
from bananapics.simtg.botapi import transport
from bananapics.simtg.server import InvoiceRecord
from bananapics.tui.app import create_app

NOW = dt.datetime(2030, 1, 15, 12, 0, 0)  # the frozen clock: far enough ahead that every seeded row is "past"
OPERATOR = Actor.operator("tester", channel="tui")


@pytest.fixture
def tg() -> FakeTelegram:
    return FakeTelegram(clock=ManualClock())


def customer(tg: FakeTelegram, name: str, username: str | None = None):
    record = tg.add_user(name)
    return record, users.register(record.id, first_name=name, username=username).user


def pay(tg: FakeTelegram, record, user, stars: int = 50) -> str:
    """The user pays a package invoice on Telegram and the bot credits it."""
    intent = invoices.create_intent(user.id, Package.get(Package.stars == stars).id)
    invoice = InvoiceRecord(msg_id=None, user_id=record.id, title="t", description="d", currency="XTR",
                            amount=intent.stars, payload=intent.payload.encode(), start_param=None)
    tg.invoices.append(invoice)
    payment, _ = tg.user_payment_succeeds(record, invoice)
    payments.credit_charge(record.id, invoice.payload, payment.charge_id, currency="XTR", amount=invoice.amount)
    return payment.charge_id


class World:
    """The seeded people: alice paid once, bob has nothing, carol is banned; plus ``fillers``."""

    def __init__(self, tg: FakeTelegram, fillers: int = 0) -> None:
        self.alice_rec, self.alice = customer(tg, "Alice", "alice")
        self.charge = pay(tg, self.alice_rec, self.alice)
        self.bob_rec, self.bob = customer(tg, "Bob", "bobby")
        self.carol_rec, self.carol = customer(tg, "Carol", "carol")
        users.ban(self.carol.tg_id, reason="spam", actor=OPERATOR)
        for i in range(fillers):
            users.register(10_000_000 + i, first_name=f"Filler{i:03d}", username=f"filler{i:03d}")
        self.job = jobs.submit(self.alice.id, "nano-banana", "a banana on the moon")


@pytest.fixture
def world(database, tg) -> World:
    return World(tg)


@pytest.fixture
def make_app(tg):
    def make(**options):
        options = {"actor": OPERATOR, "telegram": lambda: BotApi(tg.bot_token, transport=transport(tg)),
                   "clock": lambda: NOW, "refresh_s": 3600.0, "reconnect_s": 0.05, "blink": False, **options}
        return create_app(**options)
    return make


QUIET_GROUPS = ("action", "reconnect")  # workers that wait on a dialog or on the server, not on data


async def settle(pilot, rounds: int = 400) -> None:
    """Wait until every data worker is done and the screen has drawn their results (an action worker
    waiting on its dialog does not count: the test answers the dialog next)."""
    for _ in range(rounds):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if not w.is_finished and w.group not in QUIET_GROUPS]
        if not busy:
            break
        await asyncio.sleep(0.01)
    await pilot.pause()


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests are ``async``: anyio's pytest plugin (installed with httpx) runs them on asyncio."""
    return "asyncio"
