"""The history: every downloaded day kept once, in the user's own store, queryable by any engine."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import HistoryError, InputError
from .folder import FolderStore
from .location import parse_location
from .store import Store


def open_store(location: str, env: Mapping[str, str], workspace: Path) -> Store:
    """The store `location` names: a folder, s3://, az://, gs:// or branch:NAME."""
    try:
        where = parse_location(location, workspace)
    except InputError as problem:
        raise HistoryError(str(problem)) from None
    if where.kind == "folder":
        assert where.folder is not None
        return FolderStore(where.folder)
    if where.kind == "branch":
        try:
            from .branch import open_branch_store  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise HistoryError(
                f"The history store {where.url} (a git branch) is not available in this version: use a folder, "
                "s3://, az:// or gs://."
            ) from None
        store: Store = open_branch_store(where.bucket, env, workspace)
        return store
    from .objects import open_object_store

    return open_object_store(where, env, workspace)
