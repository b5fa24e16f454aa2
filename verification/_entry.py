"""The ``sith`` console script: a guard around importing and running the CLI.

Importing the CLI pulls in torch and sympy (seconds); a Ctrl-C in that time must end
like any other interruption (exit 130, one line), not with a traceback from an import.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from verification.cli import main as cli

        cli()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    main()
