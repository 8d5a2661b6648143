"""What each benchmark item found, and RESULTS.md built from it.

run.py rewrites only the part of RESULTS.md between the two markers; the analysis written by
hand around it survives re-runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BEGIN = "<!-- bench:begin (written by bench/run.py; edit outside these markers) -->"
END = "<!-- bench:end -->"


@dataclass(frozen=True)
class Verdict:
    what: str
    target: str
    measured: str
    met: bool | None  # None: a reference figure without a target


@dataclass(frozen=True)
class Section:
    title: str
    body: str
    verdicts: list[Verdict] = field(default_factory=list)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _mark(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "—"}[met]


def generated(preamble: str, sections: Sequence[Section]) -> str:
    verdicts = [verdict for section in sections for verdict in section.verdicts]
    summary = table(
        ["what", "target", "measured", "verdict"],
        [[v.what, v.target, v.measured, _mark(v.met)] for v in verdicts],
    )
    parts = [preamble, "## Targets at a glance", summary]
    parts += [f"## {section.title}\n\n{section.body}" for section in sections]
    return "\n\n".join(parts)


def write(path: Path, content: str) -> None:
    """Replace the generated block of `path`, keeping whatever was written around it."""
    block = f"{BEGIN}\n\n{content}\n\n{END}"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        _, _, tail = rest.partition(END)
        path.write_text(head + block + tail, encoding="utf-8")
    else:
        path.write_text(f"# Benchmarks\n\n{block}\n", encoding="utf-8")
