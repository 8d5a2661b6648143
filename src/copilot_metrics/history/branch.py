"""The history in a branch of the workflow's own repository (`history: branch:NAME`).

Every user already has this store: the repository that holds the workflow. The `git` command
reaches it over smart HTTP. A run fetches only the branch's tip, without file contents (depth 1,
`blob:none`), so its cost does not grow with the history's age; an old file is fetched when it
is read. Writes become blobs at once; `finish` turns them into one commit on the tip and pushes
it once. When another run pushed first, it fetches again and re-applies this run's files on the
new tip. Nothing is ever force-pushed, so no run can drop another run's days.

The token travels only as an HTTP header in the environment of the git processes, scoped to
this one remote: never in a file, a URL, the git configuration or an argument list.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal, TypeVar
from urllib.parse import urlsplit

from ..errors import HistoryError
from ..transport import Retry, RetryPolicy, is_loopback, timeout, with_retries

Log = Callable[[str], None]
_T = TypeVar("_T")

# Commits are made as GitHub's own Actions bot, the identity GITHUB_TOKEN pushes as, so that the
# branch's log shows the automation rather than a person.
IDENTITY: Mapping[str, str] = {
    f"GIT_{role}_{part}": value
    for role in ("AUTHOR", "COMMITTER")
    for part, value in (
        ("NAME", "github-actions[bot]"),
        ("EMAIL", "41898282+github-actions[bot]@users.noreply.github.com"),
    )
}

MIB = 1024 * 1024
# GitHub warns about files over 50 MiB and refuses pushes that hold a file over 100 MiB.
WARN_BYTES = 50 * MIB
LIMIT_BYTES = 100 * MIB

# The only variables git gets from the runner: where to find programs, and how this network
# reaches the server (proxies, private certificate authorities). No user or system git config.
PASSED_THROUGH = (
    "PATH",
    "TMPDIR",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
)

_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_REMOTE = "origin"

Failure = Literal["protected", "denied", "unauthorized", "missing", "moved", "transient", "other"]

# What git prints for each failure, GitHub's server messages included. Checked in this order:
# a refused push also says "failed to push", and a denied one may also mention the URL.
_FAILURES: tuple[tuple[Failure, re.Pattern[str]], ...] = (
    ("protected", re.compile(r"GH006|GH013|protected branch|pre-receive hook declined|rule violations", re.I)),
    ("denied", re.compile(r"error: 403|Permission to \S+ denied|Write access to repository not granted", re.I)),
    ("unauthorized", re.compile(r"error: 401|Authentication failed|could not read Username|Invalid username", re.I)),
    ("missing", re.compile(r"error: 404|Repository not found|repository '[^']*' not found", re.I)),
    (
        "moved",
        re.compile(
            r"\(fetch first\)|\(non-fast-forward\)|\(stale info\)|failed to update ref|cannot lock ref|"
            r"failed to lock|incorrect old value",
            re.I,
        ),
    ),
    (
        "transient",
        re.compile(
            r"error: 5\d\d|RPC failed|hung up|early EOF|Connection reset|Empty reply|Failed to connect|"
            r"Couldn't connect|timed out|Operation too slow|Could not resolve host|transfer closed|"
            r"unexpected disconnect|unexpected EOF|GnuTLS recv error|HTTP/2 stream",
            re.I,
        ),
    ),
)

_HTTP_STATUS = re.compile(r"returned error: (\d{3})")

README = """\
# Copilot usage metrics history

This branch holds no code. The copilot-metrics-report action keeps GitHub Copilot usage metrics
here, one folder per day, and adds one commit per run that added or replaced days:

- `raw/<report>/day=YYYY-MM-DD/<file>.ndjson.gz`: each report file exactly as GitHub served it
  (gunzip gives the served bytes), with the SHA-256 of the served bytes beside it.
- `tables/<table>/day=YYYY-MM-DD/<name>.parquet`: typed tables derived from the raw files.

Query it without the code branches:

    git clone --branch {name} --single-branch --depth 1 {clone_url} copilot-history
    duckdb -c "SELECT * FROM read_parquet('copilot-history/tables/daily/*/*.parquet', hive_partitioning = true)"
"""


@dataclass(frozen=True)
class _Tip:
    """The branch's newest commit and the blob of every file it holds."""

    commit: str
    tree: str
    blobs: Mapping[str, str]


class _GitFailed(Exception):
    def __init__(self, output: str) -> None:
        super().__init__(output)
        self.output = output


class _Git:
    """The git command in a private bare repository, with a clean environment."""

    def __init__(self, home: tempfile.TemporaryDirectory[str], env: Mapping[str, str]) -> None:
        self._home = home
        self.directory = Path(home.name) / "repository.git"
        self._env = {**env, "GIT_DIR": str(self.directory)}
        self._hasher: subprocess.Popen[bytes] | None = None
        self._hashing = threading.Lock()

    def run(self, *args: str, stdin: bytes | None = None, extra_env: Mapping[str, str] | None = None) -> str:
        """git's standard output as text; raises _GitFailed with everything it printed."""
        return self.call(*args, stdin=stdin, extra_env=extra_env).decode("utf-8", "replace").strip()

    def call(
        self,
        *args: str,
        stdin: bytes | None = None,
        stdout: IO[bytes] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> bytes:
        """git's standard output as bytes (none when sent to `stdout`)."""
        try:
            done = subprocess.run(
                ["git", *args],
                input=stdin,
                stdout=stdout if stdout is not None else subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self._home.name,
                env={**self._env, **(extra_env or {})},
                check=False,
            )
        except FileNotFoundError:
            raise HistoryError(
                "The git command is not installed, and `history: branch:…` needs it. "
                "The action's image has it; outside the image, install git."
            ) from None
        if done.returncode != 0:
            said = (done.stdout or b"") + done.stderr
            raise _GitFailed(said.decode("utf-8", "replace"))
        return done.stdout or b""

    def blob(self, path: Path) -> str:
        """The blob of a local file, written into the repository. One `hash-object --stdin-paths`
        serves the whole run: a year's backfill writes thousands of files, a process each would
        cost more than the hashing."""
        if "\n" in str(path):
            raise HistoryError(f"Cannot keep {str(path)!r} in a history branch: its path holds a line break.")
        with self._hashing:
            if self._hasher is None:
                self._hasher = subprocess.Popen(
                    ["git", "hash-object", "-w", "--no-filters", "--stdin-paths"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=self._home.name,
                    env={**self._env, "GIT_FLUSH": "1"},
                )
            assert self._hasher.stdin is not None and self._hasher.stdout is not None
            self._hasher.stdin.write(f"{path}\n".encode())
            self._hasher.stdin.flush()
            blob = self._hasher.stdout.readline().decode().strip()
            if not blob:
                said = self._stop_hasher()
                raise HistoryError(f"git could not read {path} into the history branch: {_telling_line(said)}")
            return blob

    def _stop_hasher(self) -> str:
        hasher, self._hasher = self._hasher, None
        if hasher is None:
            return ""
        _out, said = hasher.communicate()
        return said.decode("utf-8", "replace")

    def remove(self) -> None:
        with self._hashing:
            self._stop_hasher()
        self._home.cleanup()


def open_branch_store(
    name: str,
    env: Mapping[str, str],
    token: str,
    log: Log,
    on_secret: Callable[[str], None],
    *,
    warn: Log | None = None,
    retry: RetryPolicy | None = None,
) -> BranchStore:
    """The history kept in branch `name` of the workflow's repository, its tip already fetched.

    `log` gets progress lines, `warn` (default: `log`) the warnings about file sizes, and
    `on_secret` every form of the token before anything could print it."""
    token = token.strip()
    if not token:
        raise HistoryError(
            f"`history: branch:{name}` needs the github-token input (default `${{{{ github.token }}}}`), "
            "and it is empty. Leave it at its default, or pass a token that may push to this repository."
        )
    credential = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    on_secret(token)
    on_secret(credential)
    server, repository = _server_and_repository(env)
    remote = f"{server}/{repository}.git"
    home = tempfile.TemporaryDirectory(prefix="copilot-history-")
    git = _Git(home, _git_environment(env, Path(home.name), remote, credential))
    try:
        _check_branch_name(name, git)
        _init_partial_clone(git, remote)
        return BranchStore(name, remote, git, log=log, warn=warn or log, retry=retry or RetryPolicy())
    except BaseException:
        git.remove()
        raise


def _init_partial_clone(git: _Git, remote: str) -> None:
    """An empty repository whose remote lends every blob it lacks (a blob-less partial clone)."""
    git.run("init", "--quiet", "--bare", "--template=", str(git.directory))
    for key, value in (
        (f"remote.{_REMOTE}.url", remote),
        (f"remote.{_REMOTE}.promisor", "true"),
        (f"remote.{_REMOTE}.partialclonefilter", "blob:none"),
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", _REMOTE),
    ):
        git.run("config", key, value)


def _server_and_repository(env: Mapping[str, str]) -> tuple[str, str]:
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").strip().rstrip("/")
    repository = (env.get("GITHUB_REPOSITORY") or "").strip()
    if not _REPOSITORY.fullmatch(repository):
        raise HistoryError(
            f"`history: branch:…` keeps the history in the workflow's own repository, but GITHUB_REPOSITORY "
            f"is {repository!r}, not OWNER/REPO. The runner sets it; outside Actions, set it yourself."
        )
    parts = urlsplit(server)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment or parts.username:
        raise HistoryError(f"GITHUB_SERVER_URL {server!r} is not a https:// address of a GitHub server.")
    if parts.scheme == "http" and not is_loopback(host):
        raise HistoryError(f"GITHUB_SERVER_URL {server!r} uses plain http, which only a loopback test server may.")
    return server, repository


def _git_environment(env: Mapping[str, str], home: Path, remote: str, credential: str) -> dict[str, str]:
    """git's whole environment: nothing from the user's or the system's git configuration, no
    credential helper, no prompt, and the token as a header for this one remote only.

    GitHub takes the token as the password of HTTP Basic authentication with the user name
    `x-access-token`, as actions/checkout sends it; `GIT_CONFIG_COUNT` hands git configuration
    through the environment (git 2.31+), so that the header never reaches the config file."""
    config = {
        f"http.{remote}.extraHeader": f"Authorization: Basic {credential}",
        # A redirect could lead elsewhere; the repository's own address never needs one.
        "http.followRedirects": "false",
        "credential.helper": "",
        # A stalled transfer fails (and is retried) instead of hanging the job.
        "http.lowSpeedLimit": "1000",
        "http.lowSpeedTime": str(int(timeout()[1])),
        "protocol.version": "2",
        # The files are gzip and Parquet already: searching for deltas or compressing them again
        # would only cost time (a third of a year's backfill).
        "pack.window": "0",
        "pack.compression": "1",
        "gc.auto": "0",
        "maintenance.auto": "false",
    }
    clean = {name: env[name] for name in PASSED_THROUGH if env.get(name)}
    clean.setdefault("PATH", os.environ.get("PATH", os.defpath))
    clean.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
        # Messages in English, which is what the failures are recognised by.
        LC_ALL="C",
        LANGUAGE="C",
        **IDENTITY,
        GIT_CONFIG_COUNT=str(len(config)),
    )
    for index, (key, value) in enumerate(config.items()):
        clean[f"GIT_CONFIG_KEY_{index}"] = key
        clean[f"GIT_CONFIG_VALUE_{index}"] = value
    return clean


def _check_branch_name(name: str, git: _Git) -> None:
    try:
        git.run("check-ref-format", f"refs/heads/{name}")
        valid = not name.startswith("-")
    except _GitFailed:
        valid = False
    if not valid:
        raise HistoryError(
            f"`history: branch:{name}`: {name!r} is not a valid git branch name "
            "(no spaces, `..`, `~`, `^`, `:`, `?`, `*`, `[` or `\\`; e.g. branch:copilot-metrics-data)."
        )


def _check_key(key: str) -> None:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or any(part in ("", ".", "..", ".git") for part in key.split("/")):
        raise HistoryError(f"{key!r} is not a file path inside the history branch.")


class BranchStore:
    """The Store of a history branch: reads from the fetched tip, writes as blobs, one commit per run."""

    def __init__(self, name: str, remote: str, git: _Git, *, log: Log, warn: Log, retry: RetryPolicy) -> None:
        self.name = name
        self.remote = remote
        self.url = f"{remote.removesuffix('.git')}/tree/{name}"
        self._git = git
        self._log = log
        self._warn = warn
        self._retry = retry
        self._writes: dict[str, str] = {}
        self._removed: set[str] = set()
        self._tip = self._fetch()

    @property
    def local(self) -> Path:
        """The private repository this run works in (removed by `finish`)."""
        return self._git.directory

    def list(self, prefix: str) -> list[str]:
        keys = (set(self._writes) | set(self._tip.blobs if self._tip else ())) - self._removed
        return sorted(key for key in keys if key.startswith(prefix))

    def read(self, key: str) -> bytes:
        blob = self._blob(key)
        return self._retrying(f"read {key} from", lambda: self._git.call("cat-file", "blob", blob))

    def download(self, key: str, target: Path) -> None:
        blob = self._blob(key)
        part = target.with_name(f".{target.name}.part")

        def copy() -> bytes:
            with part.open("wb") as out:
                return self._git.call("cat-file", "blob", blob, stdout=out)

        try:
            self._retrying(f"read {key} from", copy)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, target)

    def write(self, key: str, source: Path) -> None:
        _check_key(key)
        size = source.stat().st_size
        if size > LIMIT_BYTES:
            raise HistoryError(
                f"{key} is {size / MIB:,.0f} MiB, and GitHub refuses files over 100 MiB in a repository. "
                "Keep a history this large in an object store (history: s3://…, az://… or gs://…)."
            )
        if size > WARN_BYTES:
            self._warn(
                f"{key} is {size / MIB:,.0f} MiB: GitHub warns about files over 50 MiB and refuses them over "
                "100 MiB. A history this large belongs in an object store (history: s3://…, az://… or gs://…)."
            )
        self._writes[key] = self._git.blob(source)
        self._removed.discard(key)

    def remove(self, key: str) -> None:
        """Drop `key` in this run's commit (a revised day with fewer files than before)."""
        _check_key(key)
        self._writes.pop(key, None)
        if self._tip is not None and key in self._tip.blobs:
            self._removed.add(key)

    def finish(self, message: str) -> bool:
        """One commit of this run's changed files on the branch's tip, pushed once; False when
        nothing changed (the same bytes give the same tree, so no commit)."""
        try:
            return self._commit_and_push(message)
        finally:
            self._git.remove()

    def _commit_and_push(self, message: str) -> bool:
        changed = [key for key, blob in self._writes.items() if not self._tip or self._tip.blobs.get(key) != blob]
        changed += sorted(self._removed)
        if not changed:
            self._log(f"History branch {self.name}: every file is already there; no commit.")
            return False

        def attempt(number: int) -> bool | Retry:
            if number > 1:
                self._tip = self._fetch()
                if self._tip is not None and self._tip.commit == pushed[-1]:
                    # The push landed; only its answer was lost on the way back.
                    return True
            commit = self._commit(message)
            if commit is None:
                self._log(f"History branch {self.name}: another run already pushed the same files; no commit.")
                return False
            started = time.monotonic()
            problem = self._push(commit)
            if problem is None:
                self._log(
                    f"History branch {self.name}: pushed commit {commit[:12]} ({len(changed)} changed file(s)) "
                    f"in {time.monotonic() - started:.1f} s."
                )
                return True
            pushed.append(commit)
            if number < self._retry.attempts:
                self._log(
                    f"History branch {self.name}: the push did not land ({problem}); fetching the branch again "
                    f"and re-applying this run's files (attempt {number + 1} of {self._retry.attempts})."
                )
            return Retry(problem)

        pushed: list[str] = []
        outcome = with_retries(self._retry, attempt)
        if isinstance(outcome, Retry):
            raise HistoryError(
                f"Pushing to history branch {self.name} failed {self._retry.attempts} times ({outcome.problem}). "
                "Nothing of the branch was lost; the next run adds these days again."
            )
        return outcome

    def _blob(self, key: str) -> str:
        blob = self._writes.get(key) or (self._tip.blobs.get(key) if self._tip else None)
        if blob is None or key in self._removed:
            raise FileNotFoundError(f"{key} is not in history branch {self.name}")
        return blob

    def _fetch(self) -> _Tip | None:
        started = time.monotonic()
        refspec = f"+refs/heads/{self.name}:refs/remotes/{_REMOTE}/{self.name}"
        try:
            self._retrying(
                "fetch",
                lambda: self._git.run(
                    "fetch", "--quiet", "--no-tags", "--depth=1", "--filter=blob:none", _REMOTE, refspec
                ),
            )
        except _BranchAbsent:
            self._log(f"History branch {self.name} does not exist yet; this run creates it.")
            return None
        tip = self._read_tip()
        self._log(
            f"History branch {self.name}: {len(tip.blobs)} file(s) at {tip.commit[:12]}, fetched in "
            f"{time.monotonic() - started:.1f} s."
        )
        return tip

    def _read_tip(self) -> _Tip:
        commit = self._git.run("rev-parse", "--verify", f"refs/remotes/{_REMOTE}/{self.name}^{{commit}}")
        tree = self._git.run("rev-parse", "--verify", f"{commit}^{{tree}}")
        listing = self._git.run("ls-tree", "-r", "-z", "--full-tree", commit)
        blobs = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            _mode, kind, blob = meta.split(" ")
            if kind == "blob":
                blobs[path] = blob
        return _Tip(commit, tree, blobs)

    def _commit(self, message: str) -> str | None:
        """A commit of the tip's tree with this run's files in it; None if that changes nothing."""
        index = {"GIT_INDEX_FILE": str(self._git.directory / "run.index")}
        files = dict(self._writes)
        if self._tip is None:
            self._git.run("read-tree", "--empty", extra_env=index)
            readme = README.format(name=self.name, clone_url=self.remote)
            files.setdefault("README.md", self._git.run("hash-object", "-w", "--stdin", stdin=readme.encode()))
        else:
            self._git.run("read-tree", self._tip.tree, extra_env=index)
        # Mode 0 takes a path out of the index.
        entries = "".join(f"100644 {blob}\t{key}\0" for key, blob in sorted(files.items()))
        entries += "".join(f"0 {'0' * 40}\t{key}\0" for key in sorted(self._removed))
        self._git.run("update-index", "-z", "--index-info", stdin=entries.encode(), extra_env=index)
        # --missing-ok: the tip's own blobs were never fetched, and need not be.
        tree = self._git.run("write-tree", "--missing-ok", extra_env=index)
        if self._tip is not None and tree == self._tip.tree:
            return None
        parents = ["-p", self._tip.commit] if self._tip else []
        return self._git.run("commit-tree", tree, *parents, "-F", "-", stdin=message.rstrip("\n").encode() + b"\n")

    def _push(self, commit: str) -> str | None:
        """None once the branch points at `commit`; else why the push may succeed on a new tip."""
        try:
            self._git.run("push", "--porcelain", "--quiet", _REMOTE, f"{commit}:refs/heads/{self.name}")
        except _GitFailed as failed:
            kind = _failure(failed.output)
            if kind in ("moved", "transient"):
                return _telling_line(failed.output)
            raise self._error("push to", kind, failed.output) from None
        return None

    def _retrying(self, action: str, call: Callable[[], _T]) -> _T:
        """`call`, again after transient failures (5xx, cut connections) with backoff."""

        def attempt(number: int) -> _T | Retry:
            try:
                return call()
            except _GitFailed as failed:
                if "couldn't find remote ref" in failed.output:
                    raise _BranchAbsent from None
                kind = _failure(failed.output)
                if kind != "transient" or number == self._retry.attempts:
                    raise self._error(action, kind, failed.output, number) from None
                self._log(f"History branch {self.name}: {_telling_line(failed.output)}; trying again.")
                return Retry(failed.output)

        outcome = with_retries(self._retry, attempt)
        assert not isinstance(outcome, Retry)  # the last attempt raises instead
        return outcome

    def _error(self, action: str, kind: Failure, output: str, attempts: int = 1) -> HistoryError:
        said = _telling_line(output)
        where = f"history branch {self.name} of {self.remote}"
        messages: Mapping[Failure, str] = {
            "denied": f"GitHub refused to let github-token {action} {where} ({said}). Give the job "
            "`permissions: contents: write` (a token other than GITHUB_TOKEN needs write access to the "
            "repository's contents).",
            "protected": f"GitHub refused the push to {where} because a branch protection rule or ruleset "
            f"covers the branch ({said}). Keep the history in a branch no rule covers, or let "
            "github-actions[bot] bypass the rule for it.",
            "unauthorized": f"GitHub did not accept github-token for {where} ({said}). Leave github-token at "
            "its default `${{ github.token }}`, or pass a valid token.",
            "missing": f"GitHub found no repository at {self.remote} ({said}). The history branch lives in the "
            "workflow's own repository (GITHUB_SERVER_URL, GITHUB_REPOSITORY), which the token must be "
            "able to read and write (`permissions: contents: write`).",
            "transient": f"Could not {action} {where} after {attempts} attempts ({said}). Nothing was lost; "
            "run the job again later.",
        }
        return HistoryError(messages.get(kind, f"git could not {action} {where}: {said}"))


class _BranchAbsent(Exception):
    """The remote has no such branch (yet)."""


def _failure(output: str) -> Failure:
    for kind, pattern in _FAILURES:
        if pattern.search(output):
            return kind
    return "other"


def _telling_line(output: str) -> str:
    """What git's output says most: the server's own message if it sent one, and the HTTP status."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = [line[len("remote:") :].strip() for line in lines if line.startswith("remote:") and line[7:].strip()]
    rejected = [line.split("\t")[-1] for line in lines if line.startswith("!")]
    failed = [line for line in lines if line.startswith(("fatal:", "error:"))]
    chosen = next((group[0] for group in (said, rejected, failed) if group), lines[-1] if lines else "no message")
    status = _HTTP_STATUS.search(output)
    if status and status[1] not in chosen:
        chosen = f"HTTP {status[1]}: {chosen}"
    return chosen.removeprefix("fatal: ").removeprefix("error: ")
