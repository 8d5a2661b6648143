"""Run the built image the way GitHub's runner runs a container action step."""

from __future__ import annotations

from collections.abc import Mapping

from container import buildah
from runner_step import WORKSPACE, Step


def run_step(image: str, step: Step, env: Mapping[str, str]) -> buildah.Finished:
    """Start the image's own ENTRYPOINT the way the runner does.

    The step's container paths win over ``env``: whatever the caller's context says, inside the
    container the workspace and file commands are where the runner mounted them.
    """
    return buildah.run(
        image,
        buildah.entrypoint(image),
        env={**env, **step.env()},
        mounts=step.mounts(),
        workdir=WORKSPACE,
    )
