"""``bananapics models …``: the AI model catalog (on/off, default, prices, extras, limits)."""

from __future__ import annotations

from typing import Annotated

import typer

from bananapics.cli.common import (AsOpt, JsonOpt, ReasonOpt, YesOpt, confirm, database, group, operator, out,
                                   print_json, table)
from bananapics.errors import InvalidInput
from bananapics.services import catalog

app = group("AI models: on/off, default, prices, extras and limits.")

ModelArg = Annotated[str, typer.Argument(help="Model id, e.g. nano-banana (see `models list`).")]


def _row(model) -> dict:
    return catalog.snapshot(model)


def _print(model, as_json: bool, extra: dict | None = None) -> None:
    data = {**_row(model), **(extra or {})}
    if as_json:
        print_json(data)
        return
    out.print(f"{data['id']}: {'on' if data['enabled'] else 'OFF'}{', default' if data['is_default'] else ''}, "
              f"base {data['base_price']} tokens/image, extras: {_extras(data['pricing']) or '-'}, "
              f"max refs {data['limits'].get('max_refs')}, max count {data['limits'].get('max_count')}"
              + (f"; refunded {len(data['refunded_jobs'])} queued job(s)" if data.get("refunded_jobs") else ""))


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Every model, on or off, in display order.

    --json prints [{id, name, enabled, is_default, base_price, pricing, limits}].

    Example: bananapics models list --json
    """
    database()
    rows = [_row(m) for m in catalog.models(actor=operator(None))]
    if as_json:
        print_json(rows)
        return
    table(None, ["id", "name", "on", "default", "base", "extras", "max refs", "max count"],
          [[r["id"], r["name"], "yes" if r["enabled"] else "no", "yes" if r["is_default"] else "", r["base_price"],
            _extras(r["pricing"]), r["limits"].get("max_refs"), r["limits"].get("max_count")] for r in rows])


def _extras(pricing: dict) -> str:
    """{"resolution": {"4K": 20}, "per_reference": 1} → "resolution 4K+20; per reference +1"."""
    parts = []
    for kind, value in sorted(pricing.items()):
        if isinstance(value, dict):
            parts.append(f"{kind} " + " ".join(f"{k}+{v}" for k, v in value.items()))
        else:
            parts.append(f"{kind.replace('_', ' ')} +{value}")
    return "; ".join(parts)


@app.command()
def enable(model: ModelArg, reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Switch a model on: new drafts may pick it at once.

    Example: bananapics models enable seedream --reason "provider is back"
    """
    actor = operator(as_)
    database()
    _print(catalog.set_enabled(model, True, actor=actor, reason=reason).model, as_json)


@app.command()
def disable(model: ModelArg,
            refund_queued: Annotated[bool, typer.Option("--refund-queued", help="Also fail and refund every job of "
                                                        "the model no worker has started (users are told).")] = False,
            reason: ReasonOpt = None, yes: YesOpt = False, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Switch a model off: new drafts cannot pick it; queued jobs still run unless --refund-queued.

    Example: bananapics models disable gpt-image --refund-queued --reason "provider outage" --yes
    """
    actor = operator(as_)
    database()
    confirm(f"Switch {model} off" + (" and refund its queued jobs" if refund_queued else ""), yes)
    done = catalog.set_enabled(model, False, actor=actor, refund_queued=refund_queued, reason=reason)
    _print(done.model, as_json, {"refunded_jobs": done.refunded})


@app.command()
def default(model: ModelArg, reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Make a switched-on model the default of new drafts.

    Example: bananapics models default nano-banana
    """
    actor = operator(as_)
    database()
    _print(catalog.set_default(model, actor=actor, reason=reason), as_json)


def parse_extras(pairs: list[str]) -> dict:
    """``resolution=4K:20`` → {"resolution": {"4K": 20}}; ``per_reference:2`` → {"per_reference": 2}."""
    extras: dict = {}
    for pair in pairs:
        head, sep, amount = pair.rpartition(":")
        if not sep or not head:
            raise InvalidInput(f"--extra takes SETTING=VALUE:TOKENS (or per_reference:TOKENS), got {pair!r}")
        setting, eq, value = head.partition("=")
        setting = setting.strip()
        if not eq:
            if setting != "per_reference":
                raise InvalidInput(f"--extra takes SETTING=VALUE:TOKENS (or per_reference:TOKENS), got {pair!r}")
            extras["per_reference"] = amount.strip()
            continue
        extras.setdefault(setting, {})
        if not isinstance(extras[setting], dict):
            raise InvalidInput(f"--extra {setting} is given twice in different forms")
        extras[setting][value.strip()] = amount.strip()
    return extras


@app.command(context_settings={"ignore_unknown_options": True})
def price(model: ModelArg,
          base: Annotated[str | None, typer.Option("--base", help="Base price: tokens per image.")] = None,
          extra: Annotated[list[str] | None, typer.Option("--extra", help="Extra per setting value, "
                                                          "SETTING=VALUE:TOKENS, e.g. resolution=4K:20, "
                                                          "quality=high:25, or per_reference:TOKENS (repeatable).")] = None,
          reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Change a model's base price and per-setting extras; the next price users see uses them.

    Example: bananapics models price nano-banana --base 12 --extra resolution=4K:20 --extra per_reference:1
    """
    extras = parse_extras(extra or [])
    if base is None and not extras:
        raise typer.BadParameter("give --base and/or --extra", param_hint="'--base'")
    actor = operator(as_)
    database()
    _print(catalog.edit(model, actor=actor, base_price=base, extras=extras or None, reason=reason), as_json)


@app.command()
def limits(model: ModelArg,
           max_refs: Annotated[str | None, typer.Option("--max-refs", help="Reference images per request.")] = None,
           max_count: Annotated[str | None, typer.Option("--max-count", help="Images per request (1-10).")] = None,
           concurrency: Annotated[str | None, typer.Option(
               "--concurrency", help="Provider calls in flight for this model across all workers (1-1000; 0: the "
                                     "shared limits.model_concurrency).")] = None,
           reason: ReasonOpt = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Show a model's limits, or change how many references and images one request may have and how
    many of its provider calls may run at once.

    Example: bananapics models limits nano-banana --max-refs 4 --max-count 2 --concurrency 8
    """
    actor = operator(as_)
    database()
    if concurrency is not None:
        catalog.set_concurrency(model, concurrency, actor=actor, reason=reason)
    if max_refs is not None or max_count is not None:
        catalog.edit(model, actor=actor, max_refs=max_refs, max_count=max_count, reason=reason)
    current = next((m for m in catalog.models(actor=actor) if m.id == model), None)
    if current is None:
        from bananapics.errors import NotFound

        raise NotFound(f"unknown model {model!r}")
    cap = catalog.concurrency_of(model)
    if as_json:
        print_json({"id": current.id, "limits": current.limits_dict, "concurrency": cap})
    else:
        out.print(f"{current.id}: {current.limits_dict}, concurrency {cap if cap is not None else 'shared'}")
