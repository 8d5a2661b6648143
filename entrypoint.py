"""The container's entry point: runs the action's main job."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from copilot_metrics.main import main

sys.exit(main())
