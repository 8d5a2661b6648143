"""`make reliability`: the fault, bad-input and bad-answer tests, run and tallied.

The same module gives those tests their shared checks. Each check records what it verified
through pytest's `record_property`, so that the tally below can count faults tried, survived
and failed cleanly, inputs rejected, and end-to-end runs checked for leaks, from the test
reports alone.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from action_run import ActionRun, artifact_entries, assert_no_leaks
from emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = (
    "test_faults.py",
    "test_inputs.py",
    "test_answers.py",
    "test_settings_properties.py",
    "test_hostile.py",
    "test_segments.py",
)
# What the suite must at least try for the run to count; a shrinking suite is a missed target too.
MINIMUM_TRIED = {"fault-survived": 30, "fault-failed": 30, "bad-input": 100, "bad-answer": 45}

Record = Callable[[str, object], None]


# The checks the tests share ---------------------------------------------------------------


def kept_files(run: ActionRun, folder: str = "copilot-metrics") -> dict[str, bytes]:
    """Every file under the step's `path` folder, by its path relative to that folder."""
    root = run.workspace / folder
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def check_leaks(run: ActionRun, emu: Emulator, record: Record) -> None:
    record("leak-checked", 1)
    try:
        assert_no_leaks(run, emu)
    except AssertionError:
        record("leak", 1)
        raise


def survived(
    run: ActionRun,
    emu: Emulator,
    record: Record,
    what: str,
    expected: dict[str, bytes],
    upload: bool = True,
    check: str = "fault-survived",
) -> None:
    """The run ended as if nothing had happened: outputs, files and a byte-exact artifact."""
    record("check", check)
    record("what", what)
    record("outcome", "handled")
    assert run.code == 0, run.stdout + run.stderr
    assert run.errors == [], run.errors
    assert kept_files(run) == expected
    _no_staging_left(run)
    if upload:
        live = [a for a in emu.artifacts.values() if a.finalized and not a.deleted]
        assert len(live) == 1, live
        blob = live[0].blob
        assert blob is not None and artifact_entries(blob) == expected
        assert run.outputs["artifact-id"] == str(live[0].id)
        assert run.outputs["artifact-digest"] == hashlib.sha256(blob).hexdigest()
    check_leaks(run, emu, record)


def failed_cleanly(
    run: ActionRun,
    emu: Emulator,
    record: Record,
    what: str,
    *phrases: str,
    kept: dict[str, bytes] | None = None,
    check: str = "fault-failed",
) -> None:
    """One ::error:: line holding `phrases`, exit code 1, no artifact, nothing half-written.

    `kept`: the complete files a run may leave when it failed after downloading them."""
    record("check", check)
    record("what", what)
    record("outcome", "error")
    _ended_with_one_error(run, *phrases)
    assert not [a for a in emu.artifacts.values() if a.finalized], "an artifact was finalized"
    assert kept_files(run) == (kept or {})
    _no_staging_left(run)
    check_leaks(run, emu, record)


def rejected(run: ActionRun, emu: Emulator, record: Record, name: str, *phrases: str) -> None:
    """Input `name` (or the runner's variable NAME) was refused before any request left the action."""
    record("check", "bad-input")
    record("what", name)
    _ended_with_one_error(run, name if name.isupper() else f"'{name}'", *phrases)
    assert emu.requests == [], [f"{r.host} {r.path}" for r in emu.requests]
    assert kept_files(run) == {}
    check_leaks(run, emu, record)


def checked_in_process(record: Record, check: str, what: str, outcome: str) -> None:
    """Marks a test that drives the fault in-process (a short RetryPolicy) rather than end to end."""
    record("check", check)
    record("what", f"{what} (in-process)")
    record("outcome", outcome)


def _ended_with_one_error(run: ActionRun, *phrases: str) -> None:
    assert run.code == 1, run.stdout + run.stderr
    assert len(run.errors) == 1, run.stdout
    for phrase in phrases:
        assert phrase in run.errors[0], (phrase, run.errors[0])
    assert "Traceback" not in run.stdout + run.stderr, run.stderr


def _no_staging_left(run: ActionRun) -> None:
    # Imported here: run as a script, this module starts before pytest puts src on the path.
    from copilot_metrics.download import STAGING_PREFIX

    leftovers = [p for p in run.workspace.rglob("*") if p.name.startswith(STAGING_PREFIX) or p.suffix == ".part"]
    assert leftovers == [], leftovers


# The tally -----------------------------------------------------------------------------------


@dataclass
class _Result:
    properties: dict[str, list[object]] = field(default_factory=dict)
    failed: bool = False


class Tally:
    """A pytest plugin: collects each test's outcome and recorded properties."""

    def __init__(self) -> None:
        self.results: dict[str, _Result] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = self.results.setdefault(report.nodeid, _Result())
        result.failed = result.failed or report.failed
        properties: dict[str, list[object]] = {}
        for name, value in report.user_properties:
            properties.setdefault(name, []).append(value)
        if properties:
            result.properties = properties

    def counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for result in self.results.values():
            kind = str(result.properties.get("check", ["other"])[0])
            counts[f"{kind} tried"] += 1
            counts[f"{kind} {'failed' if result.failed else 'passed'}"] += 1
            if kind == "bad-answer" and not result.failed:
                counts[f"bad-answer {result.properties['outcome'][0]}"] += 1
            counts["leak checks"] += len(result.properties.get("leak-checked", []))
            counts["leaks"] += len(result.properties.get("leak", []))
        counts["tests failed"] = sum(result.failed for result in self.results.values())
        return counts


def report(counts: Counter[str]) -> list[str]:
    return [
        f"Faults tried:          {counts['fault-survived tried'] + counts['fault-failed tried']}",
        f"  survived:            {counts['fault-survived passed']} of {counts['fault-survived tried']}",
        f"  failed cleanly:      {counts['fault-failed passed']} of {counts['fault-failed tried']}",
        f"Bad inputs tried:      {counts['bad-input tried']}",
        f"  rejected cleanly:    {counts['bad-input passed']}",
        f"Bad answers tried:     {counts['bad-answer tried']}",
        f"  clear errors:        {counts['bad-answer error']}",
        f"  handled:             {counts['bad-answer handled']}",
        f"Other tests passed:    {counts['other passed']} of {counts['other tried']} (properties, unit checks)",
        f"Runs checked for leaks: {counts['leak checks']}",
        f"  leaks found:         {counts['leaks']}",
    ]


def missed_targets(counts: Counter[str]) -> list[str]:
    missed = [f"{counts['tests failed']} test(s) failed"] if counts["tests failed"] else []
    missed += [
        f"only {counts[f'{kind} tried']} {kind} checks tried (at least {least})"
        for kind, least in MINIMUM_TRIED.items()
        if counts[f"{kind} tried"] < least
    ]
    if counts["leaks"]:
        missed.append(f"{counts['leaks']} leak(s) found")
    return missed


def main() -> int:
    os.chdir(ROOT)
    tally = Tally()
    tests = [str(Path("tests") / name) for name in TEST_FILES]
    code = pytest.main(["-q", "-p", "no:cacheprovider", *tests], plugins=[tally])
    counts = tally.counts()
    print("\nReliability", *report(counts), sep="\n")
    missed = missed_targets(counts)
    for target in missed:
        print(f"MISSED: {target}")
    if not missed and code == 0:
        print("All targets met.")
    return 1 if missed or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
