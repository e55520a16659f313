"""`bananapics demo`: the real bot, an in-process worker, the offline provider and SQLite, with the
user's side of the chat in this terminal.

The bot runs on the simulated Telegram (``bananapics.simtg``) exactly as it would on the real one.
You type messages as the user; ``#N`` presses button N of the bot's latest panel, ``@PATH`` sends an
image file as a reference, ``quit`` leaves. Generated images are written to files and their paths
are shown.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console

from bananapics.config import Config

HELP = ("Type a message to the bot · #N presses button N of its latest message (an invoice's Pay button "
        "pays with simulated Stars) · @path/to/image.jpg sends a photo · /start, /generate, /balance, /help "
        "work as in Telegram · quit to leave")


def _render(console: Console, message, out_dir: Path, seen_files: set[int]) -> None:
    invoice = message.invoice if message.media_kind == "invoice" else None
    if invoice is not None:
        console.print("[bold yellow]bot[/] 🧾", end=" ")
        console.print(f"invoice: {invoice.title} — {invoice.description} "
                      f"({invoice.amount} {'Stars' if invoice.currency == 'XTR' else invoice.currency}; "
                      "simulated, nothing is charged)", markup=False, highlight=False)
        for n, label in enumerate(message.buttons, 1):
            console.print(f"    [cyan]#{n}[/] {label}", highlight=False)
        return
    if message.media_kind and message.file is not None and message.id not in seen_files:
        ext = "png" if message.file[:4] == b"\x89PNG" else "jpg"
        path = out_dir / f"message-{message.id}.{ext}"
        path.write_bytes(message.file)
        seen_files.add(message.id)
        console.print(f"[bold yellow]bot[/] 🖼  {message.media_kind} saved to {path}")
        if message.text:
            console.print(f"    {message.text}", markup=False, highlight=False)
        return
    console.print("[bold yellow]bot[/]", end=" ")
    console.print(message.text, markup=False, highlight=False)
    for n, label in enumerate(message.buttons, 1):
        console.print(f"    [cyan]#{n}[/] {label}", highlight=False)


def demo_user_id(first_name: str) -> int:
    """A stable Telegram id for a demo name (200,000,000–999,999,999; real-looking, never the bot's)."""
    return 200_000_000 + zlib.crc32(first_name.strip().casefold().encode()) % 800_000_000


async def run_demo(config: Config, read_line: Callable[[], Awaitable[str | None]], console: Console,
                   out_dir: Path, *, first_name: str = "You", lang: str = "en") -> None:
    from bananapics.bot.app import build_bot
    from bananapics.bot.delivery import deliver_once
    from bananapics.simtg import FakeTelegram, SimClient, SimUser

    out_dir.mkdir(parents=True, exist_ok=True)
    from bananapics.simtg.server import Limits

    # Replies to a user's own actions are not bulk traffic; a roomier per-chat burst keeps the
    # panel edits of a fast typist from tripping the simulated flood control.
    tg = FakeTelegram(limits=Limits(per_chat_burst=20))
    client = SimClient(telegram=tg)
    bot = build_bot(config, client)
    await client.start(bot_token=tg.bot_token)
    await bot.start(delivery_loop=False)
    # The same name is the same Telegram user on every run (balance, history and language kept in
    # the demo database); another --name starts as someone new, in --lang.
    user = SimUser(tg, first_name, user_id=demo_user_id(first_name), lang_code=lang)
    shown: dict[int, tuple[str, list[str]]] = {}
    saved: set[int] = set()

    async def show_changes() -> None:
        from bananapics.services import outbox

        for _ in range(50):  # results arrive through the outbox, like in production
            await deliver_once(client, bot.storage, bot.sender)
            await tg.settle()
            if not await asyncio.to_thread(outbox.pending_count):
                break
            await asyncio.sleep(0.1)
        for message in user.messages:
            state = (message.text, list(message.buttons))
            before = shown.get(message.id)
            if before != state:
                shown[message.id] = state
                if before is not None and before[0] == message.text and not message.buttons:
                    continue  # a newer panel took its buttons: showing it again only repeats it
                _render(console, message, out_dir, saved)

    console.print(f"[bold]BananaPics demo[/] — {HELP}")
    await user.start()
    await show_changes()
    try:
        while True:
            line = await read_line()
            if line is None or line.strip().lower() in ("quit", "exit", ":q"):
                break
            line = line.strip()
            if not line:
                continue
            try:
                if line.startswith("#") and line[1:].isascii() and line[1:].isdigit():
                    panel = user.panel
                    labels = panel.buttons if panel else []
                    index = int(line[1:]) - 1
                    if not 0 <= index < len(labels):
                        console.print(f"no button {line} (the panel has {len(labels)})")
                        continue
                    answer = await user.press(labels[index], message=panel)
                    toast = getattr(answer, "message", None)
                    if toast:
                        console.print(f"[dim]toast:[/] {toast}", highlight=False)
                elif line.startswith("@"):
                    path = Path(line[1:]).expanduser()
                    try:
                        data = path.read_bytes()
                    except OSError as exc:
                        console.print(f"cannot read {path}: {exc.strerror}")
                        continue
                    await user.send_document(data, path.name, None)
                else:
                    await user.send(line)
            except Exception as exc:  # noqa: BLE001 - keep the session alive and say what happened
                console.print(f"[red]error:[/] {exc}", highlight=False)
            await show_changes()
    finally:
        await client.disconnect()


def demo_config(config: Config) -> Config:
    """The embedded default: local provider, jobs run in-process, a starting balance to play with."""
    config.providers.force_provider = "local"
    config.queue.backend = "immediate"
    if config.users.start_balance == 0:
        config.users.start_balance = 100
    return config
