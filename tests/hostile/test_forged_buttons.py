"""Forged, oversized and malformed callback data, and buttons naming what is not the presser's.

Real Telegram only sends data that is on a button of the message, but a modified client can put
anything there (``SimUser.press_data``). Every case: the press is answered (never left spinning),
with "this button is outdated" in the user's language or the screen the data really allows; no
money, job, payment or setting moves; nothing internal is shown; nothing secret is logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bananapics.models import Job, Payment
from bananapics.services import drafts
from bananapics.services import users as users_service
from tests.helpers import to_confirm
from tests.hostile.harness import Case, hostile, outdated

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass(frozen=True)
class Forged:
    name: str
    data: Callable[[dict[str, Any]], bytes]  # what is pressed, from the setup's facts
    says: str = "toast-outdated"  # the catalog text the user gets (as the button's answer or on the panel)
    args: tuple[tuple[str, Any], ...] = ()  # its arguments
    setup: str = "plain"  # which world the case needs (see ``SETUPS``)
    lang: str = "en"


def raw(data: bytes) -> Callable[[dict[str, Any]], bytes]:
    return lambda facts: data


def text(template: str) -> Callable[[dict[str, Any]], bytes]:
    return lambda facts: template.format(**facts).encode()


CASES = [
    # malformed: the codec refuses them before any handler
    Forged("empty", raw(b"")),
    Forged("65-bytes", raw(b"menu:open:" + b"x" * 55)),
    Forged("4k-bytes", raw(b"hist:page:" + b"9" * 4096)),
    Forged("non-ascii", raw("menu:open✓".encode()), lang="ru"),
    Forged("invalid-utf8", raw(b"menu:\xff\xfeopen"), lang="uz"),
    Forged("nul-byte", raw(b"menu:\x00open")),
    Forged("newline", raw(b"hist:page:1\nadm:home")),
    Forged("no-action", raw(b"menu")),
    Forged("trailing-colon", raw(b"menu:open:")),
    Forged("extra-arg", raw(b"menu:open:1")),
    Forged("missing-arg", raw(b"hist:page")),
    Forged("unknown-route", raw(b"admin:root")),
    Forged("negative-page", raw(b"hist:page:-1"), lang="ru"),
    Forged("leading-zeros", raw(b"hist:page:007")),
    Forged("page-over-range", raw(b"hist:page:10000")),
    Forged("id-over-bigint", raw(b"tpl:open:99999999999999999999")),
    Forged("uppercase-hex", raw(b"res:status:ABCDEF")),
    Forged("sql-in-arg", raw(b"tpl:open:1;DROP%20TABLE%20users")),
    Forged("format-in-arg", raw(b"tpl:cat:%s%n{0}:0")),
    Forged("path-in-slug", raw(b"tpl:cat:../../etc:0")),
    Forged("lang-not-offered", raw(b"set:lang:xx"), lang="uz"),
    Forged("count-over-codec", text("gen:n:{tok}:17")),
    Forged("ratio-zero", text("gen:ar:{tok}:0x9")),
    # well-formed, but naming what does not exist or is not the presser's
    Forged("unknown-template", raw(b"tpl:open:999999"), says="template-unavailable", lang="ru"),
    Forged("unknown-package", raw(b"bal:pkg:999999"), says="error-package-gone", lang="uz"),
    Forged("unknown-model", raw(b"gen:model:no-such-model"), says="error-model-unknown", lang="ru"),
    Forged("unknown-job", raw(b"hist:open:0123456789abcdef0123456789abcdef:0")),
    Forged("unknown-payment", raw(b"bal:pay:999999")),
    Forged("someone-elses-job", text("hist:open:{bob_job}:0"), setup="bob-paid"),
    Forged("someone-elses-job-again", text("res:again:{bob_job}"), setup="bob-paid"),
    Forged("someone-elses-job-resend", text("hist:send:{bob_job}"), setup="bob-paid"),
    Forged("someone-elses-job-delete", text("hist:delok:{bob_job}:0"), setup="bob-paid"),
    Forged("someone-elses-payment", text("bal:pay:{bob_payment}"), setup="bob-paid"),
    # the wizard: data from an older screen, another draft, or a price the user never saw
    Forged("stale-draft-token", text("gen:next:{old_tok}"), setup="confirm"),
    Forged("go-at-forged-price-0", text("gen:go:{tok}:0"), says="error-price-changed", setup="confirm"),
    Forged("go-at-forged-price-1", text("gen:go:{tok}:1"), says="error-price-changed", setup="confirm", lang="uz"),
    Forged("go-with-old-token", text("gen:go:{old_tok}:{price}"), setup="confirm"),
    Forged("go-with-bobs-token", text("gen:go:{bob_tok}:{price}"), setup="confirm"),
    Forged("count-over-model-max", text("gen:n:{tok}:16"), says="error-count-out-of-range",
           args=(("model", "GPT Image"), ("max", 4)), setup="confirm"),
    Forged("ratio-not-offered", text("gen:ar:{tok}:7x3"), says="error-setting-unsupported", setup="confirm"),
    Forged("resolution-not-offered", text("gen:res:{tok}:9K"), says="error-setting-unsupported", setup="confirm",
           lang="ru"),
]


async def _paid_job(case: Case, who) -> str:
    """A finished generation of ``who`` (tokens from the welcome grant)."""
    await to_confirm(who, "GPT Image", "a red fox")
    await who.press(next(b for b in who.buttons() if b.startswith("✨") or "Generate" in b))
    return Job.select(Job.id).join_from(Job, users_service.User).where(users_service.User.tg_id == who.id).get().id


async def setup(case: Case, kind: str) -> tuple[Any, dict[str, Any]]:
    ann = await case.user("Ann")
    facts: dict[str, Any] = {"tok": "ab12", "old_tok": "ab12", "bob_tok": "ab12", "price": 5}
    if kind == "bob-paid":
        bob = await case.user("Bob", "en")
        facts["bob_job"] = await _paid_job(case, bob)
        facts["bob_payment"] = await _bob_payment(bob)
    if kind == "confirm":
        bob = await case.user("Bob", "en")
        await to_confirm(bob, "GPT Image", "bob's own")
        facts["bob_tok"] = _tok(bob.panel)
        await ann.send("/generate")
        await ann.press_data(b"gen:model:gpt-image")
        facts["old_tok"] = _tok(ann.panel)
        await ann.send("a lighthouse")
        await press_route(ann, b"gen:skip:")
        await press_route(ann, b"gen:next:")
        facts["tok"] = _tok(ann.panel)
        go = next(b.data for row in ann.panel.button_rows for b in row if b.data and b.data.startswith(b"gen:go:"))
        facts["price"] = int(go.split(b":")[3])
    return ann, facts


async def press_route(who, prefix: bytes) -> None:
    """Press the panel's button whose data starts with ``prefix`` (whatever its label's language)."""
    await who.press_data(next(b.data for row in who.panel.button_rows for b in row
                              if b.data and b.data.startswith(prefix)))


def _tok(message) -> str:
    for row in message.button_rows:
        for b in row:
            if b.data and b.data.startswith(b"gen:") and b.data.count(b":") >= 2:
                return b.data.split(b":")[2].decode()
    raise AssertionError(f"no wizard button on {message.text!r}")


async def _bob_payment(bob) -> int:
    """Bob tops up 50 Stars; the payment row's id."""
    await bob.send("/start")
    await bob.press("Balance")
    await bob.press("Top up")
    await bob.press("⭐ 50 →")
    result = await bob.pay(bob.messages[-1])
    assert result.ok
    return Payment.get(Payment.charge_id == result.charge_id).id


@pytest.mark.parametrize("forged", CASES, ids=[c.name for c in CASES])
def test_forged_button(database, caplog, forged: Forged):
    async def body(case: Case) -> None:
        ann, facts = await setup(case, forged.setup)
        jobs_before = Job.select().count()
        case.freeze()
        answer = await ann.press_data(forged.data(facts))
        assert answer.answered
        expected = case.t(forged.says, **dict(forged.args))
        if forged.says == "toast-outdated":
            assert answer.message == outdated(forged.lang)
        else:
            assert expected in (answer.message or "") + "\n" + ann.panel.text, (answer.message, ann.panel.text)
        assert Job.select().count() == jobs_before

    hostile(database, caplog, body, lang=forged.lang)
