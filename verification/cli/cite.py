"""``sith cite``: BibTeX of theorems' papers, or of sith itself."""

from __future__ import annotations

import click

from verification.cli._common import echo, theorem_named


@click.command("cite")
@click.argument("names", nargs=-1, metavar="[THEOREM]...")
def cite_command(names):
    """Print BibTeX: each THEOREM's paper(s), or sith's own entry when none is named.

    \b
    Examples:
      sith cite                  # sith itself
      sith cite cl-ica ivae      # the papers of two catalogue theorems
      sith --import paper.py cite my-theorem
    """
    from verification import citations

    if not names:
        echo(citations.sith_bibtex(), nl=False)
        return
    echo(citations.cite([theorem_named(name) for name in names]), nl=False)
