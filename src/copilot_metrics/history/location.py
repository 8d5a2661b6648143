"""What the `history` input may hold, checked before anything is opened or sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import InputError

Kind = Literal["folder", "s3", "az", "gs", "branch"]
SCHEMES: tuple[Kind, ...] = ("s3", "az", "gs")
# S3 and GCS bucket names; Azure container names are the stricter subset without dots.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_CONTAINER = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")
_SEGMENT = re.compile(r"[A-Za-z0-9._=+@-]+")
_BRANCH = re.compile(r"[A-Za-z0-9._/-]+")


@dataclass(frozen=True)
class Location:
    kind: Kind
    bucket: str  # bucket or container; the branch name for branch:
    prefix: str  # '/'-free at both ends; "" for the bucket's root
    folder: Path | None = None

    @property
    def url(self) -> str:
        if self.kind == "folder":
            return str(self.folder)
        if self.kind == "branch":
            return f"branch:{self.bucket}"
        return f"{self.kind}://{self.bucket}/{self.prefix}".rstrip("/")


def parse_location(value: str, workspace: Path) -> Location:
    """The location `value` names, or InputError saying what a location may be."""
    scheme, sep, rest = value.partition("://")
    if sep:
        return _object_location(scheme, rest, value)
    if value.startswith("branch:"):
        return _branch_location(value.removeprefix("branch:"))
    return _folder_location(value, workspace)


def _object_location(scheme: str, rest: str, value: str) -> Location:
    if scheme not in SCHEMES:
        raise InputError(
            f"Input 'history' is {_shown(value)}: the scheme {scheme!r} is not supported. Use a folder, "
            "s3://BUCKET/PREFIX, az://CONTAINER/PREFIX, gs://BUCKET/PREFIX or branch:NAME."
        )
    bucket, _, prefix = rest.partition("/")
    pattern = _CONTAINER if scheme == "az" else _BUCKET
    what = "container" if scheme == "az" else "bucket"
    if not pattern.fullmatch(bucket):
        raise InputError(
            f"Input 'history' is {_shown(value)}, whose {what} name {bucket!r} is not valid: use 3-63 lowercase "
            f"letters, digits{'' if scheme == 'az' else ', dots'} and hyphens. Credentials never go in this input: "
            "they come from the environment."
        )
    prefix = prefix.strip("/")
    if prefix and not all(_SEGMENT.fullmatch(part) and part not in (".", "..") for part in prefix.split("/")):
        raise InputError(
            f"Input 'history' is {_shown(value)}, whose prefix {prefix!r} is not a plain path: use letters, "
            "digits and . _ = + @ - between single slashes, without . or .. segments."
        )
    return Location(scheme, bucket, prefix)


def _branch_location(name: str) -> Location:
    if not _BRANCH.fullmatch(name) or ".." in name or name.startswith(("/", "-")) or name.endswith(("/", ".lock")):
        raise InputError(
            f"Input 'history' is 'branch:{name}', which is not a usable branch name: use letters, digits "
            "and . _ / -, e.g. branch:copilot-metrics-history."
        )
    return Location("branch", name, "")


def _folder_location(value: str, workspace: Path) -> Location:
    if "\0" in value:
        raise InputError("Input 'history' holds a NUL character: name a folder, e.g. copilot-history.")
    try:
        folder = (workspace / value).resolve()
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    except (OSError, RuntimeError):
        raise InputError(f"Input 'history' is {value!r}, which cannot be resolved to a folder.") from None
    if blocker is not None:
        raise InputError(
            f"Input 'history' is {value!r}, but {blocker} is a file, not a folder: name a folder for the history."
        )
    return Location("folder", "", "", folder)


def _shown(value: str) -> str:
    """The value as an error may quote it: anything that looks like a credential is blanked."""
    return repr(re.sub(r"//[^/@]*@", "//***@", value.split("?", 1)[0]))
