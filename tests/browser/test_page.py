"""The page file itself, without a browser: its vendored library, its policy, its embedded data."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from copilot_metrics.dashboard import BreakdownDay, DashboardData, DayFigures, TeamDay, fold_top, write_dashboard
from copilot_metrics.dashboard.page import page_object, render

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "copilot_metrics" / "dashboard" / "vendor"
LOCKED = Path(__file__).resolve().parent / "node_modules" / "uplot"
DAY = date(2026, 11, 27)


def small_data(**changes: Any) -> DashboardData:
    figures = DayFigures(DAY, 10, 12, 15, 100, 30, 50, 200, 40, 1.5, 6, 3, 1, 2)
    data = DashboardData(title="t", generated_at="now", min_group_size=5, days=(figures,))
    return replace(data, **changes)


def inline(tag: str, page: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)


@pytest.mark.parametrize(
    ("vendored", "packaged"),
    [
        ("uPlot.iife.min.js", "dist/uPlot.iife.min.js"),
        ("uPlot.min.css", "dist/uPlot.min.css"),
        ("uPlot.LICENSE", "LICENSE"),
    ],
)
def test_vendored_library_is_the_locked_npm_package(vendored: str, packaged: str) -> None:
    """`npm ci --prefix tests/browser` brings the locked version; copying its files refreshes the vendored copy."""
    if not LOCKED.is_dir():
        message = "tests/browser/node_modules is missing: run `make install`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert (VENDOR / vendored).read_bytes() == (LOCKED / packaged).read_bytes()
    lock = json.loads((LOCKED.parents[1] / "package-lock.json").read_text(encoding="utf-8"))
    version = lock["packages"]["node_modules/uplot"]["version"]
    assert f"(v{version})" in (VENDOR / "uPlot.iife.min.js").read_text(encoding="utf-8").splitlines()[0]


def test_policy_allows_exactly_the_inline_script_and_style() -> None:
    page = render(small_data())
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy
    directives = dict(part.strip().split(" ", 1) for part in policy[1].split(";"))
    assert directives["default-src"] == "'none'"

    def hashes(sources: list[str]) -> str:
        return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in sources)

    assert directives["script-src"] == hashes(inline("script", page))
    assert directives["style-src"] == hashes(inline("style", page))
    assert "unsafe" not in policy[1]


def test_embedded_data_cannot_close_its_script_element() -> None:
    hostile = "</script><script>alert(1)</script><!--"
    team = TeamDay(DAY, hostile, 9, 1, 1, 1, 1, 0.5)
    data = small_data(title=hostile, teams=(team,))
    page = render(data)
    assert page.count("</script>") == 3  # the data's, the library's and the page's own
    assert page.count("<script") == 3
    embedded = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page, re.DOTALL)
    assert embedded
    assert json.loads(embedded[1]) == page_object(data)
    assert "<title>&lt;/script&gt;" in page


def test_team_days_below_the_group_size_are_dropped_again() -> None:
    teams = (TeamDay(DAY, "big", 5, 10, 20, 5, 40, 1.0), TeamDay(DAY, "tiny", 4, 10, 20, 5, 40, 1.0))
    shown = page_object(small_data(teams=teams))["teams"]
    assert shown["names"] == ["big"]
    assert shown["active_users"] == [5]
    assert "tiny" not in render(small_data(teams=teams))


def test_fold_top_sums_the_rest_into_other() -> None:
    rows = [
        BreakdownDay(DAY, "model", f"m{n}", interactions=n, code_generations=0, code_acceptances=n, lines_added=1)
        for n in range(1, 6)
    ]
    folded = fold_top([*rows, BreakdownDay(DAY, "ide", "vscode", 1, 1, 1, 1)], limit=2)
    models = {row.name: row for row in folded if row.dimension == "model"}
    assert set(models) == {"m5", "m4", "other"}
    assert (models["other"].interactions, models["other"].code_acceptances, models["other"].lines_added) == (6, 6, 3)
    assert [row.name for row in folded if row.dimension == "ide"] == ["vscode"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days": ()}, "at least one day"),
        ({"min_group_size": 0}, "min_group_size"),
    ],
)
def test_data_that_cannot_be_shown_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        small_data(**changes)


def test_days_out_of_order_are_refused() -> None:
    day = small_data().days[0]
    with pytest.raises(ValueError, match="sorted"):
        small_data(days=(day, replace(day, day=date(2026, 11, 26))))


def test_write_dashboard_replaces_the_page_whole(tmp_path: Path) -> None:
    first = write_dashboard(small_data(title="first"), tmp_path)
    second = write_dashboard(small_data(title="second"), tmp_path)
    assert first == second == tmp_path / "dashboard" / "index.html"
    assert "<title>second</title>" in second.read_text(encoding="utf-8")
    assert sorted(path.name for path in second.parent.iterdir()) == ["index.html"]


def test_a_year_of_ten_thousand_users_stays_under_five_megabytes(page: Path) -> None:
    size = page.stat().st_size
    assert size < 5 * 1024 * 1024, f"{size / 1024 / 1024:.2f} MiB"
