"""`python -m bench` (the full suite, minutes) or `python -m bench --quick` (under two minutes)."""

import sys

from .suite import main

sys.exit(main())
