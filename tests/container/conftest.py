"""Session fixtures: the tools, the stand-in base and our image, each made once per session."""

from __future__ import annotations

import os

import pytest

from container import buildah, standin
from container.project import IMAGE, ROOT


@pytest.fixture(scope="session")
def container_tools() -> None:
    missing = standin.missing_tools()
    if not missing:
        return
    message = f"container tier needs {', '.join(missing)}: run `{standin.INSTALL_HINT}`"
    # On CI a missing tool is a broken pipeline, not a reason to pass quietly.
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def base_image(container_tools: None) -> str:
    return standin.ensure_standin()


@pytest.fixture(scope="session")
def action_image(base_image: str) -> str:
    buildah.build(ROOT, IMAGE, {"BASE_IMAGE": base_image})
    return IMAGE
