"""``sith learners``: the registered learners and the options ``--set`` accepts."""

from __future__ import annotations

import json

import click

from verification.cli import _options as opt
from verification.cli._common import cell, console, echo, table


@click.command("learners")
@opt.as_json
def learners_command(as_json):
    """List the registered learners and the options `--set` accepts for each."""
    from verification import learners
    from verification.spaces import option_names

    items = []
    for name in learners.LEARNERS.names():
        learner = learners.get(name)
        items.append(
            {"name": name, "class": type(learner).__name__, "options": option_names(learner)}
        )
    if as_json:
        echo(json.dumps(items, indent=2))
        return
    listing = table("learners", ("name", "class", "options (--set KEY=VALUE)"))
    for item in items:
        listing.add_row(*map(cell, (item["name"], item["class"], ", ".join(item["options"]))))
    console().print(listing)
