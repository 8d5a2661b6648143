"""The history stores for real: a folder, S3 (moto's server mode) and Azure (Azurite), each behind a
loopback proxy that records, throttles or kills; and the archive's promises on each of them."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import uuid4

import boto3
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from conformance.azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from copilot_metrics.errors import HistoryError
from copilot_metrics.history import open_store
from copilot_metrics.history.archive import DayFiles, keep_day, table_key
from copilot_metrics.history.checks import rebuild, verify
from copilot_metrics.history.store import Store
from emulator import data
from storeproxy import THROTTLED, KillAt, StoreProxy, Throttle

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 4)
PARTITION = f"day={DAY}"


@pytest.fixture(scope="session")
def moto() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Backend:
    kind: str
    location: str
    env: dict[str, str]
    upstream: str = ""  # the server a proxy goes in front of
    proxies: list[StoreProxy] = field(default_factory=list)

    def store(self, env: dict[str, str] | None = None) -> Store:
        return open_store(self.location, env or self.env, Path.cwd())

    def proxied(self) -> tuple[StoreProxy, dict[str, str]]:
        proxy = StoreProxy(self.upstream).__enter__()
        self.proxies.append(proxy)
        if self.kind == "s3":
            return proxy, self.env | {"AWS_ENDPOINT_URL": proxy.url}
        return proxy, {"AZURE_STORAGE_CONNECTION_STRING": _connection_string(proxy.url)}


def _connection_string(blob_endpoint: str, key: str = ACCOUNT_KEY) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};BlobEndpoint={blob_endpoint};"


def s3_backend(moto: str) -> Backend:
    bucket = f"history-{uuid4().hex[:12]}"
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
    client = boto3.client(
        "s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    client.create_bucket(Bucket=bucket)
    return Backend("s3", f"s3://{bucket}/copilot", env | {"AWS_ENDPOINT_URL": moto}, moto)


def azure_backend(azurite: Azurite) -> Backend:
    container = f"history-{uuid4().hex[:12]}"
    azurite.service().create_container(container)
    env = {"AZURE_STORAGE_CONNECTION_STRING": _connection_string(azurite.account_url)}
    return Backend("az", f"az://{container}/copilot", env, azurite.account_url)


@pytest.fixture
def cloud(request: pytest.FixtureRequest, moto: str, azurite: Azurite) -> Iterator[Backend]:
    backend = s3_backend(moto) if request.param == "s3" else azure_backend(azurite)
    yield backend
    for proxy in backend.proxies:
        proxy.__exit__(None, None, None)


@pytest.fixture
def any_store(request: pytest.FixtureRequest, tmp_path: Path, moto: str, azurite: Azurite) -> Store:
    if request.param == "folder":
        return open_store(str(tmp_path / "history"), {}, tmp_path)
    backend = s3_backend(moto) if request.param == "s3" else azure_backend(azurite)
    return backend.store()


CLOUDS = pytest.mark.parametrize("cloud", ["s3", "az"], indirect=True)


def users_files(folder: Path, seed: str, shards: int = 2) -> tuple[Path, ...]:
    """A users-1-day report of DAY as GitHub serves it, in `shards` files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, shard in enumerate(data.users(seed, "organization_id", 7, [DAY], shards), start=1):
        path = folder / f"users-1-day_{DAY}_part-{number}.ndjson"
        path.write_bytes(shard)
        paths.append(path)
    return tuple(paths)


def keep(store: Store, files: tuple[Path, ...], work: Path) -> str:
    work.mkdir(parents=True, exist_ok=True)
    return keep_day(store, DayFiles("users-1-day", PARTITION, files), work, lambda _: None).change


def user_rows(store: Store, scratch: Path) -> int:
    target = scratch / f"read-{uuid4().hex}.parquet"
    store.download(table_key("user_daily", str(DAY), "users-1-day"), target)
    return int(pq.read_table(target).num_rows)


def lines(files: tuple[Path, ...]) -> int:
    return sum(path.read_bytes().count(b"\n") for path in files)


@pytest.mark.parametrize("any_store", ["folder", "s3", "az"], indirect=True)
def test_a_store_writes_whole_objects_lists_and_reads_them(any_store: Store, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(os.urandom(3 * 1024 * 1024) * 7)  # several multipart parts
    small = tmp_path / "small"
    small.write_bytes(b"abc\n")
    any_store.write("raw/r/day=2026-01-02/b.ndjson.gz", big)
    any_store.write("raw/r/day=2026-01-01/a.ndjson.gz.sha256", small)
    any_store.write("tables/t/day=2026-01-01/r.parquet", small)

    assert any_store.list("raw/") == ["raw/r/day=2026-01-01/a.ndjson.gz.sha256", "raw/r/day=2026-01-02/b.ndjson.gz"]
    assert any_store.list("raw/r/day=2026-01-03/") == []
    assert any_store.read("raw/r/day=2026-01-01/a.ndjson.gz.sha256") == b"abc\n"
    copy = tmp_path / "copy"
    any_store.download("raw/r/day=2026-01-02/b.ndjson.gz", copy)
    assert copy.read_bytes() == big.read_bytes()
    assert any_store.finish("nothing to commit") is False
    with pytest.raises(HistoryError, match="plain relative paths"):
        any_store.write("../escape", small)


@CLOUDS
def test_the_same_day_again_changes_no_object(cloud: Backend, tmp_path: Path) -> None:
    files = users_files(tmp_path / "served", "same")
    proxy, env = cloud.proxied()
    store = cloud.store(env)
    assert keep(store, files, tmp_path / "work") == "added"
    writes = proxy.log.count("PUT") + proxy.log.count("POST")
    assert writes >= 2 * len(files) + 2

    assert keep(store, files, tmp_path / "work") == "unchanged"
    assert proxy.log.count("PUT") + proxy.log.count("POST") == writes
    assert proxy.log.count("DELETE") == 0
    assert verify(store, lambda _: None) == []


@CLOUDS
def test_throttling_and_server_errors_are_retried_with_backoff(cloud: Backend, tmp_path: Path) -> None:
    files = users_files(tmp_path / "served", "throttled")
    proxy, env = cloud.proxied()
    proxy.throttles.append(Throttle("PUT", 3, THROTTLED[cloud.kind]))
    proxy.throttles.append(Throttle("GET", 2, (500, "text/plain", b"internal error")))
    store = cloud.store(env)

    assert keep(store, files, tmp_path / "work") == "added"

    assert proxy.log.count("PUT", 503) == 3
    assert proxy.log.count("GET", 500) == 2
    assert user_rows(store, tmp_path) == lines(files)
    assert verify(cloud.store(), lambda _: None) == []


def child(location: str, env: dict[str, str], files: tuple[Path, ...]) -> subprocess.Popen[str]:
    argument = f"{PARTITION}:{','.join(str(path) for path in files)}"
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "history_child.py"), location, "users-1-day", argument],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src"), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@CLOUDS
def test_a_run_killed_between_two_objects_leaves_the_old_day_whole_and_the_next_run_completes_it(
    cloud: Backend, tmp_path: Path
) -> None:
    old = users_files(tmp_path / "old", "before", shards=2)
    store = cloud.store()
    keep(store, old, tmp_path / "work")
    new = users_files(tmp_path / "new", "revised", shards=2)
    assert lines(new) != lines(old)
    proxy, env = cloud.proxied()
    running: list[subprocess.Popen[str]] = []
    # The first shard's data object goes through; the child dies as its checksum is sent.
    proxy.kill = KillAt("PUT", 2, lambda: running[0].pid)
    process = child(cloud.location, env, new)
    running.append(process)
    process.communicate(timeout=120)
    assert process.returncode == -9

    assert user_rows(store, tmp_path) == lines(old)
    assert verify(store, lambda _: None) != []

    rerun = child(cloud.location, cloud.env, new)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"{DAY}=replaced" in out
    assert user_rows(store, tmp_path) == lines(new)
    assert verify(store, lambda _: None) == []


@CLOUDS
def test_two_runs_at_once_over_overlapping_days_both_succeed_without_duplicates(cloud: Backend, tmp_path: Path) -> None:
    files = users_files(tmp_path / "served", "together", shards=2)
    runs = [child(cloud.location, cloud.env, files) for _ in range(2)]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results

    store = cloud.store()
    assert len([key for key in store.list("raw/") if key.endswith(".ndjson.gz")]) == len(files)
    assert user_rows(store, tmp_path) == lines(files)
    assert verify(store, lambda _: None) == []


@CLOUDS
def test_a_missing_bucket_or_container_is_named(cloud: Backend) -> None:
    location = cloud.location.replace("history-", "absent-")
    with pytest.raises(HistoryError, match=r"does not exist\. Create it first"):
        open_store(location, cloud.env, Path.cwd()).list("raw/")


def test_refused_azure_credentials_say_which_variables_to_check(azurite: Azurite) -> None:
    backend = azure_backend(azurite)
    wrong = {"AZURE_STORAGE_CONNECTION_STRING": _connection_string(azurite.account_url, "A" * 86 + "==")}
    with pytest.raises(
        HistoryError, match=r"refused the credentials.*the AccountKey in AZURE_STORAGE_CONNECTION_STRING"
    ) as raised:
        backend.store(wrong).list("raw/")
    assert "A" * 20 not in str(raised.value)


@CLOUDS
def test_verify_finds_a_damaged_raw_file_and_a_stale_table_and_rebuild_mends_the_table(
    cloud: Backend, tmp_path: Path
) -> None:
    files = users_files(tmp_path / "served", "verify")
    store = cloud.store()
    keep(store, files, tmp_path / "work")
    other = users_files(tmp_path / "other", "other")
    keep_day(cloud.store(), DayFiles("users-1-day", "day=2026-03-05", other), tmp_path / "work", lambda _: None)
    stale = tmp_path / "stale.parquet"
    store.download(table_key("user_daily", "2026-03-05", "users-1-day"), stale)
    store.write(table_key("user_daily", str(DAY), "users-1-day"), stale)
    damaged = tmp_path / "damaged.gz"
    damaged.write_bytes(gzip.compress(files[0].read_bytes() + b"{}\n"))
    raw = store.list(f"raw/users-1-day/{PARTITION}/")[0]
    store.write(raw, damaged)

    problems = verify(store, lambda _: None)
    assert any(raw in problem and "does not match its checksum" in problem for problem in problems)
    assert any("tables/user_daily/day=2026-03-04" in problem for problem in problems)

    repaired = tmp_path / "repaired.gz"
    repaired.write_bytes(gzip.compress(files[0].read_bytes()))
    store.write(raw, repaired)
    assert rebuild(store, lambda _: None) == 2
    assert verify(store, lambda _: None) == []


@pytest.mark.parametrize("damage", ["cut short", "an invalid deflate block", "not gzip"])
def test_verify_names_a_raw_file_that_is_not_whole_gzip(tmp_path: Path, damage: str) -> None:
    history = tmp_path / "history"
    store = open_store(str(history), {}, tmp_path)
    keep(store, users_files(tmp_path / "served", "whole"), tmp_path / "work")
    raw = store.list(f"raw/users-1-day/{PARTITION}/")[0]
    packed = (history / raw).read_bytes()
    # Byte 10 opens the first deflate block (after gzip's 10-byte header); 0xff gives it the
    # reserved block type, which no inflater accepts.
    damaged = {
        "cut short": packed[: len(packed) // 2],
        "an invalid deflate block": packed[:10] + b"\xff" + packed[11:],
        "not gzip": b"plain text\n",
    }[damage]
    (history / raw).write_bytes(damaged)

    assert f"{raw}: not a whole gzip file" in verify(store, lambda _: None)


def test_the_command_line_verifies_a_store_and_says_what_is_wrong(tmp_path: Path) -> None:
    history = tmp_path / "history"
    store = open_store(str(history), {}, tmp_path)
    keep(store, users_files(tmp_path / "served", "cli"), tmp_path / "work")
    command = [sys.executable, "-m", "copilot_metrics", "history", "verify", str(history)]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "src")}

    good = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert "no problems" in good.stderr
    (history / table_key("user_daily", str(DAY), "users-1-day")).unlink()
    bad = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "problem: tables/user_daily/day=2026-03-04/users-1-day.parquet: missing" in bad.stderr
    rebuilt = subprocess.run([*command[:-2], "rebuild", str(history)], env=env, capture_output=True, text=True)
    assert rebuilt.returncode == 0 and "Rebuilt the tables of 1 day(s)" in rebuilt.stderr
    assert subprocess.run(command, env=env, capture_output=True, check=False).returncode == 0
