"""A real git server on loopback: git's own `git http-backend` (smart HTTP, protocol v2, partial
clone) behind a small HTTP server that checks tokens the way GitHub does and can misbehave.

GitHub takes a token as the password of HTTP Basic authentication (user `x-access-token`); a
token without `contents: write` may fetch but gets 403 on push, with GitHub's own message. A
pre-receive hook stands for a branch protection rule, and faults are injected per request:
a 5xx answer, a connection cut before or after the push is applied, or another writer pushing
just before a request is served.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Service = Literal["git-upload-pack", "git-receive-pack"]
Stage = Literal["advertise", "post"]
# "503": answer 503; "cut-before": drop the connection without running git; "cut-after": run git
# (so a push lands), then drop the connection before the client reads the answer; "garbage": answer
# 200 with a body that is not git's; a callable runs (another writer, say) before git serves it.
Action = Literal["503", "cut-before", "cut-after", "garbage"] | Callable[[], object]

OWNER_REPO = "octo-org/octo-repo"
HOOK = """#!/bin/sh
# Records every ref update, and declines those of a protected branch as GitHub does (GH006).
while read old new ref; do
  echo "$old $new $ref" >> "$GIT_DIR/updates.log"
  if [ -f "$GIT_DIR/protected" ] && grep -qx "$ref" "$GIT_DIR/protected"; then
    echo "error: GH006: Protected branch update failed for $ref." >&2
    echo "error: Changes must be made through a pull request." >&2
    exit 1
  fi
done
"""


@dataclass
class Fault:
    service: Service
    stage: Stage
    action: Action


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    service: str
    status: int
    bytes_in: int
    bytes_out: int
    encoding: str = ""


@dataclass
class GitServer:
    """Serves one bare repository, `octo-org/octo-repo`, at http://127.0.0.1:PORT/."""

    root: Path
    write_token: str = "ghs_writeWRITEwrite0123456789abcdefABCD"
    read_token: str = "ghs_readREADread0123456789abcdefABCDEF"
    # What GitHub says to a token that may read but not push (GITHUB_TOKEN without contents:
    # write); fine-grained tokens get "Write access to repository not granted."
    denial: str = f"Permission to {OWNER_REPO}.git denied to github-actions[bot]."
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bare = self.root / f"{OWNER_REPO}.git"
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        self._home = tempfile.mkdtemp(prefix="gitserver-home-")
        self.git("init", "--quiet", "--bare", "--template=", str(self.bare))
        for key, value in (
            ("http.receivepack", "true"),
            ("uploadpack.allowFilter", "true"),
            ("uploadpack.allowAnySHA1InWant", "true"),
            ("core.logAllRefUpdates", "always"),
            ("receive.fsckObjects", "true"),
        ):
            self.git("config", key, value)
        hook = self.bare / "hooks" / "pre-receive"
        hook.parent.mkdir(exist_ok=True)
        hook.write_text(HOOK)
        hook.chmod(0o755)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> GitServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._home, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """What the runner tells the action about the workflow's repository."""
        return {"GITHUB_SERVER_URL": self.url, "GITHUB_REPOSITORY": OWNER_REPO, "PATH": os.environ["PATH"]}

    def git(self, *args: str, stdin: bytes | None = None) -> str:
        """git run directly on the server's repository (as a test inspects or changes it)."""
        done = subprocess.run(
            ["git", *args],
            input=stdin,
            capture_output=True,
            check=True,
            env=self._git_env({"GIT_DIR": str(self.bare)}),
        )
        return done.stdout.decode().strip()

    def protect(self, branch: str) -> None:
        (self.bare / "protected").write_text(f"refs/heads/{branch}\n")

    def updates(self) -> list[tuple[str, str, str]]:
        """Every ref update the server accepted or declined: (old, new, ref)."""
        log = self.bare / "updates.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [(old, new, ref) for old, new, ref in (line.split() for line in lines)]

    def inject(self, service: Service, stage: Stage, action: Action, times: int = 1) -> None:
        with self._lock:
            self.faults.extend(Fault(service, stage, action) for _ in range(times))

    def take_fault(self, service: str, stage: Stage) -> Action | None:
        with self._lock:
            for fault in self.faults:
                if fault.service == service and fault.stage == stage:
                    self.faults.remove(fault)
                    return fault.action
        return None

    def _git_env(self, extra: Mapping[str, str]) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": self._home,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "LC_ALL": "C",
            "GIT_AUTHOR_NAME": "Mona Lisa",
            "GIT_AUTHOR_EMAIL": "mona@example.com",
            "GIT_COMMITTER_NAME": "Mona Lisa",
            "GIT_COMMITTER_EMAIL": "mona@example.com",
            **extra,
        }

    def cgi(self, environ: Mapping[str, str], body: bytes) -> bytes:
        done = subprocess.run(
            ["git", "http-backend"],
            input=body,
            capture_output=True,
            check=False,
            env=self._git_env({"GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1", **environ}),
        )
        return done.stdout


def _handler(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            service, stage = _service_and_stage(parts.path, parts.query)
            refusal = self._refusal(parts.path, service)
            body = self._body()
            if refusal is not None:
                self._answer(service, *refusal, body_in=len(body))
                return
            action = server.take_fault(service, stage)
            if callable(action):
                action()
            elif action == "503":
                self._answer(service, HTTPStatus.SERVICE_UNAVAILABLE, "Service unavailable, try again.", len(body))
                return
            elif action == "garbage":
                self._answer(service, HTTPStatus.OK, "<html>A captive portal</html>", len(body))
                return
            elif action == "cut-before":
                self._cut(service, len(body))
                return
            headers, payload = _cgi_response(server.cgi(self._environ(parts.path, parts.query, len(body)), body))
            if action == "cut-after":
                self._cut(service, len(body))
                return
            status = int(headers.pop("Status", "200").split()[0])
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            encoding = self.headers.get("Content-Encoding", "")
            server.requests.append(
                Request(self.command, parts.path, service, status, len(body), len(payload), encoding)
            )

        def _refusal(self, path: str, service: str) -> tuple[HTTPStatus, str] | None:
            """GitHub's answers: 401 without a valid token, 404 for another repository, 403 on
            push with a token that may only read."""
            token = _basic_password(self.headers.get("Authorization", ""))
            if token not in (server.write_token, server.read_token):
                return HTTPStatus.UNAUTHORIZED, "Invalid username or token. Password authentication is not supported."
            if not path.startswith(f"/{OWNER_REPO}.git/"):
                return HTTPStatus.NOT_FOUND, "Repository not found."
            if service == "git-receive-pack" and token != server.write_token:
                return HTTPStatus.FORBIDDEN, server.denial
            return None

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    chunk = self.rfile.read(size)
                    self.rfile.readline()
                    if size == 0:
                        break
                    chunks.append(chunk)
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _environ(self, path: str, query: str, length: int) -> dict[str, str]:
            environ = {
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(length),
                "REMOTE_USER": "github-actions[bot]",
                "REMOTE_ADDR": self.client_address[0],
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_PROTOCOL": "HTTP/1.1",
            }
            for header, name in (("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "HTTP_GIT_PROTOCOL")):
                if self.headers.get(header):
                    environ[name] = self.headers[header]
            return environ

        def _answer(self, service: str, status: HTTPStatus, message: str, body_in: int) -> None:
            payload = f"{message}\n".encode()
            self.send_response(status)
            if status == HTTPStatus.UNAUTHORIZED:
                self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            server.requests.append(Request(self.command, self.path, service, status, body_in, len(payload)))

        def _cut(self, service: str, body_in: int) -> None:
            self.close_connection = True
            self.connection.shutdown(2)
            server.requests.append(Request(self.command, self.path, service, 0, body_in, 0))

    return Handler


def _service_and_stage(path: str, query: str) -> tuple[str, Stage]:
    if path.endswith("/info/refs"):
        return query.removeprefix("service="), "advertise"
    return path.rsplit("/", 1)[-1], "post"


def _basic_password(header: str) -> str:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    user, _, password = base64.b64decode(value).decode("utf-8", "replace").partition(":")
    return password if user == "x-access-token" else ""


def _cgi_response(output: bytes) -> tuple[dict[str, str], bytes]:
    head, _, payload = output.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = output.partition(b"\n\n")
    headers = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return headers, payload


def token_header_env(token: str) -> dict[str, str]:
    """Environment with which a test's own git client authenticates, as the store does."""
    credential = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {credential}",
    }


def walk_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path
