"""``python -m benchmarks``: every benchmark, one table, JSON, ``--compare``."""

import sys

from benchmarks._runner import main

sys.exit(main())
