"""`python -m copilot_metrics`: the command line, for use outside GitHub Actions."""

import sys

from .cli import main

sys.exit(main())
