"""``sith assumptions``: the assumption catalogue."""

from __future__ import annotations

import json

import click

from verification.cli import _options as opt
from verification.cli._common import cell, console, echo, table


@click.command("assumptions")
@opt.as_json
def assumptions_command(as_json):
    """List the assumption catalogue."""
    import theory as th
    from verification._terminal import printable_name

    items = [th.assumptions.get(n) for n in th.assumptions.names()]
    if as_json:
        rows = [{"name": a.name, "statement": a.description, "cite": a.cite} for a in items]
        echo(json.dumps(rows, indent=2))
        return
    listing = table("assumptions", ("name", "statement", "source"))
    for a in items:
        listing.add_row(cell(printable_name(a.name)), cell(a.description), cell(a.cite))
    console().print(listing)
