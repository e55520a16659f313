"""``bananapics config show``: the effective config, secrets masked."""

from __future__ import annotations


from bananapics.cli.common import JsonOpt, config, out, print_json, table, group

app = group("Configuration.")


@app.command()
def show(as_json: JsonOpt = False) -> None:
    """Print the effective config (file + environment) with every secret masked.

    Example: bananapics config show --json
    """
    cfg = config()
    data = cfg.show()  # secrets and URL passwords masked
    if as_json:
        print_json({"source": cfg.source, **data})
        return
    out.print(f"config: {cfg.source}")
    rows = [[f"{section}.{key}", value] for section, values in data.items() for key, value in values.items()]
    table(None, ["key", "value"], rows)
