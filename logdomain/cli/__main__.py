"""``python -m logdomain.cli ...`` — the same as the ``logdomain`` console script."""

import sys

from .app import main

sys.exit(main())
