"""Where the project under test lives and what its image is called in local storage."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACTION_YML = ROOT / "action.yml"
IMAGE = "localhost/copilot-metrics-action:test"
