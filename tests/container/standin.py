"""Build a local stand-in for the ``python:3.12-slim`` base image.

No registry can be reached from the test machines, so the container tier cannot pull the real base.
This makes an image that plays its part for our Dockerfile: a minimal Debian root (the host's
release), Python with pip, ``python`` and ``/usr/local/bin/python`` on the path, no
``EXTERNALLY-MANAGED`` marker, and the host's CA bundle and index settings so ``pip install`` in the
build reaches the same package index through the same authorities as the host.

The image is tagged with a hash of everything that shapes it, so it is built once and then reused
from local containers storage. Run this file directly to build (or find) it and print its name.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPOSITORY = "localhost/python-standin"
PACKAGES = ("python3", "python3-pip", "python3-venv", "ca-certificates")
MIRROR = os.environ.get("STANDIN_DEBIAN_MIRROR", "http://deb.debian.org/debian")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
LOCK_FILE = Path(tempfile.gettempdir()) / "python-standin.lock"

# Only settings that still mean something inside the build; local paths (find-links, file://
# indexes) do not exist there.
_PIP_KEYS = (
    "index-url",
    "extra-index-url",
    "trusted-host",
    "proxy",
    "timeout",
    "default-timeout",
    "retries",
)

# Mirrors what the official slim image declares, so code that relies on it behaves the same.
_CONTAINERFILE = """\
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
CMD ["python3"]
"""

INSTALL_HINT = "apt-get install -y buildah debootstrap"


def host_codename() -> str:
    for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key == "VERSION_CODENAME" and value:
            return value.strip('"')
    raise RuntimeError("cannot tell the host's Debian release from /etc/os-release")


def _pip_setting(key: str, value: str) -> str | None:
    if key not in ("index-url", "extra-index-url"):
        return value
    remote = [url for url in value.split() if url.startswith(("http://", "https://"))]
    return " ".join(remote) or None


def host_pip_conf() -> str:
    """The host's effective pip configuration, reduced to what works inside a build."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    settings: dict[str, str] = {}
    for line in listing.splitlines():
        name, _, quoted = line.partition("=")
        key = name.rpartition(".")[2]
        value = _pip_setting(key, quoted.strip("'\""))
        if key in _PIP_KEYS and value:
            settings[key] = value
    settings["cert"] = IMAGE_CA_BUNDLE
    return "[global]\n" + "".join(f"{key} = {settings[key]}\n" for key in sorted(settings))


def recipe_hash(pip_conf: str, codename: str) -> str:
    digest = hashlib.sha256()
    for part in (
        Path(__file__).read_bytes(),
        HOST_CA_BUNDLE.read_bytes(),
        pip_conf.encode(),
        codename.encode(),
        MIRROR.encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def image_exists(name: str) -> bool:
    probe = subprocess.run(
        ["buildah", "inspect", "--type", "image", name],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def missing_tools() -> list[str]:
    return [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]


def _debootstrap(root: Path, codename: str) -> None:
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            codename,
            str(root),
            MIRROR,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _make_python_like_official_image(root: Path, pip_conf: str) -> None:
    (root / "usr/bin/python").symlink_to("python3")
    (root / "usr/local/bin/python").symlink_to("/usr/bin/python3")
    # Without this Debian's pip refuses to install outside a venv (PEP 668); the official image
    # has no such marker, and our Dockerfile installs into the system interpreter.
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    shutil.copyfile(HOST_CA_BUNDLE, root / IMAGE_CA_BUNDLE.lstrip("/"))
    (root / "etc/pip.conf").write_text(pip_conf, encoding="utf-8")
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (root / cache).glob("*"):
            if entry.is_file():
                entry.unlink()


def _import(context: Path, root: Path, name: str) -> None:
    # A tar keeps ownership and modes exactly; --numeric-owner because the host's names may differ.
    subprocess.run(
        [
            "tar",
            "--numeric-owner",
            "-C",
            str(root),
            "-cf",
            str(context / "rootfs.tar"),
            ".",
        ],
        check=True,
    )
    (context / "Containerfile").write_text(_CONTAINERFILE, encoding="utf-8")
    subprocess.run(
        [
            "buildah",
            "bud",
            "--quiet",
            "--isolation",
            "chroot",
            "-f",
            "Containerfile",
            "-t",
            name,
            str(context),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _remove_stale(current: str) -> None:
    # Each recipe change leaves a 200 MB image behind; an image still in use just stays.
    names = subprocess.run(
        ["buildah", "images", "--format", "{{.Name}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for stale in (n for n in names if n.startswith(f"{REPOSITORY}:") and n != current):
        subprocess.run(["buildah", "rmi", stale], capture_output=True, check=False)


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    # Parallel sessions would otherwise each spend a minute building the same image.
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_standin() -> str:
    """Return the name of the stand-in base image, building it first if storage lacks it."""
    codename = host_codename()
    pip_conf = host_pip_conf()
    name = f"{REPOSITORY}:{recipe_hash(pip_conf, codename)}"
    with _exclusive():
        if image_exists(name):
            return name
        with tempfile.TemporaryDirectory(prefix="python-standin-", dir="/var/tmp") as work:
            root = Path(work) / "root"
            _debootstrap(root, codename)
            _make_python_like_official_image(root, pip_conf)
            context = Path(work) / "context"
            context.mkdir()
            _import(context, root, name)
        _remove_stale(name)
    return name


def main() -> int:
    missing = missing_tools()
    if missing:
        print(f"missing {', '.join(missing)}: run `{INSTALL_HINT}`", file=sys.stderr)
        return 2
    print(ensure_standin())
    return 0


if __name__ == "__main__":
    sys.exit(main())
