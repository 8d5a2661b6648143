"""The history: every downloaded day kept once, in the user's own store, queryable by any engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import HistoryError, InputError
from .folder import FolderStore
from .location import parse_location
from .store import Store


def _ignore(_: str) -> None:
    return None


def open_store(
    location: str,
    env: Mapping[str, str],
    workspace: Path,
    *,
    github_token: str = "",
    log: Callable[[str], None] = _ignore,
    warn: Callable[[str], None] = _ignore,
    on_secret: Callable[[str], None] = _ignore,
) -> Store:
    """The store `location` names: a folder, s3://, az://, gs:// or branch:NAME.

    `github_token` is for a branch only, which is the one store that takes a token from an input;
    `on_secret` receives every form of it before anything could print it."""
    try:
        where = parse_location(location, workspace)
    except InputError as problem:
        raise HistoryError(str(problem)) from None
    if where.kind == "folder":
        assert where.folder is not None
        return FolderStore(where.folder)
    if where.kind == "branch":
        from .branch import open_branch_store

        return open_branch_store(where.bucket, env, github_token, log, on_secret, warn=warn)
    from .objects import open_object_store

    return open_object_store(where, env, workspace)
