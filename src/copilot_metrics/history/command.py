"""`copilot-metrics history verify|rebuild STORE`: look after a history outside the action."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import ActionError
from . import open_store
from .checks import rebuild, verify

EXIT_CODES = """exit codes:
  0  verify: every raw file matches its checksum and every table its raw files; rebuild: done
  1  verify found problems (each printed), or the store could not be opened, read or written
  2  the command line itself is malformed"""


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="copilot-metrics history",
        description=(
            "Check or rebuild a history the action keeps. STORE is a folder, s3://BUCKET/PREFIX, "
            "az://CONTAINER/PREFIX or gs://BUCKET/PREFIX; credentials come from the standard environment."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = command.add_subparsers(dest="action", required=True)
    actions.add_parser("verify", help="every raw file against its checksum, every table against its raw files")
    actions.add_parser("rebuild", help="every table again from the raw files (after a schema change)")
    for action in actions.choices.values():
        action.add_argument("store", metavar="STORE")
    return command


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    log = _print
    try:
        store = open_store(
            args.store, os.environ, Path.cwd(), github_token=os.environ.get("GITHUB_TOKEN", ""), log=log, warn=log
        )
        if args.action == "rebuild":
            log(f"Rebuilt the tables of {rebuild(store, log)} day(s) in {store.url}")
            return 0
        problems = verify(store, log)
    except ActionError as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    log(f"{store.url}: {'no problems' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


def _print(message: str) -> None:
    print(message, file=sys.stderr)
