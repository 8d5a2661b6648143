"""Run an Emulator until SIGTERM/SIGINT, after printing its environment as one JSON line."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from .core import Emulator


def main() -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with tempfile.TemporaryDirectory(prefix="emulator-") as workdir, Emulator(Path(workdir)) as emu:
        settings = emu.env() | {"INPUT_TOKEN": emu.token, "INPUT_ORG": "octo", "INPUT_API-URL": emu.api_url}
        sys.stdout.write(json.dumps(settings) + "\n")
        sys.stdout.flush()
        # Short waits keep the main thread responsive to signals.
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
