"""Replays of every payment event and every admin confirmation, on SQLite and on Postgres.

Telegram may deliver an update more than once (a reconnect, a catch-up after a restart) and a user
may tap a confirmation twice: a pre-checkout, a successful payment and a refund are each applied
once; an admin's ✅ Yes (grant, deduct, role, ban, refund of a payment or of a stuck generation) acts
once, and its second press is "this button is outdated". Balances, ledger and admin log are checked
afterwards, and the frame checks the rest (nothing else moved, no leak, no secret logged).
"""

from __future__ import annotations

import pytest

from bananapics.bot.callbacks import encode
from bananapics.models import AdminAction, Job, Payment, Transfer
from bananapics.services import users
from tests.hostile.harness import Case, hostile, outdated


async def topup(who) -> object:
    """Balance → Top up → ⭐ 50 (100 tokens) → pay once."""
    await who.press_data(b"bal:open")
    await who.press_data(b"bal:topup")
    await who.press("⭐ 50 →")
    result = await who.pay(who.messages[-1])
    assert result.ok
    return result


PAYMENT_EVENTS = ["pre-checkout", "payment", "payment-concurrent", "refund"]


@pytest.mark.parametrize("event", PAYMENT_EVENTS)
def test_a_payment_event_replayed(database, caplog, event):
    async def body(case: Case) -> None:
        ann = await case.user("Ann", "ru")
        tg = case.tg
        paid = await topup(ann)
        payment = tg.payments[paid.charge_id]
        if event == "refund":
            await ann.refund_externally(paid.charge_id)
        case.freeze()
        if event == "pre-checkout":  # the paid invoice's pre-checkout again: refused, nothing charged
            query = tg.user_precheckout(ann.record, tg.invoices[-1])
            await tg.settle()
            assert query.answered and not query.ok and query.error == case.t("precheckout-paid")
        elif event in ("payment", "payment-concurrent"):
            tg.deliver_service(ann.record, tg.message(payment.msg_id).msg, times=5, together=event.endswith("t"))
            await tg.settle()
        else:  # the same refund service message, three more times
            for _ in range(3):
                tg.deliver_service(ann.record, tg.chat_messages(ann.id)[-1].msg, times=1)
                await tg.settle()
        row = users.get(ann.id)
        assert (row.available, row.held) == ((50, 0) if event == "refund" else (150, 0))
        assert Payment.select().count() == 1
        assert Transfer.select().where(Transfer.kind == "topup").count() == 1

    hostile(database, caplog, body, lang="ru")


async def admin_at(case: Case, steps) -> tuple[object, bytes, object]:
    """The admin walks ``steps`` (button data or typed text) to a confirmation; returns them, its
    ✅ Yes data and the confirmation message."""
    boss = await case.staff()
    await boss.send("/admin")
    for step in steps:
        if isinstance(step, bytes):
            await boss.press_data(step)
        else:
            await boss.send(step)
    assert "Please confirm" in boss.panel.text, boss.panel.text
    return boss, boss.panel.button("✅ Yes").data, boss.panel


def confirmations(ann_id: int, payment_id: int, job_id: str) -> dict[str, list]:
    return {
        "grant": [encode("adm", "uact", ann_id, "grant"), "25", "a gift"],
        "deduct": [encode("adm", "uact", ann_id, "deduct"), "10", "a correction"],
        "role": [encode("adm", "uact", ann_id, "role"), encode("adm", "role", ann_id, "support")],
        "ban": [encode("adm", "uact", ann_id, "ban"), "spam"],
        "refund-payment": [encode("adm", "refund", payment_id), "asked for it"],
        "refund-job": [encode("adm", "jrefund", job_id), "stuck"],
    }


EXPECT = {  # what the one applied confirmation leaves: (Ann's available, held, role, banned, log action)
    "grant": ((175, 0), "user", False, "ledger.adjust"),
    "deduct": ((140, 0), "user", False, "ledger.adjust"),
    "role": ((150, 0), "support", False, "users.role"),
    "ban": ((150, 0), "user", True, "users.ban"),
    "refund-payment": ((50, 0), "user", False, "payments.refund"),
    "refund-job": ((150, 0), "user", False, "jobs.refund"),
}


@pytest.mark.parametrize("what", list(EXPECT))
def test_an_admin_confirmation_pressed_twice(database, caplog, what):
    async def body(case: Case) -> None:
        ann = await case.user("Ann", username="annie")
        paid = await topup(ann)
        payment_id = Payment.get(Payment.charge_id == paid.charge_id).id
        job_id = "0" * 31 + "1"
        if what == "refund-job":  # a generation stuck in the queue: its hold is what the refund returns
            from bananapics.services import jobs
            job = jobs.submit(users.get(ann.id).id, "gpt-image", "stuck", source="bot")
            job_id = job.id
        boss, yes, confirm = await admin_at(case, confirmations(ann.id, payment_id, job_id)[what])
        await boss.press("✅ Yes")
        applied = AdminAction.select().where(AdminAction.outcome != "denied").count()
        state = users.get(ann.id)
        case.freeze()
        again = await boss.press_data(yes, message=confirm.id)
        assert again.answered and again.message == outdated("en")
        again = await boss.press_data(yes)  # and on whatever the panel is now
        assert again.message == outdated("en")
        (money, role, banned, action) = EXPECT[what]
        row = users.get(ann.id)
        assert ((row.available, row.held), row.role, row.banned) == (money, role, banned), what
        assert (row.available, row.held) == (state.available, state.held)
        assert AdminAction.select().where(AdminAction.outcome != "denied").count() == applied
        assert AdminAction.select().where(AdminAction.action == action).count() >= 1
        if what == "refund-job":
            assert Job.get_by_id(job_id).status in ("refunded", "failed", "cancelled")

    hostile(database, caplog, body)
