"""Properties of parse_settings over generated inputs: it never fails with anything but
InputError, and every Settings it accepts holds only values the rest of the action may trust."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot_metrics.download import file_name
from copilot_metrics.errors import InputError
from copilot_metrics.settings import DEFAULTS, MAX_RANGE_DAYS, REPORTS, DayRange, Settings, parse_settings

TODAY = dt.date(2026, 6, 15)
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*")
FORBIDDEN_IN_ARTIFACT_NAME = set('":<>|*?\r\n\\/')
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values near the rules' edges, mixed with anything at all.
anything = st.text(max_size=80)
logins = st.one_of(
    st.from_regex(r"[A-Za-z0-9-]{1,45}", fullmatch=True),
    st.sampled_from(["octo", "../x", "octo/evil", "-a", "a-", "a--b", "ōcto", "a" * 39, "a" * 40, "e" * 61]),
    anything,
)
reports = st.one_of(st.sampled_from(sorted({r for names in REPORTS.values() for r in names})), anything)
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31)).map(dt.date.isoformat)
days = st.one_of(
    st.just(""),
    st.just("latest"),
    dates,
    st.tuples(dates, dates).map("..".join),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(\.\.[0-9]{4}-[0-9]{2}-[0-9]{2})?", fullmatch=True),
    anything,
)
numbers = st.one_of(st.integers(-5, 120).map(str), st.sampled_from(["", "1.5", "1e2", "0x10", "٣", "²"]), anything)
booleans = st.one_of(st.sampled_from(["true", "True", "TRUE", "false", "False", "FALSE", "yes", "1", "tRUE"]), anything)
hosts = st.sampled_from(
    ["api.github.com", "127.0.0.1", "localhost", "[::1]", "10.0.0.1", "evil.com", "exa mple", "[::1", "ü.com", ""]
)
api_urls = st.one_of(
    st.tuples(
        st.sampled_from(["https", "http", "ftp", ""]),
        st.sampled_from(["", "user:pw@"]),
        hosts,
        st.sampled_from(["", ":8080", ":99999", ":x"]),
        st.sampled_from(["", "/", "/api/v3", "?q=1", "#f"]),
    ).map(lambda p: f"{p[0]}://{p[1]}{p[2]}{p[3]}{p[4]}"),
    anything,
)
paths = st.one_of(
    st.lists(st.sampled_from(["..", ".", "a", "escape", "file.txt", "", "b c"]), min_size=1, max_size=4).map("/".join),
    st.sampled_from(["/", "/etc", "/tmp"]),
    anything,
)
edge_values = {
    "org": logins,
    "enterprise": st.one_of(st.just(""), logins),
    "token": anything,
    "report": reports,
    "day": days,
    "api-url": api_urls,
    "artifact-name": anything,
    "retention-days": numbers,
    "compression-level": numbers,
    "overwrite": booleans,
    "summary": booleans,
    "csv": booleans,
    "if-no-report": st.one_of(st.sampled_from(["warn", "error", "ignore"]), anything),
    "path": paths,
}


@st.composite
def valid_inputs(draw: st.DrawFn) -> dict[str, str]:
    """Inputs that follow every rule, so that the edge values mixed in below are tried one or two at a time."""
    enterprise = draw(st.sampled_from(["", "", "octo-ent"]))
    report = draw(st.sampled_from(["", *REPORTS["enterprise" if enterprise else "organization"]]))
    day = ""
    if report.endswith("-1-day"):
        first = draw(st.dates(min_value=TODAY - dt.timedelta(days=MAX_RANGE_DAYS - 1), max_value=TODAY))
        last = draw(st.dates(min_value=first, max_value=min(TODAY, first + dt.timedelta(days=MAX_RANGE_DAYS - 1))))
        day = draw(st.sampled_from(["latest", first.isoformat(), f"{first}..{last}"]))
    return {
        "org": draw(st.from_regex(r"[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,2}", fullmatch=True)),
        "enterprise": enterprise,
        "token": "ghp_" + draw(st.from_regex(r"[A-Za-z0-9_]{0,40}", fullmatch=True)),
        "report": report,
        "day": day,
        "api-url": draw(
            st.sampled_from(["", "https://api.github.com", "https://api.x.ghe.com/", "http://127.0.0.1:9"])
        ),
        "artifact-name": draw(st.text(st.characters(blacklist_characters='":<>|*?\r\n\\/'), max_size=30)),
        "retention-days": str(draw(st.integers(0, 400))),
        "compression-level": str(draw(st.integers(0, 9))),
        "overwrite": draw(st.sampled_from(["true", "True", "TRUE", "false", "False", "FALSE"])),
        "upload": "false",
        "summary": draw(st.sampled_from(["true", "FALSE"])),
        "csv": draw(st.sampled_from(["false", "True"])),
        "if-no-report": draw(st.sampled_from(["warn", "error", "ignore"])),
        "path": draw(st.sampled_from(["copilot-metrics", "a/b", "a/../c", "escape/../in"])),
    }


@st.composite
def mixed_inputs(draw: st.DrawFn) -> dict[str, str]:
    given_inputs = draw(valid_inputs())
    for name in draw(st.lists(st.sampled_from(sorted(edge_values)), max_size=2, unique=True)):
        given_inputs[name] = draw(edge_values[name])
    return given_inputs


inputs = mixed_inputs()
environments = st.fixed_dictionaries(
    {},
    optional={
        "GITHUB_REPOSITORY_OWNER": logins,
        "GITHUB_API_URL": api_urls,
        "GITHUB_RETENTION_DAYS": numbers,
    },
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workspace with a symlink leading out of it and a file where a folder could be asked for."""
    root = tmp_path_factory.mktemp("properties")
    (root / "outside").mkdir()
    (root / "workspace").mkdir()
    (root / "workspace" / "escape").symlink_to(root / "outside", target_is_directory=True)
    (root / "workspace" / "file.txt").write_text("a file", encoding="utf-8")
    yield (root / "workspace").resolve()


def parse(given_inputs: dict[str, str], env: dict[str, str], workspace: Path) -> Settings | None:
    try:
        return parse_settings(given_inputs, {**env, "GITHUB_WORKSPACE": str(workspace)}, today=TODAY)
    except InputError as failure:
        assert str(failure).startswith(("Input '", "ACTIONS_")), str(failure)
        return None


@PROPERTY_SETTINGS
@given(given_inputs=inputs, env=environments)
def test_every_accepted_settings_holds_only_valid_values(
    workspace: Path, given_inputs: dict[str, str], env: dict[str, str]
) -> None:
    accepted = parse(given_inputs, env, workspace)
    if accepted is None:
        return
    assert_owner_is_a_login(accepted)
    assert accepted.report.name in REPORTS[accepted.scope] and accepted.scope in accepted.report.scopes
    assert_days_are_sane(accepted)
    assert_api_url_is_safe(accepted.api_url)
    assert accepted.path == workspace or workspace in accepted.path.parents
    assert not accepted.path.exists() or accepted.path.is_dir()
    assert accepted.token.isascii() and accepted.token.isprintable() and not any(c.isspace() for c in accepted.token)
    assert 0 <= accepted.retention_days <= 400 and 0 <= accepted.compression_level <= 9
    assert not FORBIDDEN_IN_ARTIFACT_NAME & set(accepted.artifact_name)
    assert accepted.if_no_report in ("warn", "error", "ignore")


@PROPERTY_SETTINGS
@given(given_inputs=inputs, env=environments)
def test_a_value_is_accepted_only_as_its_rule_allows(
    workspace: Path, given_inputs: dict[str, str], env: dict[str, str]
) -> None:
    accepted = parse(given_inputs, env, workspace)
    if accepted is None:
        return
    for name in ("overwrite", "summary", "csv"):
        raw = given_inputs.get(name, DEFAULTS[name]).strip()
        assert raw in ("true", "True", "TRUE", "false", "False", "FALSE")
        assert getattr(accepted, name) is (raw.lower() == "true")
    for name in ("retention-days", "compression-level"):
        assert re.fullmatch(r"[0-9]+", given_inputs.get(name, DEFAULTS[name]).strip())


def assert_owner_is_a_login(accepted: Settings) -> None:
    limit = 60 if accepted.scope == "enterprise" else 39
    assert LOGIN.fullmatch(accepted.owner) and len(accepted.owner) <= limit, accepted.owner


def assert_days_are_sane(accepted: Settings) -> None:
    if not accepted.report.daily:
        assert accepted.days is None
        return
    assert accepted.days == "latest" or isinstance(accepted.days, DayRange)
    if isinstance(accepted.days, DayRange):
        assert accepted.days.first <= accepted.days.last <= TODAY
        assert (accepted.days.last - accepted.days.first).days < MAX_RANGE_DAYS


def assert_api_url_is_safe(url: str) -> None:
    parts = urlsplit(url)
    assert url.isascii() and url.isprintable() and " " not in url
    assert parts.hostname and not parts.username and not parts.password and not parts.query and not parts.fragment
    if parts.scheme == "http":
        assert parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
    else:
        assert parts.scheme == "https"


@settings(max_examples=500, deadline=None)
@given(link=st.one_of(st.text(max_size=120), st.text(max_size=60).map(lambda t: f"https://h/{t}?sig=1")))
def test_file_names_from_links_never_leave_their_folder(link: str) -> None:
    try:
        name = file_name(link, 0)
    except ValueError:
        # urlsplit refuses some strings; reports.py refuses those links before any file is named.
        return
    assert name and name not in (".", "..") and not name.startswith(".")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name), name
