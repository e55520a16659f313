"""The `bananapics` Typer CLI."""
