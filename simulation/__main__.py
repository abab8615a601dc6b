"""``python -m simulation`` is the same as the ``friction`` console script."""

import sys

from simulation.cli.main import main

sys.exit(main())
