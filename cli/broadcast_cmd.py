"""``bananapics broadcast create|status|pause|resume|cancel``: messages to every user or a segment.

The bot's delivery loop sends them (through the outbox, at Telegram's pace, after user-facing
messages); these commands create, watch and steer them. Every change is in the admin log.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bananapics.cli.common import (AsOpt, JsonOpt, ReasonOpt, YesOpt, config, confirm, database, fail, fields, group,
                                   operator, out, print_json, table)

app = group("Broadcasts: a message (text, optional photo and URL button) to every user or a segment.")

SegmentOpt = Annotated[list[str] | None, typer.Option(
    "--segment", "-s", help="Who gets it (repeat to combine; default all): all, lang=uz|ru|en, active=DAYS, paid, "
                            "balance, referred.")]


def _per_second() -> float:
    return float(config().telegram.send_per_second)


def _eta(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{-(-seconds // 60)} min"


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.__class__.__name__}", param_hint="'FILE'") from None


@app.command()
def create(file: Annotated[str, typer.Argument(help="UTF-8 text file with the message ('-': standard input).")],
           segment: SegmentOpt = None,
           photo: Annotated[Path | None, typer.Option(help="A JPEG, PNG or WEBP photo; the text becomes its caption "
                                                           "(at most 1024 characters).")] = None,
           button: Annotated[str | None, typer.Option(help='One URL button: "Label | https://…".')] = None,
           draft: Annotated[bool, typer.Option("--draft", help="Only create it (start it from the bot's panel, "
                                                               "after a test send).")] = False,
           yes: YesOpt = False, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Create a broadcast and start it: the recipients are frozen now and the bot sends at Telegram's pace.

    Asks for confirmation with the number of recipients and an ETA unless --yes. --json prints the
    status object (see `status`).

    Example: bananapics broadcast create news.txt --segment lang=ru --segment active=30 --button "Open | https://t.me/BananaPicsBot" --yes
    """
    from bananapics.services import broadcast

    text = _read_text(file)
    seg = broadcast.Segment.parse(segment or [])
    parsed_button = broadcast.parse_button(button) if button is not None else None
    data = None
    if photo is not None:
        try:
            data = photo.read_bytes()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {photo}: {exc.__class__.__name__}", param_hint="'--photo'") from None
    broadcast.check_text(text, photo=data is not None)
    actor = operator(as_)
    database()
    count = broadcast.audience_count(seg, actor=actor)
    if not draft:
        if count == 0:
            fail(f"nobody is in the audience ({seg.describe()})")
        confirm(f"Send this broadcast to {count} users ({seg.describe()}), about "
                f"{_eta(broadcast.eta_seconds(count, _per_second()))} at Telegram's pace", yes)
    b = broadcast.create(text, actor=actor, segment=seg, button=parsed_button)
    if data is not None:
        from bananapics.storage import make_storage

        b = broadcast.store_photo(make_storage(config().storage), b.id, data, actor=actor)
    if not draft:
        b = broadcast.start(b.id, actor=actor)
    _show(broadcast.progress(b.id, actor=actor, per_second=_per_second()).as_dict(), as_json)


def _show(data: dict, as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    fields({"id": data["id"], "status": data["status"], "audience": data["segment"] or "everyone",
            "progress": f"sent {data['sent']} of {data['total']} · blocked {data['blocked']} · failed "
                        f"{data['failed']} · waiting {data['queued']} · cancelled {data['cancelled']}",
            "eta": _eta(data["eta_s"]) if data["queued"] else "-", "photo": "yes" if data["photo"] else "no",
            "button": " | ".join(data["button"]) if data["button"] else "-", "created_by": data["created_by"],
            "created_at": data["created_at"], "started_at": data["started_at"], "finished_at": data["finished_at"],
            "text": data["text"]})


@app.command()
def status(broadcast_id: Annotated[int | None, typer.Argument(metavar="[ID]", help="One broadcast; "
                                                              "without: the newest ones.")] = None,
           limit: Annotated[int, typer.Option(min=1, max=100, help="How many of the newest.")] = 10,
           as_json: JsonOpt = False) -> None:
    """Live progress: sent / total / blocked / failed / waiting, and the time left.

    --json prints {id, status, total, sent, blocked, failed, queued, cancelled, eta_s, text, segment,
    created_by, created_at, started_at, finished_at, photo, button} (a list of them without ID).

    Example: bananapics broadcast status 3 --json
    """
    from bananapics.services import broadcast

    database()
    actor = operator(None)
    if broadcast_id is not None:
        _show(broadcast.progress(broadcast_id, actor=actor, per_second=_per_second()).as_dict(), as_json)
        return
    items = [p.as_dict() for p in broadcast.recent(actor=actor, limit=limit, per_second=_per_second())]
    if as_json:
        print_json(items)
        return
    table(None, ["id", "status", "sent", "total", "blocked", "failed", "waiting", "audience", "text"],
          [[p["id"], p["status"], p["sent"], p["total"], p["blocked"], p["failed"], p["queued"],
            ", ".join(f"{k}={v}" for k, v in p["segment"].items()) or "everyone", p["text"][:40]] for p in items])


def _steer(action: str, broadcast_id: int, as_: str | None, as_json: bool) -> None:
    from bananapics.services import broadcast

    actor = operator(as_)
    database()
    getattr(broadcast, action)(broadcast_id, actor=actor)
    _show(broadcast.progress(broadcast_id, actor=actor, per_second=_per_second()).as_dict(), as_json)


@app.command()
def pause(broadcast_id: Annotated[int, typer.Argument(metavar="ID")], as_: AsOpt = None,
          as_json: JsonOpt = False) -> None:
    """Stop sending (what Telegram has already is not taken back); `resume` goes on.

    Example: bananapics broadcast pause 3
    """
    _steer("pause", broadcast_id, as_, as_json)


@app.command()
def resume(broadcast_id: Annotated[int, typer.Argument(metavar="ID")], as_: AsOpt = None,
           as_json: JsonOpt = False) -> None:
    """Go on sending a paused broadcast.

    Example: bananapics broadcast resume 3
    """
    _steer("resume", broadcast_id, as_, as_json)


@app.command()
def cancel(broadcast_id: Annotated[int, typer.Argument(metavar="ID")], reason: ReasonOpt = None,
           yes: YesOpt = False, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Stop a broadcast for good: what was not sent yet is dropped.

    Example: bananapics broadcast cancel 3 --reason "wrong link" --yes
    """
    from bananapics.services import broadcast

    actor = operator(as_)
    database()
    current = broadcast.progress(broadcast_id, actor=actor, per_second=_per_second())
    confirm(f"Cancel broadcast #{broadcast_id} ({current.queued} not sent yet are dropped)", yes)
    broadcast.cancel(broadcast_id, actor=actor, reason=reason)
    data = broadcast.progress(broadcast_id, actor=actor, per_second=_per_second()).as_dict()
    if as_json:
        print_json(data)
    else:
        out.print(f"broadcast #{broadcast_id} cancelled: {data['cancelled']} not sent")
