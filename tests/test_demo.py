"""`bananapics demo`: the terminal chat drives the real bot end to end and saves the images."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from bananapics.config import load_config
from bananapics.demo import demo_config, run_demo


def test_demo_session_generates_and_saves_an_image(database, database_url, tmp_path):
    cfg = demo_config(load_config(None, environ={"BANANAPICS_DATABASE__URL": database_url,
                                                 "BANANAPICS_STORAGE__PATH": str(tmp_path / "media")}))
    # Generate, Nano Banana, the prompt, Skip, Next (settings step), a missing button, Generate — 15
    script = iter(["#1", "#1", "a yellow banana", "#1", "#4", "#9", "#1", "@/nonexistent.png", "quit"])

    async def read_line():
        return next(script, None)

    buffer = io.StringIO()
    asyncio.run(run_demo(cfg, read_line, Console(file=buffer, width=120), tmp_path / "out"))
    text = buffer.getvalue()
    assert "balance: 100 tokens" in text  # the demo's starting balance
    assert "Price: 15 tokens · balance after: 85" in text
    assert "no button #9" in text and "cannot read /nonexistent.png" in text
    assert "Done: 1 image for 15 tokens" in text
    saved = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(saved) == 2 and all((tmp_path / "out" / name).stat().st_size > 0 for name in saved)


def test_demo_tops_up_with_simulated_stars(database, database_url, tmp_path):
    cfg = demo_config(load_config(None, environ={"BANANAPICS_DATABASE__URL": database_url,
                                                 "BANANAPICS_STORAGE__PATH": str(tmp_path / "media")}))
    script = iter(["/balance", "#1", "#1", "#1", "quit"])  # Top up, the first package, Pay

    async def read_line():
        return next(script, None)

    buffer = io.StringIO()
    asyncio.run(run_demo(cfg, read_line, Console(file=buffer, width=400), tmp_path / "out"))
    text = buffer.getvalue()
    assert "🧾 invoice: 100 BananaPics tokens" in text
    assert "Stars; simulated, nothing is charged" in text
    assert "Pay ⭐" in text
    assert "✅ +100 tokens. Balance: 200" in text  # 100 to start with + the package


def test_a_demo_name_is_the_same_user_on_every_run_and_another_name_is_new(database, database_url, tmp_path):
    from bananapics.demo import demo_user_id
    from bananapics.services import users

    cfg = demo_config(load_config(None, environ={"BANANAPICS_DATABASE__URL": database_url,
                                                 "BANANAPICS_STORAGE__PATH": str(tmp_path / "media")}))

    def run(name: str, lang: str, lines: list[str]) -> str:
        script = iter(lines)

        async def read_line():
            return next(script, None)

        buffer = io.StringIO()
        asyncio.run(run_demo(cfg, read_line, Console(file=buffer, width=200), tmp_path / "out",
                             first_name=name, lang=lang))
        return buffer.getvalue()

    first = run("Ann", "en", ["/balance", "quit"])
    assert "Welcome to BananaPics" in first
    again = run("Ann", "ru", ["/balance", "quit"])  # the same user: no second welcome, still English
    assert "Welcome" not in again and "💰 Balance: 100 tokens" in again
    other = run("Boris", "ru", ["quit"])  # someone new, in Russian
    assert "Добро пожаловать в BananaPics" in other
    assert users.get(demo_user_id("Boris")).language == "ru" and users.get(demo_user_id("Ann")).language == "en"
    assert demo_user_id("Ann") != demo_user_id("Boris") and demo_user_id(" ann ") == demo_user_id("Ann")
