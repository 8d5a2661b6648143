"""Everything the action says to the Actions runner: inputs, masks, log lines, annotations,
groups, outputs and the job summary. A thin layer over actions-toolkit.

Outside GitHub Actions (the command line) the same calls print plain lines to stderr instead of
workflow commands, so that stdout stays free for the command's own result."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from actions_toolkit import core


def read_inputs(names: Iterable[str]) -> dict[str, str]:
    """The inputs the runner passed as INPUT_<NAME> (hyphens kept); absent ones are left out."""
    return {name: core.get_input(name) for name in names if f"INPUT_{name.upper()}" in os.environ}


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def mask(secret: str) -> None:
    """Ask the runner to hide `secret` in everything printed after this line."""
    if not in_actions():
        return
    for line in secret.splitlines():
        if line.strip():
            core.set_secret(line)
    sys.stdout.flush()


def info(message: str) -> None:
    if in_actions():
        core.info(message)
    else:
        print(message, file=sys.stderr)


def warning(message: str) -> None:
    if in_actions():
        core.warning(message)
    else:
        print(f"warning: {message}", file=sys.stderr)


def error(message: str) -> None:
    if in_actions():
        core.error(message)
    else:
        print(f"error: {message}", file=sys.stderr)


@contextmanager
def group(title: str) -> Iterator[None]:
    if not in_actions():
        print(f"{title}...", file=sys.stderr)
        yield
        return
    core.start_group(title)
    try:
        yield
    finally:
        core.end_group()


def set_outputs(outputs: Mapping[str, str]) -> None:
    if not os.environ.get("GITHUB_OUTPUT"):
        return
    for name, value in outputs.items():
        core.set_output(name, value)


def append_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown)
