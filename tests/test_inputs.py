"""Every input has a rule: bad values end the run with one error naming the input, before any
request is sent; good values in all their allowed spellings are accepted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from action_run import run_action
from copilot_metrics.errors import InputError
from copilot_metrics.settings import DayRange, Settings, parse_settings
from emulator import Emulator
from reliability import Record, rejected

TODAY = dt.datetime.now(dt.UTC).date()
RECENT = TODAY - dt.timedelta(days=5)

BAD_LOGINS = [
    "../x",
    "..",
    "octo/evil",
    "oc to",
    "octo%2F",
    "%2e%2e",
    "ōcto",
    "\uff4f\uff43\uff54\uff4f",  # fullwidth letters
    "-octo",
    "octo-",
    "oc--to",
    "oc_to",
]
BAD_INPUTS: list[tuple[str, str, dict[str, str]]] = [
    *[("org", value, {}) for value in [*BAD_LOGINS, "o" * 40, "octo\nevil"]],
    *[("enterprise", value, {}) for value in [*BAD_LOGINS, "e" * 61]],
    ("report", "organization-7-day", {}),
    ("report", "enterprise-28-day", {}),
    ("report", "Organization-28-day", {}),
    ("report", "users-28-day/latest", {}),
    ("report", "../../users-1-day", {}),
    ("report", "organization-1-day", {"enterprise": "octo-ent"}),
    ("day", "2026-02-30", {"report": "organization-1-day"}),
    ("day", "2026-13-01", {"report": "organization-1-day"}),
    ("day", "26-01-01", {"report": "users-1-day"}),
    ("day", "2026/01/01", {"report": "users-1-day"}),
    ("day", "yesterday", {"report": "users-1-day"}),
    ("day", "LATEST", {"report": "users-1-day"}),
    ("day", f"{RECENT}..{RECENT - dt.timedelta(days=1)}", {"report": "repos-1-day"}),
    ("day", (TODAY + dt.timedelta(days=1)).isoformat(), {"report": "repos-1-day"}),
    ("day", f"{RECENT - dt.timedelta(days=366)}..{RECENT}", {"report": "repos-1-day"}),
    ("day", f"{RECENT}..", {"report": "user-teams-1-day"}),
    ("day", f"..{RECENT}", {"report": "user-teams-1-day"}),
    ("day", f"{RECENT}..{RECENT}..{RECENT}", {"report": "user-teams-1-day"}),
    ("day", RECENT.isoformat(), {}),
    ("day", "", {"report": "organization-1-day"}),
    *[("retention-days", value, {}) for value in ["-1", "1.5", "401", "ten", "1e2", "0x10", ""]],
    *[("compression-level", value, {}) for value in ["-1", "10", "high", "5.0"]],
    *[
        (name, value, {})
        for name in ("overwrite", "upload", "summary", "csv", "dashboard")
        for value in ("yes", "1", "tRue")
    ],
    *[("if-no-report", value, {}) for value in ("fail", "WARN", "")],
    *[("artifact-name", f"report{char}x", {}) for char in '":<>|*?\\/\r\n'],
    *[("path", value, {}) for value in ("..", "../elsewhere", "sub/../../x", "/etc", "")],
    *[
        ("api-url", value, {})
        for value in (
            "http://api.github.com",
            "http://10.0.0.1",
            "http://localhost.example.com",
            "ftp://api.github.com",
            "api.github.com",
            "https://user:secret@api.github.com",
            "https://api.github.com?per_page=1",
            "https://api.github.com#top",
            "https://exa mple.com",
            "https://[::1",
            "https://api.github.com:99999",
            "https://api.gïthub.com",
        )
    ],
    *[("token", value, {}) for value in ("ghp_two words", "ghp_é0000000000000000", "ghp_tab\there")],
]


def _id(case: tuple[str, str, dict[str, str]]) -> str:
    name, value, _ = case
    return f"{name}={value!r}"


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[_id(case) for case in BAD_INPUTS])
def test_bad_input_is_rejected_before_any_request(
    emu: Emulator, tmp_path: Path, record_property: Record, case: tuple[str, str, dict[str, str]]
) -> None:
    name, value, others = case

    run = run_action(emu, tmp_path / "step", {**others, name: value})

    rejected(run, emu, record_property, name)


def test_a_password_in_api_url_is_not_repeated(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    run = run_action(emu, tmp_path / "step", {"api-url": "https://me:hunter2-secret@api.github.com"})

    rejected(run, emu, record_property, "api-url", "credentials")
    assert "hunter2-secret" not in run.everything_written()


def test_empty_token_says_which_token_works(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    run = run_action(emu, tmp_path / "step", {"token": ""})

    rejected(run, emu, record_property, "token", "GITHUB_TOKEN")


def test_no_org_and_no_repository_owner(emu: Emulator, tmp_path: Path, record_property: Record) -> None:
    run = run_action(emu, tmp_path / "step", {"org": ""}, env={"GITHUB_REPOSITORY_OWNER": ""})

    rejected(run, emu, record_property, "org", "enterprise")


def prepared_workspace(tmp_path: Path) -> Path:
    """A workspace holding a symlink to a folder outside it and a plain file."""
    workspace = tmp_path / "prepared"
    outside = tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / "escape").symlink_to(outside, target_is_directory=True)
    (workspace / "notes.txt").write_text("not a folder", encoding="utf-8")
    return workspace


@pytest.mark.parametrize("value", ["escape", "escape/reports", "notes.txt", "notes.txt/reports", "{outside}"])
def test_path_escaping_the_workspace_or_blocked_by_a_file(
    emu: Emulator, tmp_path: Path, record_property: Record, value: str
) -> None:
    workspace = prepared_workspace(tmp_path)
    path = value.format(outside=tmp_path / "outside")

    run = run_action(emu, tmp_path / "step", {"path": path}, env={"GITHUB_WORKSPACE": str(workspace)})

    rejected(run, emu, record_property, "path")
    assert list((tmp_path / "outside").iterdir()) == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ACTIONS_RUNTIME_TOKEN", "not-a-jwt"),
        ("ACTIONS_RUNTIME_TOKEN", "a.eyJzY3AiOiAiQWN0aW9ucy5SZXN1bHRzOjEifQ.c"),
        ("ACTIONS_RESULTS_URL", "results.example"),
        ("ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY", "0"),
        ("ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY", "many"),
    ],
)
def test_unusable_runner_environment_is_rejected(
    emu: Emulator, tmp_path: Path, record_property: Record, variable: str, value: str
) -> None:
    run = run_action(emu, tmp_path / "step", env={variable: value})

    rejected(run, emu, record_property, variable)


# Accepted values, checked in-process ---------------------------------------------------------

BASE = {"org": "octo", "token": "ghp_x"}


def settings_of(inputs: dict[str, str], workspace: Path, **env: str) -> Settings:
    return parse_settings({**BASE, **inputs}, {"GITHUB_WORKSPACE": str(workspace), **env}, today=TODAY)


@pytest.mark.parametrize(
    ("value", "meaning"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False)],
)
@pytest.mark.parametrize("name", ["overwrite", "summary", "csv", "dashboard"])
def test_yaml_core_booleans_are_accepted(tmp_path: Path, name: str, value: str, meaning: bool) -> None:
    settings = settings_of({name: value, "upload": "false"}, tmp_path)

    assert getattr(settings, name) is meaning


@pytest.mark.parametrize(
    "url",
    [
        "https://api.github.com",
        "https://api.octo.ghe.com/",
        "http://127.0.0.1:8080",
        "http://localhost:9",
        "http://[::1]:8080",
    ],
)
def test_api_urls_that_are_allowed(tmp_path: Path, url: str) -> None:
    assert settings_of({"api-url": url, "upload": "false"}, tmp_path).api_url == url.rstrip("/")


def test_paths_inside_the_workspace_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "inside").symlink_to(tmp_path / "real", target_is_directory=True)

    for value, target in [
        ("copilot-metrics", tmp_path / "copilot-metrics"),
        ("a/b/../c", tmp_path / "a" / "c"),
        (str(tmp_path / "abs"), tmp_path / "abs"),
        ("inside/reports", tmp_path / "real" / "reports"),
    ]:
        assert settings_of({"path": value, "upload": "false"}, tmp_path).path == target.resolve()


def test_a_nul_in_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'path'"):
        settings_of({"path": "a\0b", "upload": "false"}, tmp_path)


def test_day_forms_that_are_accepted(tmp_path: Path) -> None:
    first = TODAY - dt.timedelta(days=365)

    def days(value: str) -> object:
        return settings_of({"report": "users-1-day", "day": value, "upload": "false"}, tmp_path).days

    assert days("latest") == "latest"
    assert days(TODAY.isoformat()) == DayRange(TODAY, TODAY)
    assert days(f"{first}..{TODAY}") == DayRange(first, TODAY)


def test_retention_over_the_repository_limit_is_capped_with_a_warning(tmp_path: Path) -> None:
    settings = settings_of({"retention-days": "60", "upload": "false"}, tmp_path, GITHUB_RETENTION_DAYS="30")

    assert settings.retention_days == 30
    assert any("'retention-days'" in warning for warning in settings.warnings)


def test_retention_of_400_days_is_kept_where_the_repository_allows_it(tmp_path: Path) -> None:
    kept = settings_of({"retention-days": "400", "upload": "false"}, tmp_path, GITHUB_RETENTION_DAYS="400")
    unknown_limit = settings_of({"retention-days": "400", "upload": "false"}, tmp_path)

    assert (kept.retention_days, kept.warnings) == (400, ())
    assert (unknown_limit.retention_days, unknown_limit.warnings) == (400, ())


def test_retention_of_400_days_in_a_public_repository_is_capped_at_90(tmp_path: Path) -> None:
    settings = settings_of({"retention-days": "400", "upload": "false"}, tmp_path, GITHUB_RETENTION_DAYS="90")

    assert settings.retention_days == 90
    assert settings.warnings == (
        "Input 'retention-days' is 400, more than this repository allows (90): the artifact is kept 90 days.",
    )


def test_retention_of_0_keeps_the_repository_default_whatever_the_limit(tmp_path: Path) -> None:
    settings = settings_of({"retention-days": "0", "upload": "false"}, tmp_path, GITHUB_RETENTION_DAYS="90")

    assert (settings.retention_days, settings.warnings) == (0, ())


def test_days_before_github_keeps_data_warn(tmp_path: Path) -> None:
    settings = settings_of({"report": "users-1-day", "day": "2025-01-01", "upload": "false"}, tmp_path)

    assert any("data starts" in warning for warning in settings.warnings)
