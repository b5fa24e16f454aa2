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
    items = _listing()
    if as_json:
        echo(json.dumps(items, indent=2))
        return
    listing = table("learners", ("name", "class", "options (--set KEY=VALUE)"))
    for item in items:
        listing.add_row(*map(cell, (item["name"], item["class"], ", ".join(item["options"]))))
    console().print(listing)


def _listing() -> list[dict]:
    """Each registered learner: name, class and options. The built-ins are read from
    their specs (no torch); a learner registered by user code (``--import``, an entry
    point, SITH_IMPORT) means ``verification.learners`` is imported already, and the
    registry is asked."""
    import sys

    from verification import _learner_specs as specs

    if "verification.learners" not in sys.modules:  # nothing can have registered one
        return [
            {"name": name, "class": cls, "options": specs.option_listing(cls)}
            for name, (cls, _) in sorted(specs.BUILT_IN.items())
        ]
    from verification import learners
    from verification.spaces import option_names

    items = []
    for name in learners.LEARNERS.names():
        learner = learners.get(name)
        cls = type(learner).__name__
        built_in = specs.BUILT_IN.get(name, (None,))[0] == cls
        options = specs.option_listing(cls) if built_in else option_names(learner)
        items.append({"name": name, "class": cls, "options": options})
    return items
