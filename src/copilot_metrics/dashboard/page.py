"""The dashboard as one self-contained HTML file: data, charting library, style and script inline.

The page makes no request at all: its Content-Security-Policy allows nothing but its own inline
style and scripts, named by their SHA-256 (computed here, so an injected script could not run).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from .data import DIMENSIONS, OTHER, BreakdownDay, DashboardData, DayFigures, RepoDay, TeamDay, fold_top

PAGE_NAME = "index.html"
DAY_FIELDS = tuple(f.name for f in fields(DayFigures) if f.name != "day")
BREAKDOWN_METRICS = ("interactions", "code_generations", "code_acceptances", "lines_added")
TEAM_FIELDS = tuple(f.name for f in fields(TeamDay) if f.name not in ("day", "team"))
REPO_FIELDS = tuple(f.name for f in fields(RepoDay) if f.name not in ("day", "repo"))
_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
# JSON text inside <script> must not be able to close it or open a comment: these become \uXXXX.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def write_dashboard(data: DashboardData, folder: Path) -> Path:
    """Write `folder`/dashboard/index.html (replacing any earlier one) and return its path."""
    target = folder / "dashboard" / PAGE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(PAGE_NAME + ".partial")
    partial.write_text(render(data), encoding="utf-8")
    partial.replace(target)
    return target


def render(data: DashboardData) -> str:
    """The page's HTML."""
    style = _asset("vendor/uPlot.min.css") + _asset("page.css")
    vendor_script = _asset("vendor/uPlot.iife.min.js")
    page_script = _asset("page.js")
    csp = "; ".join(
        (
            "default-src 'none'",
            f"script-src {_hash(vendor_script)} {_hash(page_script)}",
            f"style-src {_hash(style)}",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    replacements = {
        "CSP": csp,
        "TITLE": html.escape(data.title),
        "GENERATED": html.escape(data.generated_at),
        "MINGROUP": str(data.min_group_size),
        "STYLE": style,
        "DATA": page_json(data),
        "VENDOR_SCRIPT": vendor_script,
        "PAGE_SCRIPT": page_script,
    }
    # One pass over the template: a value is never scanned for placeholders itself.
    return _PLACEHOLDER.sub(lambda match: replacements[match[1]], _asset("page.html"))


def page_json(data: DashboardData) -> str:
    """The data as the page reads it: columns per day, safe to embed in a <script> element."""
    text = json.dumps(page_object(data), ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_SAFE)


def page_object(data: DashboardData) -> dict[str, Any]:
    index = {figures.day: position for position, figures in enumerate(data.days)}
    return {
        "days": [figures.day.isoformat() for figures in data.days],
        "series": {name: [_number(getattr(f, name)) for f in data.days] for name in DAY_FIELDS},
        "breakdowns": _breakdowns(fold_top(data.breakdowns), index),
        "teams": _columns(
            [row for row in data.teams if row.day in index and visible_team(row, data.min_group_size)],
            "team",
            TEAM_FIELDS,
            index,
        ),
        "repos": _columns([row for row in data.repos if row.day in index], "repo", REPO_FIELDS, index),
    }


def visible_team(row: TeamDay, min_group_size: int) -> bool:
    """Whether a team-day may be shown: the small-group rule, checked again here."""
    return row.active_users >= min_group_size


def _breakdowns(rows: tuple[BreakdownDay, ...], index: dict[date, int]) -> dict[str, Any]:
    volume: dict[str, dict[str, int]] = {dimension: defaultdict(int) for dimension in DIMENSIONS}
    for row in rows:
        volume[row.dimension][row.name] += row.interactions + row.code_generations
    names = {
        dimension: sorted(counts, key=lambda name: (name == OTHER, -counts[name], name))
        for dimension, counts in volume.items()
    }
    out: dict[str, Any] = {}
    for dimension in DIMENSIONS:
        position = {name: n for n, name in enumerate(names[dimension])}
        grids = {metric: [[0] * len(index) for _ in position] for metric in BREAKDOWN_METRICS}
        for row in rows:
            if row.dimension == dimension and row.day in index:
                for metric in BREAKDOWN_METRICS:
                    grids[metric][position[row.name]][index[row.day]] += getattr(row, metric)
        out[dimension] = {"names": names[dimension], **grids}
    return out


def _columns(
    rows: Sequence[TeamDay | RepoDay], key: str, values: tuple[str, ...], index: dict[date, int]
) -> dict[str, Any]:
    """Rows as columns, the day as its position in `days` and the name as its position in `names`."""
    names = sorted({getattr(row, key) for row in rows})
    position = {name: n for n, name in enumerate(names)}
    columns: dict[str, Any] = {"names": names, "day": [index[row.day] for row in rows]}
    columns[key] = [position[getattr(row, key)] for row in rows]
    for name in values:
        columns[name] = [_number(getattr(row, name)) for row in rows]
    return columns


def _number(value: float | None) -> float | None:
    return round(value, 2) if isinstance(value, float) else value


def _hash(source: str) -> str:
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
