"""Everything the action says to the Actions runner: inputs, masks, log lines, annotations,
groups, outputs and the job summary. A thin layer over actions-toolkit.

The entry point says which program is running: the action (workflow commands on stdout, read by
the runner) or the command line (plain lines on stderr, stdout kept for the command's JSON
result). The mode is never guessed from GITHUB_ACTIONS: the command line run from a workflow's
`run:` step sees that variable too, and workflow commands in its stdout would end up in whatever
file the user redirects it to, masks with the token in clear included."""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Literal, ParamSpec

from actions_toolkit import core

Mode = Literal["action", "command-line"]
# What the action's modules take for logging and for reporting a secret: one type each, here.
Log = Callable[[str], None]
SecretSink = Callable[[str], None]

_mode: Mode = "command-line"
# Line breaks and other control characters in outside text (a server's message, a link) would
# start a new log line that the runner could read as a workflow command.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
# One writer at a time. Python's text streams are not safe to write from several threads
# (python/cpython#118138 and #119506; 3.11 has the bug): a line written while another thread
# flushes can be dropped, and the stream then emits as many bytes of stray memory. The report
# workers print from threads; a dropped `::add-mask::` line, or stray bytes in front of one,
# would leave a signed link's secret unmasked.
_printing = threading.Lock()
_Args = ParamSpec("_Args")


def _one_at_a_time(printer: Callable[_Args, None]) -> Callable[_Args, None]:
    @functools.wraps(printer)
    def locked(*args: _Args.args, **kwargs: _Args.kwargs) -> None:
        with _printing:
            printer(*args, **kwargs)

    return locked


def set_mode(mode: Mode) -> None:
    global _mode
    _mode = mode


def in_actions() -> bool:
    return _mode == "action"


def one_line(text: str) -> str:
    """`text` with every control character written as an escape, so it prints as one line."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def read_inputs(names: Iterable[str]) -> dict[str, str]:
    """The inputs the runner passed as INPUT_<NAME> (hyphens kept); absent ones are left out."""
    return {name: core.get_input(name) for name in names if f"INPUT_{name.upper()}" in os.environ}


@_one_at_a_time
def mask(secret: str) -> None:
    """Ask the runner to hide `secret` in everything printed after this line."""
    if not in_actions():
        return
    for line in secret.splitlines():
        if line.strip():
            core.set_secret(line)
    sys.stdout.flush()


@_one_at_a_time
def info(message: str) -> None:
    if in_actions():
        core.info(one_line(message))
    else:
        print(one_line(message), file=sys.stderr)


@_one_at_a_time
def warning(message: str) -> None:
    if in_actions():
        core.warning(message)
    else:
        print(f"warning: {one_line(message)}", file=sys.stderr)


@_one_at_a_time
def error(message: str) -> None:
    if in_actions():
        core.error(message)
    else:
        print(f"error: {one_line(message)}", file=sys.stderr)


@contextmanager
def group(title: str) -> Iterator[None]:
    if not in_actions():
        info(f"{title}...")
        yield
        return
    with _printing:
        core.start_group(one_line(title))
    try:
        yield
    finally:
        with _printing:
            core.end_group()


def set_outputs(outputs: Mapping[str, str]) -> None:
    if not in_actions() or not os.environ.get("GITHUB_OUTPUT"):
        return
    for name, value in outputs.items():
        core.set_output(name, value)


def append_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if in_actions() and path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown)
