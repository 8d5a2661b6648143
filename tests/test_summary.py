"""The job summary, on small hand-made report files whose totals were worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot_metrics import summary
from copilot_metrics.artifacts import UploadedArtifact
from copilot_metrics.download import DownloadedFile
from copilot_metrics.job import ReportRun, RunRecord
from copilot_metrics.report_figures import AggregateFigures, Figures, ReposFigures, UsersFigures, figures_of
from copilot_metrics.reports import ReportLinks, ReportPart
from copilot_metrics.schema import CODE_COUNTERS as COUNTER_NAMES
from copilot_metrics.settings import parse_settings
from emulator import data

FIXTURES = Path(__file__).parent / "fixtures"


def fixtures(pattern: str) -> list[Path]:
    return sorted(FIXTURES.glob(pattern))


def table_row(markdown: str, title: str) -> list[str]:
    """The cells after the title cell of the first table row that starts with `title`."""
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == title:
            return cells[1:]
    raise AssertionError(f"no table row {title!r} in:\n{markdown}")


def summarize(report: str, pattern: str) -> tuple[Figures, str]:
    found = figures_of(report, fixtures(pattern))
    return found, text_of(found)


def text_of(found: Figures) -> str:
    return "\n".join(summary.contents_of(found))


def test_org_28_day_shards_are_added_and_a_repeated_day_counted_once() -> None:
    stats, text = summarize("organization-28-day", "organization-28-day_part-*.ndjson")

    assert isinstance(stats, AggregateFigures)
    assert sorted(stats.days) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert stats.days["2026-03-02"]["code_generation_activity_count"] == 30
    assert stats.repeated == 1
    assert (stats.reading.lines, stats.reading.malformed) == (4, 2)
    assert table_row(text, "") == ["2026-03-03", "3 days"]
    assert table_row(text, "Daily active users") == ["5", "4 per day on average"]
    assert table_row(text, "Weekly active users") == ["6", "n/a"]
    assert table_row(text, "User-initiated interactions") == ["30", "60"]
    assert table_row(text, "Code generations") == ["40", "90"]
    assert table_row(text, "Code acceptances") == ["10", "30"]
    assert table_row(text, "Acceptance rate") == ["25.0%", "33.3%"]
    assert table_row(text, "Lines suggested to add") == ["80", "230"]
    assert table_row(text, "Lines added") == ["60", "125"]
    assert "_1 day records repeated across files were counted once._" in text
    assert "_2 of 4 lines were malformed and skipped._" in text


def test_org_28_day_top_tables_add_up_the_breakdowns_over_the_window() -> None:
    _, text = summarize("organization-28-day", "organization-28-day_part-*.ndjson")

    assert "### Top IDEs (3 days)" in text
    assert table_row(text, "vscode") == ["56", "82", "28", "34.1%", "115"]
    assert table_row(text, "jetbrains") == ["4", "8", "2", "25.0%", "10"]
    # A count of the wrong type counts as nothing, but the IDE was there.
    assert table_row(text, "neovim") == ["0", "0", "0", "n/a", "0"]
    # An entry that is not a JSON object gives no row, not an "(unknown)" one.
    assert "(unknown)" not in text
    ides = [line.split("|")[1].strip() for line in text.split("### Top IDEs")[1].split("###")[0].splitlines()[4:7]]
    assert ides == ["vscode", "jetbrains", "neovim"]
    assert table_row(text, "code\\_completion") == ["0", "15", "4", "26.7%", "30"]
    assert table_row(text, "python") == ["0", "12", "3", "25.0%", "20"]
    assert table_row(text, "gpt-4.1") == ["10", "5", "1", "20.0%", "0"]


def test_org_28_day_chart_shows_daily_active_users_per_day() -> None:
    _, text = summarize("organization-28-day", "organization-28-day_part-*.ndjson")

    chart = text.split("```mermaid\n")[1].split("```")[0]
    assert chart.splitlines() == [
        "xychart-beta",
        '    title "Daily active users"',
        '    x-axis ["03-01", "03-02", "03-03"]',
        '    y-axis "Users" 0 --> 5',
        "    bar [3, 4, 5]",
    ]


def test_enterprise_1_day_range_adds_up_different_owners_of_a_day() -> None:
    stats, text = summarize("enterprise-1-day", "enterprise-1-day_*.ndjson")

    assert isinstance(stats, AggregateFigures)
    assert stats.repeated == 0
    assert (stats.reading.lines, stats.reading.malformed) == (4, 1)
    assert table_row(text, "") == ["2026-03-05", "2 days"]
    assert table_row(text, "Daily active users") == ["8", "9.5 per day on average"]
    assert table_row(text, "Code generations") == ["100", "302"]
    assert table_row(text, "Acceptance rate") == ["40.0%", "30.1%"]
    assert table_row(text, "claude-sonnet-4") == ["0", "300", "90", "30.0%", "0"]
    assert table_row(text, "gpt-4.1") == ["0", "2", "1", "50.0%", "0"]
    assert "bar [11, 8]" in text


def test_single_day_has_one_column_and_no_chart(tmp_path: Path) -> None:
    path = tmp_path / "day.ndjson"
    path.write_text(FIXTURES.joinpath("enterprise-1-day_2026-03-05.ndjson").read_text().splitlines()[0] + "\n")

    text = text_of(figures_of("enterprise-1-day", [path]))

    assert table_row(text, "Code generations") == ["100"]
    assert "mermaid" not in text and "malformed" not in text


def test_users_report_counts_users_never_logins() -> None:
    stats, text = summarize("users-28-day", "users-28-day_part-*.ndjson")

    assert isinstance(stats, UsersFigures)
    assert (stats.reading.lines, stats.reading.malformed) == (7, 2)
    for login in ("alice", "bob", "carol", "dave"):
        assert login not in text
    assert table_row(text, "") == ["2026-03-02", "2 days"]
    assert table_row(text, "Active users") == ["3", "3"]
    # The string "yes" reads as true, as it does in the history's tables (the same DuckDB read).
    assert table_row(text, "Used agent") == ["1", "2"]
    assert table_row(text, "Used chat") == ["1", "3"]
    assert table_row(text, "Used CLI") == ["1", "1"]
    assert table_row(text, "User-initiated interactions") == ["5", "11"]
    assert table_row(text, "Code generations") == ["10", "22"]
    assert table_row(text, "Acceptance rate") == ["50.0%", "45.5%"]
    assert table_row(text, "Lines added") == ["0", "8"]


def test_users_report_counts_users_per_ide_and_feature() -> None:
    _, text = summarize("users-28-day", "users-28-day_part-*.ndjson")

    assert table_row(text, "IDE") == ["Users on 2026-03-02", "Users per day on average", "User-days"]
    assert table_row(text, "vscode") == ["1", "1.5", "3"]
    assert table_row(text, "jetbrains") == ["1", "1", "2"]
    assert table_row(text, "neovim") == ["1", "0.5", "1"]
    assert table_row(text, "code\\_completion") == ["0", "1", "2"]
    assert table_row(text, "agent\\_edit") == ["0", "0.5", "1"]
    assert "bar [2, 3]" in text


def test_repos_report_names_repositories_and_ranks_them_by_pull_requests() -> None:
    stats, text = summarize("repos-1-day", "repos-1-day.ndjson")

    assert isinstance(stats, ReposFigures)
    assert "**Repositories in the report:** 4  " in text
    assert "_1 of 5 lines were malformed and skipped._" in text
    assert table_row(text, "Pull requests created") == ["4"]
    assert table_row(text, "Pull requests merged") == ["10"]
    assert table_row(text, "Created by Copilot") == ["25%"]
    assert table_row(text, "Reviewed by Copilot") == ["67%"]
    # Merged-weighted: 9 pull requests merged in a median of 300 minutes, 1 in 90.
    assert table_row(text, "Median minutes to merge") == ["300"]
    assert table_row(text, "Ready for review to first review") == ["120"]
    assert table_row(text, "First to final review") == ["10"]
    assert table_row(text, "Repository") == [
        "PRs created",
        "PRs merged",
        "Created by Copilot",
        "Reviewed by Copilot",
        "Median minutes to merge",
    ]
    table = text.split("| Repository |")[1].split("\n\n")[0].splitlines()[2:]
    ranked = [line.split("|")[1].strip() for line in table]
    # 9 merged pull requests rank above 1, whatever else the rows hold.
    assert ranked == ["octo/web", "octo/api", "\\#99", "octo/docs"]
    assert table_row(text, "octo/api") == ["2", "1", "50%", "50%", "90"]
    assert table_row(text, "octo/docs") == ["0", "0", "n/a", "n/a", "n/a"]


def test_unreadable_and_empty_files_do_not_break_the_summary(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")

    text = text_of(figures_of("users-1-day", [empty, tmp_path / "gone.ndjson"]))

    assert "No user activity was found" in text
    assert "Could not read: gone.ndjson" in text


def test_distinct_users_are_counted_exactly_however_many_there_are(tmp_path: Path) -> None:
    path = tmp_path / "users.ndjson"
    lines = [{"day": f"2026-03-0{1 + n % 2}", "user_id": n // 2 + (n % 2) * 10_000} for n in range(60_000)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    text = text_of(figures_of("users-1-day", [path]))

    # Users 0 to 29,999 on the first day, 10,000 to 39,999 on the second: 40,000 in all, exact.
    assert table_row(text, "Active users") == ["30,000", "40,000"]


def record_for(tmp_path: Path, report: str, files: list[Path], links: ReportLinks, day: str = "") -> RunRecord:
    folder = tmp_path / "copilot-metrics"
    folder.mkdir(exist_ok=True)
    copied = []
    for file in files:
        target = folder / file.name
        target.write_bytes(file.read_bytes())
        copied.append(DownloadedFile(target, target.stat().st_size))
    settings = parse_settings(
        {"org": "octo", "token": "t", "report": report, "day": day, "upload": "false", "path": str(folder)},
        {"GITHUB_WORKSPACE": str(tmp_path)},
        today=dt.date(2026, 3, 10),
    )
    return RunRecord(settings, [ReportRun(settings, links, copied, folder)], None)


def test_markdown_puts_the_run_and_the_report_contents_together(tmp_path: Path) -> None:
    links = ReportLinks(dt.date(2026, 3, 1), dt.date(2026, 3, 3), (ReportPart(None, ("x", "y")),), ())
    record = record_for(tmp_path, "organization-28-day", fixtures("organization-28-day_part-*.ndjson"), links)
    artifact = UploadedArtifact(12, "metrics", "https://github.com/o/r/actions/runs/1/artifacts/12", "ab" * 32, 2048)
    record = RunRecord(record.settings, record.reports, artifact)
    (tmp_path / "copilot-metrics" / "organization-28-day_part-1.csv").write_text("day\r\n")

    text = summary.markdown(record, [summary.report_contents(record.settings.report, record.files)])

    assert text.startswith("## Copilot usage metrics: `organization-28-day` for organization `octo`\n")
    assert "**Report window:** 2026-03-01 to 2026-03-03  " in text
    assert "**Artifact:** [`metrics`](https://github.com/o/r/actions/runs/1/artifacts/12) (2.0 KiB" in text
    assert "| `organization-28-day_part-1.ndjson` |" in text
    assert table_row(text, "Code generations") == ["40", "90"]


def test_markdown_of_a_day_range_says_which_days_had_a_report(tmp_path: Path) -> None:
    days = [dt.date(2026, 3, 4), dt.date(2026, 3, 5)]
    parts = tuple(ReportPart(day, ("x",)) for day in days)
    links = ReportLinks(days[0], days[1], parts, (dt.date(2026, 3, 6),))
    record = record_for(
        tmp_path, "organization-1-day", fixtures("enterprise-1-day_*.ndjson"), links, "2026-03-04..2026-03-06"
    )

    text = summary.markdown(record, [summary.report_contents(record.settings.report, record.files)])

    assert "**Days with a report:** 2 of 3  " in text
    assert "**Days without a report:** 2026-03-06  " in text
    assert table_row(text, "Code generations") == ["100", "302"]


def test_markdown_without_files_has_no_contents_section(tmp_path: Path) -> None:
    links = ReportLinks(None, None, (), (dt.date(2026, 3, 6),))
    record = record_for(tmp_path, "users-1-day", [], links, "2026-03-06")

    text = summary.markdown(record, [summary.report_contents(record.settings.report, record.files)])

    assert "**No report was available**" in text
    assert "###" not in text


def peak_rss_mib(path: Path) -> tuple[float, float]:
    """The seconds and peak RSS of a fresh process that computes the figures of a users report.

    Linux carries a process's peak over from before its exec, so a child forked from this large
    test process would report this process's size: a small Python in between starts the child
    and reads its peak with wait4."""
    work = (
        "import sys; from pathlib import Path; from copilot_metrics.report_figures import figures_of; "
        "figures_of('users-28-day', [Path(sys.argv[1])])"
    )
    between = (
        "import os, subprocess, sys; child = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]]); "
        "_, status, usage = os.wait4(child.pid, 0); print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)"
    )
    started = time.monotonic()
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", between, work, str(path)], env=env, capture_output=True, text=True, check=True
    )
    code, peak_kib = (int(value) for value in done.stdout.split())
    assert code == 0, done.stderr
    return time.monotonic() - started, peak_kib / 1024


def test_a_large_users_report_is_summarised_within_the_memory_bound(tmp_path: Path) -> None:
    path = tmp_path / "users.ndjson"
    size = data.make_users_shard(path, 20 * 1024 * 1024)

    _, peak = peak_rss_mib(path)

    assert size > 20 * 1024 * 1024 - 10_000
    assert peak < 256


@pytest.mark.slow
def test_a_200_mb_users_report_is_summarised_within_the_memory_bound(tmp_path: Path) -> None:
    path = tmp_path / "users.ndjson"
    data.make_users_shard(path, 200 * 1024 * 1024)

    seconds, peak = peak_rss_mib(path)

    assert peak < 256
    assert seconds < 30


def test_emulator_report_summary_matches_its_data(tmp_path: Path) -> None:
    shards = data.aggregate_28_day("seed", "organization_id", 9, dt.date(2026, 1, 1), dt.date(2026, 1, 28))
    paths = []
    for number, shard in enumerate(shards, start=1):
        paths.append(tmp_path / f"part-{number}.ndjson")
        paths[-1].write_bytes(shard)
    stats = figures_of("organization-28-day", paths)

    assert isinstance(stats, AggregateFigures)
    assert len(stats.days) == 28 and stats.repeated == 0 and stats.reading.malformed == 0
    text = text_of(stats)
    assert re.search(r"^\| Code generations \| [\d,]+ \| [\d,]+ \|$", text, re.MULTILINE)
    # 28 dates are written as days of the month only, so that Mermaid's labels stay legible.
    assert '    x-axis ["01", "02", "03", ' in text and '"28"]' in text


_FIELDS = ["day", "user_id", "slug", "repository", "organization_id", "day_totals", "totals_by_ide", *COUNTER_NAMES]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from([*_FIELDS, "ide", "x"]), inner, max_size=4)
    ),
    max_leaves=12,
)
_LINES = st.lists(
    st.dictionaries(st.sampled_from(_FIELDS), _JSON | st.sampled_from(["2026-03-01", "2026-03-02"]), max_size=8).map(
        lambda record: json.dumps(record)
    )
    | st.text(max_size=20),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=_LINES, report=st.sampled_from(["organization-28-day", "users-1-day", "repos-1-day"]))
def test_any_line_content_gives_a_summary(tmp_path: Path, lines: list[str], report: str) -> None:
    path = tmp_path / "report.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    stats = figures_of(report, [path])

    text = text_of(stats)
    assert stats.reading.malformed <= stats.reading.lines
    assert text.count("```") % 2 == 0


def test_the_artifact_name_cannot_add_a_link_to_the_summary(tmp_path: Path) -> None:
    links = ReportLinks(dt.date(2026, 3, 1), dt.date(2026, 3, 3), (ReportPart(None, ("x",)),), ())
    record = record_for(tmp_path, "organization-28-day", [], links)
    url = "https://github.com/o/r/actions/runs/1/artifacts/12"

    run = ReportRun(record.settings, links, [], record.reports[0].folder)

    def header(name: str) -> str:
        artifact = UploadedArtifact(12, name, url, "ab" * 32, 2048)
        text = summary.markdown(RunRecord(record.settings, [run], artifact), [[]])
        return next(line for line in text.splitlines() if line.startswith("**Artifact:**"))

    # A code span binds tighter than the link's brackets, and nothing inside it is markup or a link.
    assert header("Download the report](https://evil.example/login) [").startswith(
        f"**Artifact:** [`Download the report](https://evil.example/login) [`]({url}) ("
    )
    assert header("www.evil.example").startswith(f"**Artifact:** [`www.evil.example`]({url}) (")
    assert header("a`b``c").startswith(f"**Artifact:** [```a`b``c```]({url}) (")
    assert header("`x").startswith(f"**Artifact:** [`` `x ``]({url}) (")


def test_users_summary_shows_credits_and_every_surface_the_report_has(tmp_path: Path) -> None:
    path = tmp_path / "users.ndjson"
    lines = [
        {"day": "2026-03-01", "user_id": 1, "ai_credits_used": 2.5, "used_copilot_app": True, "used_cli": False},
        {"day": "2026-03-02", "user_id": 1, "ai_credits_used": 4, "used_copilot_app": False, "used_cli": True},
        {"day": "2026-03-02", "user_id": 2, "ai_credits_used": 1.5, "used_copilot_app": True},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    text = text_of(figures_of("users-1-day", [path]))

    assert table_row(text, "AI credits used") == ["5.5", "8"]
    assert table_row(text, "Per day on average") == ["n/a", "4"]
    assert table_row(text, "Used the Copilot app") == ["1", "2"]
    assert table_row(text, "Used CLI") == ["1", "1"]
    assert "Used agent" not in text and "Used Copilot cloud agent" not in text


def test_aggregate_summary_shows_adoption_credits_and_pull_requests(tmp_path: Path) -> None:
    path = tmp_path / "org.ndjson"
    day = {
        "day": "2026-03-02",
        "organization_id": "7",
        "daily_active_users": 9,
        "monthly_active_agent_users": 4,
        "daily_active_copilot_cloud_agent_users": 2,
        "weekly_active_copilot_cloud_agent_users": 3,
        "monthly_active_copilot_cloud_agent_users": 5,
        "daily_passive_copilot_code_review_users": 6,
        "ai_credits_used": 30,
        "totals_by_model_feature": [
            {"model": "gpt-4.1", "feature": "agent_edit", "ai_credits_used": 10},
            {"model": "claude-sonnet-4", "feature": "agent_edit", "ai_credits_used": 20},
        ],
        "pull_requests": {"total_created": 4, "total_merged": 2, "total_created_by_copilot": 1},
    }
    path.write_text(json.dumps(day) + "\n")

    text = text_of(figures_of("organization-1-day", [path]))

    assert table_row(text, "Agent in the IDE") == ["n/a", "n/a", "4"]
    assert table_row(text, "Copilot cloud agent") == ["2", "3", "5"]
    assert table_row(text, "Copilot code review, automatic only") == ["6", "n/a", "n/a"]
    assert "| Copilot CLI |" not in text and "| Copilot app |" not in text
    assert table_row(text, "AI credits used") == ["30"]
    # GitHub documents AI credits per day only: credits in breakdown entries are not read.
    assert "AI credits (" not in text
    assert table_row(text, "Pull requests created") == ["4"]
    assert table_row(text, "Created by Copilot") == ["25%"]
