"""``python -m simulation`` is the same as the ``friction`` console script."""

import sys

from simulation.cli import main

sys.exit(main())
