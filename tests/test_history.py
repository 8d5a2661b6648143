"""The history in a local folder, kept by entrypoint.py run as the runner runs it against the emulator."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import emulator.reports
from action_run import ActionRun, assert_no_leaks, run_action
from copilot_metrics import schema
from copilot_metrics.history import checks, keeping, open_store, tables
from emulator import Emulator
from emulator import data as report_data
from emulator.data import aggregate_1_day


def newest_days(count: int) -> list[dt.date]:
    newest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    return [newest - dt.timedelta(days=n) for n in reversed(range(count))]


def day_range(days: list[dt.date]) -> str:
    return f"{days[0]}..{days[-1]}"


def history_run(emu: Emulator, folder: Path, history: Path, **inputs: str) -> ActionRun:
    run = run_action(emu, folder, {"history": str(history), "summary": "false", **inputs})
    assert run.code == 0, run.stdout + run.stderr
    assert_no_leaks(run, emu)
    return run


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file with its inode and modification time: any rewrite changes one of them."""
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_days_are_kept_exactly_as_served_and_the_same_data_rewrites_nothing(emu: Emulator, tmp_path: Path) -> None:
    days = newest_days(3)
    history = tmp_path / "history"
    first = history_run(emu, tmp_path / "one", history, report="users-1-day", day=day_range(days))

    assert json.loads(first.outputs["history-days"]) == [day.isoformat() for day in days]
    assert first.outputs["history-url"] == str(history)
    for day in days:
        served = emu.expected_files("org", "octo", "users-1-day", day)
        for name, data in served:
            raw = history / "raw" / "users-1-day" / f"day={day}" / (name.removesuffix(".ndjson") + ".ndjson.gz")
            assert gzip.decompress(raw.read_bytes()) == data
            digest = (raw.parent / (raw.name + ".sha256")).read_text(encoding="ascii").split()[0]
            assert digest == hashlib.sha256(data).hexdigest()
        for table in ("user_daily", "breakdown_daily"):
            assert (history / "tables" / table / f"day={day}" / "users-1-day.parquet").is_file()
    before = snapshot(history)

    again = history_run(emu, tmp_path / "two", history, report="users-1-day", day=day_range(days))

    assert json.loads(again.outputs["history-days"]) == []
    assert snapshot(history) == before


def test_a_revised_day_replaces_the_old_one_and_the_run_says_so(emu: Emulator, tmp_path: Path) -> None:
    days = newest_days(2)
    history = tmp_path / "history"
    history_run(emu, tmp_path / "one", history, report="users-1-day", day=day_range(days))
    served = emu.expected_files("org", "octo", "users-1-day", days[0])
    revised = b"".join(data for _, data in served).replace(b'"used_chat":false', b'"used_chat":true')
    emu.set_shards("org", "octo", "users-1-day", days[0], [revised])

    run = history_run(emu, tmp_path / "two", history, report="users-1-day", day=day_range(days))

    assert json.loads(run.outputs["history-days"]) == [days[0].isoformat()]
    assert f"GitHub revised the users-1-day report of {days[0]}" in run.stdout
    partition = history / "raw" / "users-1-day" / f"day={days[0]}"
    kept = sorted(path.name for path in partition.iterdir())
    assert kept == [f"users-1-day_{days[0]}_part-1.ndjson.gz", f"users-1-day_{days[0]}_part-1.ndjson.gz.sha256"]
    assert gzip.decompress((partition / kept[0]).read_bytes()) == revised
    table = pq.read_table(history / "tables" / "user_daily" / f"day={days[0]}" / "users-1-day.parquet")
    assert table.num_rows == revised.count(b"\n")
    assert all(table.column("used_chat").to_pylist())


def test_tables_read_by_pyarrow_agree_with_the_raw_ndjson(emu: Emulator, tmp_path: Path) -> None:
    days = newest_days(2)
    history = tmp_path / "history"
    for report in ("organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"):
        history_run(emu, tmp_path / report, history, report=report, day=day_range(days))
    for day in days:
        users = [
            json.loads(line)
            for _, data in emu.expected_files("org", "octo", "users-1-day", day)
            for line in data.splitlines()
        ]
        user_daily = pq.read_table(history / "tables" / "user_daily" / f"day={day}")
        assert user_daily.num_rows == len(users)
        assert sum(user_daily.column("code_generation_activity_count").to_pylist()) == sum(
            user["code_generation_activity_count"] for user in users
        )
        assert sum(user_daily.column("ai_credits_used").to_pylist()) == pytest.approx(
            sum(user["ai_credits_used"] for user in users)
        )
        breakdowns = pq.read_table(history / "tables" / "breakdown_daily" / f"day={day}" / "users-1-day.parquet")
        by_ide = [entry for user in users for entry in user["totals_by_ide"]]
        ide_rows = [row for row in breakdowns.to_pylist() if row["breakdown"] == "totals_by_ide"]
        assert len(ide_rows) == len(by_ide)
        assert sum(row["loc_added_sum"] for row in ide_rows) == sum(entry["loc_added_sum"] for entry in by_ide)

        (aggregate,) = [
            json.loads(line)
            for _, data in emu.expected_files("org", "octo", "organization-1-day", day)
            for line in data.splitlines()
        ]
        (daily,) = pq.read_table(history / "tables" / "daily" / f"day={day}").to_pylist()
        assert daily["day"] == day
        assert daily["daily_active_users"] == aggregate["daily_active_users"]
        assert daily["pull_requests"]["total_created"] == aggregate["pull_requests"]["total_created"]

        teams = [
            line for _, data in emu.expected_files("org", "octo", "user-teams-1-day", day) for line in data.splitlines()
        ]
        assert pq.read_table(history / "tables" / "user_team_daily" / f"day={day}").num_rows == len(teams)
        repos = [
            line for _, data in emu.expected_files("org", "octo", "repos-1-day", day) for line in data.splitlines()
        ]
        assert pq.read_table(history / "tables" / "repo_daily" / f"day={day}").num_rows == len(repos)


SERVED_ON = dt.date(2026, 9, 1)
SHARDS_OF: dict[str, Callable[[], list[bytes]]] = {
    "organization-1-day": lambda: report_data.aggregate_1_day("rows", "organization_id", 4242, SERVED_ON),
    "users-1-day": lambda: report_data.users("rows", "organization_id", 4242, [SERVED_ON], 3),
    "repos-1-day": lambda: report_data.repos("rows", "enterprise_id", 77, "octo", SERVED_ON, 2),
}
ARRAYS_FILLED = {"organization-1-day": 8, "users-1-day": 11, "repos-1-day": 1}


def comparable(value: Any) -> Any:
    """A value as both sides can hold it: numbers as floats, dates as text, structs without NULLs."""
    if isinstance(value, dict):
        return tuple(sorted((name, comparable(child)) for name, child in value.items() if child is not None))
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    return value.isoformat()


def known(value: Any, kind: pa.DataType) -> Any:
    """Only the fields the table's type knows (the schema leaves unknown fields out)."""
    if isinstance(value, dict) and pa.types.is_struct(kind):
        return {field.name: known(value.get(field.name), field.type) for field in kind}
    return value


@pytest.mark.parametrize("report", sorted(SHARDS_OF))
def test_breakdown_daily_holds_every_array_entry_of_the_raw_ndjson_once(report: str, tmp_path: Path) -> None:
    files = []
    for number, shard in enumerate(SHARDS_OF[report]()):
        files.append(tmp_path / f"{number}.ndjson")
        files[-1].write_bytes(shard)
    table = pq.read_table(tables.build(report, files, tmp_path / "tables")["breakdown_daily"])
    assert table.column_names == list(tables.breakdown_columns())
    types = {field.name: field.type for field in table.schema}
    kind = schema.report_named(report).kind
    expected: Counter[Any] = Counter()
    for line in (line for path in files for line in path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        ids = {name: row.get(name) for name in schema.IDENTITY[kind] if name in types}
        for field in (field for field in schema.fields_of(kind) if field.type == "array"):
            entries: Any = row
            for part in field.path.split("."):
                entries = (entries or {}).get(part)
            for entry in entries or []:
                fields = {name: known(value, types[name]) for name, value in entry.items() if name in types}
                expected[comparable(ids | {"breakdown": field.path} | fields)] += 1
    # The served rows fill several arrays, nested ones too (pull_requests.copilot_suggestions_by_comment_type).
    assert len({dict(row)["breakdown"] for row in expected}) == ARRAYS_FILLED[report]
    assert Counter(comparable(row) for row in table.to_pylist()) == expected


def test_a_28_day_report_is_kept_raw_under_its_end_day(emu: Emulator, tmp_path: Path) -> None:
    history = tmp_path / "history"
    run = history_run(emu, tmp_path / "one", history)

    end = emu.window()[1]
    assert json.loads(run.outputs["history-days"]) == [end.isoformat()]
    partition = history / "raw" / "organization-28-day" / f"end_day={end}"
    assert len(list(partition.glob("*.ndjson.gz"))) == len(emu.expected_files("org", "octo", "organization-28-day"))
    assert not (history / "tables").exists()


@pytest.mark.slow
def test_day_missing_fills_a_year_then_asks_for_three_days_within_five_seconds(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.reports, "HISTORY_DAYS", 400)
    start = max(dt.date(2025, 12, 12), dt.datetime.now(dt.UTC).date() - dt.timedelta(days=365))
    # GitHub has no report for a few old days (Copilot off that week, say) and, for now, for the
    # newest one: the old ones are noted once and never asked for again; the newest is asked again.
    without = {start + dt.timedelta(days=n) for n in (0, 1, 40)} | set(newest_days(1))
    emu.no_report_days = without
    history = tmp_path / "history"
    first = history_run(emu, tmp_path / "one", history, report="organization-1-day", day="missing", upload="false")
    kept = json.loads(first.outputs["history-days"])
    assert kept[0] == (start + dt.timedelta(days=2)).isoformat()
    assert kept[-1] == newest_days(2)[0].isoformat()
    assert len(kept) == (newest_days(1)[0] - start).days + 1 - len(without)
    noted = sorted(path.parent.name for path in (history / "raw" / "organization-1-day").glob("*/_no_report"))
    assert noted == [f"day={day}" for day in sorted(without - set(newest_days(1)))]
    asked_before = len([r for r in emu.requests if r.host == "api"])

    began = time.monotonic()
    second = history_run(emu, tmp_path / "two", history, report="organization-1-day", day="missing", upload="false")
    took = time.monotonic() - began

    asked = [r for r in emu.requests if r.host == "api"][asked_before:]
    assert sorted(dict(parse_qsl(r.query))["day"] for r in asked) == sorted(
        (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=n)).isoformat() for n in (1, 2, 3)
    )
    assert json.loads(second.outputs["history-days"]) == []
    assert took < 5.0, f"day: missing with nothing missing took {took:.1f} s"
    assert "(3 more noted as having no report)" in second.stdout

    # A noted day GitHub serves after all is kept, and its note goes.
    emu.no_report_days = set()
    day = start + dt.timedelta(days=40)
    third = history_run(emu, tmp_path / "three", history, report="organization-1-day", day=day.isoformat())
    assert json.loads(third.outputs["history-days"]) == [day.isoformat()]
    names = sorted(path.name for path in (history / "raw" / "organization-1-day" / f"day={day}").iterdir())
    assert names == [f"organization-1-day_{day}_part-1.ndjson.gz", f"organization-1-day_{day}_part-1.ndjson.gz.sha256"]


def test_a_noted_day_without_a_report_passes_verify_and_rebuild_and_is_never_noted_over_data(tmp_path: Path) -> None:
    history = tmp_path / "history"
    store = open_store(str(history), {}, tmp_path)
    served = tmp_path / "served" / "2026-03-04" / "organization-1-day_2026-03-04.ndjson"
    served.parent.mkdir(parents=True)
    served.write_bytes(b"".join(aggregate_1_day("seed", "organization_id", 7, dt.date(2026, 3, 4))))
    keeping.keep(store, keeping.day_files("organization-1-day", [served], None, daily=True), tmp_path, print)
    days = [dt.date(2026, 3, 3), dt.date(2026, 3, 4), dt.date(2026, 3, 9)]

    noted = keeping.note_without_report(store, "organization-1-day", days, dt.date(2026, 3, 8), tmp_path)

    # 03-04 holds data and 03-09 may still be revised: only 03-03 is noted.
    assert noted == ["2026-03-03"]
    assert keeping.days_without_report(store, "organization-1-day") == {dt.date(2026, 3, 3)}
    assert keeping.days_kept(store, "organization-1-day") == {dt.date(2026, 3, 4)}
    assert checks.verify(store, print) == []
    assert checks.rebuild(store, print) == 1


def test_a_history_failure_fails_the_step_after_the_artifact_is_safe(emu: Emulator, tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    (history / "raw").write_text("not a folder")
    run = run_action(emu, tmp_path / "step", {"history": str(history), "report": "users-1-day", "day": "latest"})

    assert run.code == 1
    assert len(run.errors) == 1, run.stdout
    assert "history folder" in run.errors[0] and "Traceback" not in run.stderr
    assert [artifact for artifact in emu.artifacts.values() if artifact.finalized]
    assert run.outputs["history-days"] == "[]"
    assert (history / "raw").read_text() == "not a folder"
    assert_no_leaks(run, emu)


@pytest.mark.parametrize(
    ("inputs", "env", "phrase"),
    [
        ({"report": "users-1-day", "day": "missing"}, {}, "Input 'day' is 'missing', which needs 'history'"),
        ({"history": "s3://Bad_Bucket/x"}, {}, "bucket name 'Bad_Bucket' is not valid"),
        ({"history": "ftp://host/x"}, {}, "scheme 'ftp' is not supported"),
        ({"history": "s3://bucket/x"}, {"AWS_ACCESS_KEY_ID": ""}, "AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY"),
        ({"history": "az://container/x"}, {}, "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_NAME"),
        ({"history": "gs://bucket/x"}, {}, "GOOGLE_APPLICATION_CREDENTIALS"),
        (
            {"history": "s3://bucket/x"},
            {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL": "http://example.com"},
            "only loopback test servers may use http",
        ),
    ],
)
def test_a_bad_history_setting_fails_before_any_request(
    emu: Emulator, tmp_path: Path, inputs: dict[str, str], env: dict[str, str], phrase: str
) -> None:
    run = run_action(emu, tmp_path / "step", inputs, env=env)

    assert run.code == 1, run.stdout
    assert len(run.errors) == 1, run.stdout
    assert phrase in run.errors[0]
    assert "Traceback" not in run.stderr
    assert [r for r in emu.requests if r.host == "api"] == []


def test_a_history_folder_that_is_a_file_is_refused(emu: Emulator, tmp_path: Path) -> None:
    step = tmp_path / "step"
    blocker = tmp_path / "history-file"
    blocker.write_text("kept")
    run = run_action(emu, step, {"history": str(blocker)})

    assert run.code == 1
    assert run.errors == [
        f"::error::Input 'history' is {str(blocker)!r}, but {blocker} is a file, not a folder: "
        "name a folder for the history."
    ]
    assert blocker.read_text() == "kept"


def test_an_empty_report_never_replaces_a_day_that_has_data(emu: Emulator, tmp_path: Path) -> None:
    day = newest_days(1)[0]
    history = tmp_path / "history"
    history_run(emu, tmp_path / "one", history, report="users-1-day", day=str(day))
    before = {path: path.read_bytes() for path in history.rglob("*") if path.is_file()}
    emu.set_shards("org", "octo", "users-1-day", day, [b""])

    run = run_action(emu, tmp_path / "two", {"history": str(history), "report": "users-1-day", "day": str(day)})

    assert run.code == 1
    assert len(run.errors) == 1 and "keeping the history's copy" in run.errors[0]
    assert {path: path.read_bytes() for path in history.rglob("*") if path.is_file()} == before
    assert [artifact for artifact in emu.artifacts.values() if artifact.finalized]
