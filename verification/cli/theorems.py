"""``sith theorems``: the theorem catalogue (no torch: theory imports it where it samples)."""

from __future__ import annotations

import json

import click

from verification.cli import _options as opt
from verification.cli._common import cell, console, echo, m, table


@click.command("theorems")
@click.argument("names", nargs=-1)
@opt.as_json
@click.option(
    "--details",
    is_flag=True,
    help="For each theorem, which parts of its statement were checked against the paper's "
    "text (verified, with where and a quote) and which were not.",
)
def theorems_command(names, as_json, details):
    """List the theorem catalogue (or the NAMES given).

    \b
    Examples:
      sith theorems
      sith theorems content-style --details
    """
    import theory as th
    from verification._terminal import printable_name

    items = [th.theorems.get(n) for n in names] if names else th.theorems.catalogue()
    if as_json:
        echo(json.dumps([t.to_dict() for t in items], indent=2))
        return
    screen = console()
    if details:
        for t in items:
            parts = table(
                m(f"{t.name}: {t.cite}"),
                ("part", "checked", "where", "quote", "sith differs"),
                title_justify="left",
            )
            for row in t.text_check_table():
                parts.add_row(
                    cell(row["part"]),
                    "verified" if row["verified"] else "unverified",
                    cell(row["where"]),
                    cell(row["quote"]),
                    cell(row["differs"]),
                )
            screen.print(parts)
        return
    listing = table("theorems", ("name", "assumptions", "learner", "claim", "source"))
    for t in items:
        cells = (
            printable_name(t.name),
            ", ".join(printable_name(a.name) for a in t.assumptions),
            t.learner_label,
            str(t.claim),
            t.cite,
        )
        listing.add_row(*map(cell, cells))
    screen.print(listing)
