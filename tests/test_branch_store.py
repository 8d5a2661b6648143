"""The history branch store against a real git server (git http-backend on loopback).

The store is driven as the history layer drives it: files written at layout keys, one `finish`
per run. What the branch holds is checked with the real git on the server's repository and on a
fresh clone.
"""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_metrics.errors import HistoryError
from copilot_metrics.history.branch import BranchStore, open_branch_store
from copilot_metrics.transport import RetryPolicy
from gitserver import OWNER_REPO, GitServer, token_header_env, walk_files

BRANCH = "copilot-metrics-data"
FAST = RetryPolicy(attempts=5, first_delay=0.01, max_delay=0.05)
DAY_A, DAY_B, DAY_C = "2026-03-01", "2026-03-02", "2026-03-03"


class Run:
    """One run of the action as the store sees it: its log, its masks, its files."""

    def __init__(self, server: GitServer, work: Path, token: str | None = None, **env: str) -> None:
        self.lines: list[str] = []
        self.warnings: list[str] = []
        self.secrets: list[str] = []
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.store: BranchStore = open_branch_store(
            BRANCH,
            {**server.env(), **env},
            server.write_token if token is None else token,
            self.lines.append,
            self.secrets.append,
            warn=self.warnings.append,
            retry=FAST,
        )

    def write_day(self, report: str, day: str, served: bytes) -> None:
        """A day of `report` at its layout keys: the gzip'd file, its checksum, a table."""
        source = self.work / f"{report}-{day}.ndjson.gz"
        source.write_bytes(gzip.compress(served, mtime=0))
        self.store.write(f"raw/{report}/day={day}/part-1.ndjson.gz", source)
        checksum = self.work / f"{report}-{day}.sha256"
        checksum.write_text(f"{len(served)} bytes of {day}\n")
        self.store.write(f"raw/{report}/day={day}/part-1.ndjson.gz.sha256", checksum)
        table = self.work / f"{report}-{day}.parquet"
        table.write_bytes(b"PAR1" + served[::-1] + b"PAR1")
        self.store.write(f"tables/user_daily/day={day}/{report}.parquet", table)


def served(day: str, revision: int = 0) -> bytes:
    return b"".join(f'{{"day":"{day}","user_id":{user},"revision":{revision}}}\n'.encode() for user in range(1, 40))


def one_run(server: GitServer, work: Path, *days: str, revision: int = 0) -> bool:
    run = Run(server, work)
    for day in days:
        run.write_day("users-1-day", day, served(day, revision))
    return run.store.finish(f"users-1-day: {', '.join(days)}")


def commits(server: GitServer) -> list[tuple[str, str, str]]:
    """(commit, parents, subject) of the branch, newest first."""
    log = server.git("log", "--format=%H|%P|%s", BRANCH)
    return [(commit, parents, subject) for commit, parents, subject in (line.split("|") for line in log.splitlines())]


def files(server: GitServer) -> list[str]:
    return server.git("ls-tree", "-r", "--name-only", BRANCH).splitlines()


def days(server: GitServer) -> set[str]:
    return {path.split("day=")[1].split("/")[0] for path in files(server) if "day=" in path}


def assert_no_force_push(server: GitServer) -> None:
    for old, new, _ref in server.updates():
        if set(old) != {"0"}:
            server.git("merge-base", "--is-ancestor", old, new)


def clone(server: GitServer, target: Path) -> Path:
    env = {
        **os.environ,
        **token_header_env(server.read_token),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
    subprocess.run(
        ["git", "clone", "--quiet", "--branch", BRANCH, "--single-branch", f"{server.url}/{OWNER_REPO}.git", target],
        env=env,
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    with GitServer(tmp_path / "server") as git_server:
        yield git_server


# --- runs over days ----------------------------------------------------------------------------------


def test_three_runs_keep_two_days_in_two_commits_and_the_third_commits_nothing(
    server: GitServer, tmp_path: Path
) -> None:
    assert one_run(server, tmp_path / "run1", DAY_A) is True
    assert one_run(server, tmp_path / "run2", DAY_B) is True
    pushes_before = sum(request.service == "git-receive-pack" for request in server.requests)
    assert one_run(server, tmp_path / "run3", DAY_A) is False

    assert sum(request.service == "git-receive-pack" for request in server.requests) == pushes_before
    history = commits(server)
    assert [subject for _, _, subject in history] == [f"users-1-day: {DAY_B}", f"users-1-day: {DAY_A}"]
    assert history[-1][1] == "", "the first run's commit creates the branch as an orphan"
    assert history[0][1] == history[1][0]
    assert days(server) == {DAY_A, DAY_B}
    assert server.git("log", "-1", "--format=%an <%ae>", BRANCH) == (
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    )
    assert_no_force_push(server)

    checkout = clone(server, tmp_path / "clone")
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=checkout, capture_output=True, text=True, check=False)
    assert fsck.returncode == 0 and not fsck.stdout, fsck.stdout + fsck.stderr
    assert sorted(path.name for path in checkout.iterdir() if path.name != ".git") == ["README.md", "raw", "tables"]
    for day in (DAY_A, DAY_B):
        raw = checkout / f"raw/users-1-day/day={day}/part-1.ndjson.gz"
        assert gzip.decompress(raw.read_bytes()) == served(day)
    assert f"--branch {BRANCH}" in (checkout / "README.md").read_text()


def test_the_branch_holds_no_file_of_the_code_branches(server: GitServer, tmp_path: Path) -> None:
    code = server.git("hash-object", "-w", "--stdin", stdin=b"print('code')\n")
    tree = server.git("mktree", stdin=f"100644 blob {code}\tapp.py\n".encode())
    main = server.git("commit-tree", tree, "-m", "code", stdin=b"")
    server.git("update-ref", "refs/heads/main", main)

    one_run(server, tmp_path / "run", DAY_A)

    assert "app.py" not in files(server)
    assert commits(server)[-1][1] == ""


def test_a_revised_day_replaces_its_files_in_one_more_commit(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run1", DAY_A, DAY_B)
    assert one_run(server, tmp_path / "run2", DAY_B, revision=1) is True

    assert len(commits(server)) == 2
    run = Run(server, tmp_path / "reader")
    assert gzip.decompress(run.store.read(f"raw/users-1-day/day={DAY_B}/part-1.ndjson.gz")) == served(DAY_B, 1)
    assert gzip.decompress(run.store.read(f"raw/users-1-day/day={DAY_A}/part-1.ndjson.gz")) == served(DAY_A)
    assert run.store.finish("nothing") is False


def test_a_revised_day_with_fewer_files_sheds_the_others(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run1", DAY_A)
    shards = [f"raw/users-1-day/day={DAY_A}/part-{n}.ndjson.gz" for n in (1, 2)]
    run = Run(server, tmp_path / "run2")
    run.store.write(shards[1], tmp_path / "run2" / "../run1" / f"users-1-day-{DAY_A}.ndjson.gz")
    assert run.store.finish("a second shard") is True

    revised = Run(server, tmp_path / "run3")
    revised.write_day("users-1-day", DAY_A, served(DAY_A, revision=1))
    revised.store.remove(shards[1])
    assert revised.store.list(f"raw/users-1-day/day={DAY_A}/") == [shards[0], f"{shards[0]}.sha256"]
    with pytest.raises(FileNotFoundError):
        revised.store.read(shards[1])
    assert revised.store.finish(f"users-1-day: {DAY_A} revised") is True

    assert shards[1] not in files(server) and shards[0] in files(server)
    assert len(commits(server)) == 3


def test_list_read_and_download_see_the_tip_and_this_runs_writes(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run1", DAY_A)
    run = Run(server, tmp_path / "run2")
    run.write_day("users-1-day", DAY_B, served(DAY_B))

    raw = run.store.list("raw/users-1-day/")
    assert raw == sorted(raw) and len(raw) == 4
    assert run.store.list("tables/") == [
        f"tables/user_daily/day={DAY_A}/users-1-day.parquet",
        f"tables/user_daily/day={DAY_B}/users-1-day.parquet",
    ]
    assert run.store.list("raw/repos-1-day/") == []
    target = tmp_path / "downloaded.ndjson.gz"
    run.store.download(f"raw/users-1-day/day={DAY_A}/part-1.ndjson.gz", target)
    assert gzip.decompress(target.read_bytes()) == served(DAY_A)
    checksum = run.store.read(f"raw/users-1-day/day={DAY_B}/part-1.ndjson.gz.sha256")
    assert checksum == f"{len(served(DAY_B))} bytes of {DAY_B}\n".encode()
    with pytest.raises(FileNotFoundError):
        run.store.read("raw/users-1-day/day=2020-01-01/part-1.ndjson.gz")
    with pytest.raises(HistoryError, match="not a file path"):
        run.store.write("../outside", target)
    assert run.store.url == f"{server.url}/{OWNER_REPO}/tree/{BRANCH}"
    run.store.finish(f"users-1-day: {DAY_B}")
    assert days(server) == {DAY_A, DAY_B}


def test_a_run_fetches_the_tip_without_old_file_contents(server: GitServer, tmp_path: Path) -> None:
    big = os.urandom(2 * 1024 * 1024)
    first = Run(server, tmp_path / "run1")
    (tmp_path / "big").write_bytes(big)
    first.store.write(f"raw/users-1-day/day={DAY_A}/part-1.ndjson.gz", tmp_path / "big")
    first.store.finish("big day")
    one_run(server, tmp_path / "run2", DAY_B)
    served_before = len(server.requests)

    run = Run(server, tmp_path / "run3")
    fetched = sum(request.bytes_out for request in server.requests[served_before:])
    assert fetched < 20_000, "the fetch carried file contents"
    assert (run.store.local / "shallow").is_file()
    assert run.store.read(f"raw/users-1-day/day={DAY_A}/part-1.ndjson.gz") == big
    assert sum(request.bytes_out for request in server.requests[served_before:]) > len(big) // 2
    run.write_day("users-1-day", DAY_C, served(DAY_C))
    lazily_before = len(server.requests)
    assert run.store.finish(f"users-1-day: {DAY_C}") is True
    pushed = [request for request in server.requests[lazily_before:] if request.method == "POST"]
    assert [request.service for request in pushed] == ["git-receive-pack"], "the push fetched old blobs"
    assert pushed[0].bytes_in < 20_000
    assert days(server) == {DAY_A, DAY_B, DAY_C}


def test_the_server_takes_gzip_requests_as_git_sends_them(server: GitServer, tmp_path: Path) -> None:
    run = Run(server, tmp_path / "run0")
    for day in range(1, 29):
        run.write_day("users-1-day", f"2026-02-{day:02d}", served(str(day)))
    run.store.finish("February")
    checkout = tmp_path / "partial"
    env = {**os.environ, **token_header_env(server.read_token), "GIT_CONFIG_NOSYSTEM": "1"}
    url = f"{server.url}/{OWNER_REPO}.git"
    subprocess.run(
        ["git", "clone", "--quiet", "--bare", "--filter=blob:none", "--branch", BRANCH, url, checkout],
        env=env,
        check=True,
        capture_output=True,
    )
    blobs = server.git("ls-tree", "-r", "--format=%(objectname)", BRANCH).split()
    # git gzips a fetch request over 1 kB: here one "want" line per blob.
    subprocess.run(["git", "-C", checkout, "fetch", "--quiet", "origin", *blobs], env=env, check=True)

    assert any(request.encoding == "gzip" for request in server.requests)
    for blob in blobs:
        subprocess.run(["git", "-C", checkout, "cat-file", "-e", blob], env=env, check=True)


# --- concurrency -------------------------------------------------------------------------------------


def test_two_runs_at_once_over_different_days_both_land(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    first, second = Run(server, tmp_path / "run1"), Run(server, tmp_path / "run2")
    first.write_day("users-1-day", DAY_B, served(DAY_B))
    second.write_day("users-1-day", DAY_C, served(DAY_C))

    assert first.store.finish(f"users-1-day: {DAY_B}") is True
    assert second.store.finish(f"users-1-day: {DAY_C}") is True

    assert days(server) == {DAY_A, DAY_B, DAY_C}
    assert [subject for _, _, subject in commits(server)] == [
        f"users-1-day: {DAY_C}",
        f"users-1-day: {DAY_B}",
        f"users-1-day: {DAY_A}",
    ]
    assert any("fetching the branch again" in line for line in second.lines)
    assert_no_force_push(server)


def test_two_runs_creating_the_branch_at_once_both_land(server: GitServer, tmp_path: Path) -> None:
    runs = [Run(server, tmp_path / f"run{n}") for n in range(2)]
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def finish(run: Run, day: str) -> None:
        run.write_day("users-1-day", day, served(day))
        barrier.wait()
        results.append(run.store.finish(f"users-1-day: {day}"))

    threads = [threading.Thread(target=finish, args=(run, day)) for run, day in zip(runs, (DAY_A, DAY_B), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [True, True]
    assert days(server) == {DAY_A, DAY_B}
    assert len(commits(server)) == 2
    assert files(server).count("README.md") == 1
    assert_no_force_push(server)


def test_a_writer_pushing_between_the_runs_fetch_and_push_is_kept(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    run = Run(server, tmp_path / "run1")
    run.write_day("users-1-day", DAY_B, served(DAY_B))
    # The other run pushes after this run was told the branch's tip, just before its pack arrives.
    server.inject("git-receive-pack", "post", lambda: one_run(server, tmp_path / "other", DAY_C))

    assert run.store.finish(f"users-1-day: {DAY_B}") is True

    assert days(server) == {DAY_A, DAY_B, DAY_C}
    assert len(commits(server)) == 3
    assert_no_force_push(server)


def test_another_run_that_pushed_the_same_files_leaves_nothing_to_commit(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    run = Run(server, tmp_path / "run1")
    run.write_day("users-1-day", DAY_B, served(DAY_B))
    other = Run(server, tmp_path / "other")
    other.write_day("users-1-day", DAY_B, served(DAY_B))
    assert other.store.finish(f"users-1-day: {DAY_B} (the other run)") is True

    assert run.store.finish(f"users-1-day: {DAY_B}") is False
    assert len(commits(server)) == 2


# --- faults ------------------------------------------------------------------------------------------


def test_a_5xx_on_fetch_is_retried(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    server.inject("git-upload-pack", "advertise", "503")
    server.inject("git-upload-pack", "post", "503")

    run = Run(server, tmp_path / "run1")

    assert run.store.list("raw/") and sum("trying again" in line for line in run.lines) == 2


def test_reading_an_old_file_survives_a_5xx_and_a_failed_read_leaves_no_file(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    run = Run(server, tmp_path / "run1")
    key = f"raw/users-1-day/day={DAY_A}/part-1.ndjson.gz"
    server.inject("git-upload-pack", "post", "503")

    target = tmp_path / "read.ndjson.gz"
    run.store.download(key, target)

    assert gzip.decompress(target.read_bytes()) == served(DAY_A)
    assert any("trying again" in line for line in run.lines)
    other = Run(server, tmp_path / "run2")
    server.inject("git-upload-pack", "advertise", "503", times=FAST.attempts)
    with pytest.raises(HistoryError, match=f"Could not read {key} from history branch .* after {FAST.attempts}"):
        other.store.download(key, tmp_path / "never.ndjson.gz")
    assert sorted(path.name for path in tmp_path.iterdir() if "never" in path.name) == []


def test_a_fetch_that_keeps_failing_ends_in_one_clear_error(server: GitServer, tmp_path: Path) -> None:
    server.inject("git-upload-pack", "advertise", "503", times=FAST.attempts)

    with pytest.raises(HistoryError) as failure:
        Run(server, tmp_path / "run")

    assert f"after {FAST.attempts} attempts" in str(failure.value) and "503" in str(failure.value)


@pytest.mark.parametrize("fault", ["cut-before", "cut-after", "503"])
def test_a_push_cut_or_refused_for_a_while_lands_once(server: GitServer, tmp_path: Path, fault: str) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    run = Run(server, tmp_path / "run1")
    run.write_day("users-1-day", DAY_B, served(DAY_B))
    # Twice: curl itself sends a request again once when a reused connection drops before any answer.
    server.inject("git-receive-pack", "post", fault, times=2)  # type: ignore[arg-type]

    assert run.store.finish(f"users-1-day: {DAY_B}") is True

    assert days(server) == {DAY_A, DAY_B}
    assert len(commits(server)) == 2, "the push landed twice or not at all"
    assert any("did not land" in line for line in run.lines)
    assert_no_force_push(server)


def test_a_push_that_never_lands_fails_cleanly_and_the_next_run_continues(server: GitServer, tmp_path: Path) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    run = Run(server, tmp_path / "run1")
    run.write_day("users-1-day", DAY_B, served(DAY_B))
    server.inject("git-receive-pack", "post", "cut-before", times=2 * FAST.attempts)

    with pytest.raises(HistoryError, match=f"failed {FAST.attempts} times.*Nothing of the branch was lost"):
        run.store.finish(f"users-1-day: {DAY_B}")

    assert days(server) == {DAY_A}
    assert one_run(server, tmp_path / "run2", DAY_B) is True
    assert days(server) == {DAY_A, DAY_B}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("read-only", r"denied to github-actions\[bot\].*permissions: contents: write"),
        ("fine-grained-read-only", r"Write access to repository not granted.*permissions: contents: write"),
        ("protected", r"branch protection rule or ruleset.*GH006"),
        ("bad-token", r"did not accept github-token for history branch"),
        ("other-repository", r"found no repository at .*Repository not found"),
        ("garbage", r"git could not push to history branch"),
    ],
)
def test_a_refused_push_is_one_clear_error_and_loses_nothing(
    server: GitServer, tmp_path: Path, setup: str, expected: str
) -> None:
    one_run(server, tmp_path / "run0", DAY_A)
    before = commits(server)
    token, env = server.write_token, {}
    if setup == "read-only":
        token = server.read_token
    elif setup == "fine-grained-read-only":
        token, server.denial = server.read_token, "Write access to repository not granted."
    elif setup == "protected":
        server.protect(BRANCH)
    elif setup == "garbage":
        server.inject("git-receive-pack", "advertise", "garbage")

    with pytest.raises(HistoryError, match=expected) as failure:
        if setup == "bad-token":
            token = "ghs_" + "x" * 36
        if setup == "other-repository":
            env = {"GITHUB_REPOSITORY": "octo-org/missing"}
        run = Run(server, tmp_path / "run1", token, **env)
        run.write_day("users-1-day", DAY_B, served(DAY_B))
        run.store.finish(f"users-1-day: {DAY_B}")

    assert "\n" not in str(failure.value)
    assert commits(server) == before
    if setup == "protected":
        (server.bare / "protected").unlink()
    assert one_run(server, tmp_path / "run2", DAY_B) is True


@pytest.mark.parametrize(
    ("token", "env", "expected"),
    [
        ("", {}, "needs the github-token input"),
        ("t", {"GITHUB_REPOSITORY": ""}, "GITHUB_REPOSITORY is '', not OWNER/REPO"),
        ("t", {"GITHUB_SERVER_URL": "http://github.example.com"}, "plain http"),
        ("t", {"GITHUB_SERVER_URL": "ftp://github.example.com"}, "not a https:// address"),
        ("t", {"PATH": "/nonexistent"}, "The git command is not installed"),
    ],
)
def test_unusable_settings_are_refused_before_any_request(
    server: GitServer, token: str, env: dict[str, str], expected: str
) -> None:
    with pytest.raises(HistoryError, match=expected):
        open_branch_store(BRANCH, {**server.env(), **env}, token, print, print)
    assert server.requests == []


@pytest.mark.parametrize("name", ["has space", "a..b", "-rf", "ends.lock", "x:y"])
def test_an_invalid_branch_name_is_refused_before_any_request(server: GitServer, name: str) -> None:
    with pytest.raises(HistoryError, match="not a valid git branch name"):
        open_branch_store(name, server.env(), server.write_token, print, print)
    assert server.requests == []


def test_files_past_50_mib_are_warned_about_and_past_100_mib_refused(server: GitServer, tmp_path: Path) -> None:
    run = Run(server, tmp_path / "run")
    large, too_large = tmp_path / "large.parquet", tmp_path / "too-large.parquet"
    with large.open("wb") as out:
        out.truncate(50 * 1024 * 1024 + 1)
    with too_large.open("wb") as out:
        out.truncate(100 * 1024 * 1024 + 1)

    run.store.write(f"tables/user_daily/day={DAY_A}/large.parquet", large)
    with pytest.raises(HistoryError, match=r"refuses files over 100 MiB.*object store"):
        run.store.write(f"tables/user_daily/day={DAY_A}/too-large.parquet", too_large)

    assert len(run.warnings) == 1 and "50 MiB" in run.warnings[0] and "object store" in run.warnings[0]
    assert run.store.list("tables/") == [f"tables/user_daily/day={DAY_A}/large.parquet"]


def test_a_file_git_cannot_read_is_one_clear_error_and_later_writes_still_work(
    server: GitServer, tmp_path: Path
) -> None:
    run = Run(server, tmp_path / "run")
    odd = tmp_path / "two\nlines.parquet"
    odd.write_bytes(b"PAR1")

    with pytest.raises(HistoryError, match=r"git could not read .* into the history branch"):
        run.store.write(f"tables/user_daily/day={DAY_A}/x.parquet", tmp_path / "run")
    with pytest.raises(HistoryError, match="its path holds a line break"):
        run.store.write(f"tables/user_daily/day={DAY_A}/x.parquet", odd)

    run.write_day("users-1-day", DAY_A, served(DAY_A))
    assert run.store.finish(f"users-1-day: {DAY_A}") is True
    assert days(server) == {DAY_A}


# --- the token ---------------------------------------------------------------------------------------


class ProcessWatch:
    """Samples the argument list of every git process on the machine while it runs."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    command = Path(entry.path, "cmdline").read_bytes()
                except OSError:
                    continue
                if b"git" in command:
                    self.seen.add(command)


def test_the_token_is_sent_as_a_header_and_appears_nowhere_else(server: GitServer, tmp_path: Path) -> None:
    token = server.write_token
    forms = [token.encode(), base64.b64encode(f"x-access-token:{token}".encode())]
    one_run(server, tmp_path / "run0", DAY_A)
    recorder = tmp_path / "bin"
    recorder.mkdir()
    calls = tmp_path / "git-calls.log"
    real_git = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
    wrapper = recorder / "git"
    wrapper.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\nenv | cut -d= -f1 | sort | tr "\\n" " " >> {calls}\n'
        f'echo >> {calls}\nexec {real_git} "$@"\n'
    )
    wrapper.chmod(0o755)

    with ProcessWatch() as watch:
        run = Run(server, tmp_path / "run1", PATH=f"{recorder}:{os.environ['PATH']}")
        run.write_day("users-1-day", DAY_B, served(DAY_B))
        run.store.read(f"raw/users-1-day/day={DAY_A}/part-1.ndjson.gz")
        private = [path.read_bytes() for path in walk_files(run.store.local)]
        config = (run.store.local / "config").read_bytes()
        server.inject("git-receive-pack", "post", "cut-before", times=2)
        assert run.store.finish(f"users-1-day: {DAY_B}") is True

    assert run.secrets == [token, forms[1].decode()]
    assert any(b"git-remote-http" in command or b"remote-http" in command for command in watch.seen)
    assert any(b"push" in command for command in watch.seen)
    logged = calls.read_text()
    assert "push --porcelain" in logged and "--stdin-paths" in logged
    assert "GIT_CONFIG_COUNT" in logged and "GIT_CONFIG_NOSYSTEM" in logged
    assert b"extraheader" not in config.lower()
    places = {
        "process argument lists": list(watch.seen),
        "git command lines": [logged.encode()],
        "log": ["\n".join(run.lines).encode()],
        "private repository": private,
        "written and downloaded files": [path.read_bytes() for path in walk_files(tmp_path / "run1")],
        "server repository": [path.read_bytes() for path in walk_files(server.bare)],
    }
    for place, contents in places.items():
        for form in forms:
            assert not any(form in content for content in contents), f"the token is in the {place}"
    assert not run.store.local.exists(), "finish leaves the private repository behind"
