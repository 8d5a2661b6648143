"""The few buildah operations the container tier needs: build an image, read its config, run it.

Chroot isolation works without a container engine or nested namespaces, which is all the test
machines offer; ``--network host`` lets the container reach servers on the host's loopback.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ISOLATION = "chroot"


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


def build(context: Path, tag: str, build_args: Mapping[str, str], *, no_cache: bool = False) -> None:
    """Build ``context/Dockerfile`` layer by layer, as ``docker build`` does, from local images only."""
    command = [
        "buildah",
        "bud",
        "--quiet",
        "--isolation",
        ISOLATION,
        "--layers",
        "--pull=never",
        "-t",
        tag,
    ]
    command += [f"--build-arg={key}={value}" for key, value in build_args.items()]
    if no_cache:
        command.append("--no-cache")
    subprocess.run([*command, str(context)], check=True, stdout=subprocess.DEVNULL)


def _inspect(image: str) -> dict[str, Any]:
    inspected = subprocess.run(
        ["buildah", "inspect", "--type", "image", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answer: dict[str, Any] = json.loads(inspected)
    return answer


def image_config(image: str) -> dict[str, object]:
    """The OCI image config (Entrypoint, Cmd, Env, WorkingDir, ...) of a local image."""
    config: dict[str, object] = _inspect(image)["OCIv1"]["config"]
    return config


def entrypoint(image: str) -> list[str]:
    value = image_config(image).get("Entrypoint")
    if not isinstance(value, list) or not value:
        raise AssertionError(f"{image} declares no exec-form ENTRYPOINT")
    return [str(part) for part in value]


def layer_sizes(image: str) -> list[int]:
    """Size in bytes of each layer as stored (uncompressed tar), base layers first."""
    manifest = json.loads(_inspect(image)["Manifest"])
    return [int(layer["size"]) for layer in manifest["layers"]]


def pushed_layers(image: str, layout: Path) -> list[Path]:
    """Push ``image`` gzip-compressed, as a registry receives it, into the OCI layout ``layout``;
    return its layer blobs, base layers first."""
    subprocess.run(
        ["buildah", "push", "--quiet", "--compression-format", "gzip", image, f"oci:{layout}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    index = json.loads((layout / "index.json").read_text(encoding="utf-8"))
    manifest = json.loads(_blob(layout, index["manifests"][-1]["digest"]).read_text(encoding="utf-8"))
    return [_blob(layout, layer["digest"]) for layer in manifest["layers"]]


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, value = digest.partition(":")
    return layout / "blobs" / algorithm / value


def run(
    image: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    mounts: Mapping[Path, str],
    workdir: str,
    timeout: float = 300,
) -> Finished:
    """Run ``command`` in a fresh container of ``image``, then remove the container."""
    container = subprocess.run(
        ["buildah", "from", "--pull=never", "--quiet", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        options = [
            "--isolation",
            ISOLATION,
            "--network",
            "host",
            "--workingdir",
            workdir,
        ]
        options += [f"--volume={host}:{inside}" for host, inside in mounts.items()]
        options += [f"--env={key}={value}" for key, value in env.items()]
        done = subprocess.run(
            ["buildah", "run", *options, container, "--", *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)
    return Finished(done.returncode, done.stdout, done.stderr)
