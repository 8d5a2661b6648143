"""The Actions results service: the v4 artifact Twirp API (JSON flavour)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import azure
from .blobstore import BlobBackend
from .server import Request, Response

PREFIX = "/twirp/github.actions.results.api.v1.ArtifactService/"
_BAD_NAME = re.compile(r'[":<>|*?\r\n\\/]')
_TWIRP_STATUS = {
    "malformed": 400,
    "invalid_argument": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "failed_precondition": 412,
    "resource_exhausted": 429,
    "internal": 500,
    "unavailable": 503,
    "deadline_exceeded": 504,
}
Json = dict[str, Any]


class TwirpError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def twirp_error(code: str, msg: str, status: int | None = None) -> Response:
    body = json.dumps({"code": code, "msg": msg}).encode()
    return Response(status or _TWIRP_STATUS.get(code, 500), {"Content-Type": "application/json"}, [body])


@dataclass
class StoredArtifact:
    id: int
    name: str
    run_backend_id: str
    job_backend_id: str
    blob_name: str
    backend: BlobBackend
    version: int
    mime_type: str | None
    expires_at: datetime | None
    created_at: datetime = field(default_factory=azure.now)
    size: int | None = None
    hash: str | None = None
    finalized: bool = False
    deleted: bool = False

    @property
    def blob(self) -> bytes | None:
        """The committed blob's bytes, read from whichever store holds it."""
        return self.backend.read(self.blob_name)

    @property
    def content_type(self) -> str | None:
        return self.backend.content_type(self.blob_name)

    def listing(self) -> Json:
        return {
            "workflow_run_backend_id": self.run_backend_id,
            "workflow_job_run_backend_id": self.job_backend_id,
            "database_id": str(self.id),
            "name": self.name,
            "size": str(self.size or 0),
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "digest": self.hash or "",
        }


class ResultsService:
    """Artifacts of one workflow run, behind the runtime token's backend ids."""

    def __init__(self, runtime_token: str, run_id: str, job_id: str, backend: Callable[[], BlobBackend]) -> None:
        self.runtime_token = runtime_token
        self.run_id = run_id
        self.job_id = job_id
        self._backend = backend
        self._lock = threading.Lock()
        self._next_id = 4100
        self.history: list[StoredArtifact] = []
        self.artifacts: dict[str, StoredArtifact] = {}
        self._methods: dict[str, Callable[[Json], Json]] = {
            "CreateArtifact": self._create,
            "FinalizeArtifact": self._finalize,
            "ListArtifacts": self._list,
            "GetSignedArtifactURL": self._signed_url,
            "DeleteArtifact": self._delete,
        }

    def handle(self, request: Request) -> Response:
        method = self._methods.get(request.path.removeprefix(PREFIX)) if request.path.startswith(PREFIX) else None
        if request.method != "POST" or method is None:
            return twirp_error("bad_route", f"no handler for path {request.path!r}")
        if not request.headers.get("Content-Type", "").lower().startswith("application/json"):
            return twirp_error("bad_route", "unexpected Content-Type")
        if request.headers.get("Authorization", "") != f"Bearer {self.runtime_token}":
            return twirp_error("unauthenticated", "invalid or missing runtime token")
        try:
            body = json.loads(request.body.read() or b"{}")
        except ValueError:
            return twirp_error("malformed", "the request body is not valid JSON")
        try:
            if not isinstance(body, dict):
                raise TwirpError("malformed", "the request body must be a JSON object")
            self._check_ids(body)
            with self._lock:
                answer = method(body)
        except TwirpError as failure:
            return twirp_error(failure.code, failure.msg)
        return Response(200, {"Content-Type": "application/json"}, [json.dumps(answer).encode()])

    def _check_ids(self, body: Json) -> None:
        if _field(body, "workflow_run_backend_id") != self.run_id:
            raise TwirpError("permission_denied", "workflow_run_backend_id does not match the runtime token")
        if _field(body, "workflow_job_run_backend_id") != self.job_id:
            raise TwirpError("permission_denied", "workflow_job_run_backend_id does not match the runtime token")

    def _live(self, name: str, finalized_only: bool) -> StoredArtifact | None:
        found = self.artifacts.get(name)
        if found is None or found.deleted or (finalized_only and not found.finalized):
            return None
        return found

    def _create(self, body: Json) -> Json:
        name = _name(body)
        version = _field(body, "version")
        if version not in (4, 7):
            raise TwirpError("invalid_argument", f"unsupported artifact version {version!r}")
        if self._live(name, finalized_only=False) is not None:
            raise TwirpError("already_exists", "an artifact with this name already exists on the workflow run")
        self._next_id += 1
        backend = self._backend()
        artifact = StoredArtifact(
            id=self._next_id,
            name=name,
            run_backend_id=self.run_id,
            job_backend_id=self.job_id,
            blob_name=f"{self.run_id}/{self.job_id}/artifact-{self._next_id}",
            backend=backend,
            version=version,
            mime_type=_field(body, "mime_type"),
            expires_at=_expiry(_field(body, "expires_at")),
        )
        self.history.append(artifact)
        self.artifacts[name] = artifact
        return {"ok": True, "signed_upload_url": backend.upload_url(artifact.blob_name)}

    def _finalize(self, body: Json) -> Json:
        artifact = self._live(_name(body), finalized_only=False)
        if artifact is None:
            raise TwirpError("not_found", "artifact not found")
        if artifact.finalized:
            raise TwirpError("failed_precondition", "artifact is already finalized")
        size = str(_field(body, "size") or "")
        digest = _field(body, "hash")
        if not size.isdigit() or not isinstance(digest, str):
            raise TwirpError("invalid_argument", "size must be an integer and hash a string")
        artifact.size, artifact.hash, artifact.finalized = int(size), digest, True
        return {"ok": True, "artifact_id": str(artifact.id)}

    def _list(self, body: Json) -> Json:
        name_filter = _field(body, "name_filter")
        id_filter = _field(body, "id_filter")
        found = [
            a.listing()
            for a in self.history
            if a.finalized
            and not a.deleted
            and (name_filter is None or a.name == name_filter)
            and (id_filter is None or str(a.id) == str(id_filter))
        ]
        return {"artifacts": found}

    def _signed_url(self, body: Json) -> Json:
        artifact = self._live(_name(body), finalized_only=True)
        if artifact is None:
            raise TwirpError("not_found", "artifact not found")
        return {"signed_url": artifact.backend.download_url(artifact.blob_name)}

    def _delete(self, body: Json) -> Json:
        artifact = self._live(_name(body), finalized_only=True)
        if artifact is None:
            raise TwirpError("not_found", "artifact not found")
        artifact.deleted = True
        return {"ok": True, "artifact_id": str(artifact.id)}


def _field(body: Json, name: str) -> Any:
    """Proto JSON accepts both the proto name and its lowerCamel JSON name."""
    head, *rest = name.split("_")
    camel = head + "".join(part.title() for part in rest)
    return body.get(name, body.get(camel))


def _name(body: Json) -> str:
    name = _field(body, "name")
    if not isinstance(name, str) or not name or _BAD_NAME.search(name):
        raise TwirpError("invalid_argument", f"invalid artifact name {name!r}")
    return name


def _expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as failure:
        raise TwirpError("invalid_argument", f"invalid expires_at {value!r}") from failure
    if moment.tzinfo is None or moment <= azure.now():
        raise TwirpError("invalid_argument", "expires_at must be a future RFC 3339 time")
    return moment
