# The image GitHub's runner builds for this action (`runs.image: Dockerfile`).
# BASE_IMAGE exists so the test suite can build this very file on a locally made base. The
# default is the python-base stage: python:3.12-slim pinned by digest (its multi-platform index),
# so a re-tagged or tampered image cannot slip in. It is a stage of its own because Dependabot
# reads FROM lines only (it does not resolve ARG) and moves tag and digest together there.
ARG BASE_IMAGE=python-base
FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea AS python-base
FROM ${BASE_IMAGE}

# Each run starts a fresh container: bytecode written at run time would be thrown away, and
# buffered output would reach the log late or, on a crash, not at all.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# git, for `history: branch:NAME`: the one client with partial clone (blob-less, shallow fetches
# and lazy reads), which keeps a run's cost flat as the history grows. No recommends: no ssh, no
# docs. apt's package cache and lists go too: a base without Docker's apt clean-up hook would
# otherwise keep 95 MB of them in this layer.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

# Dependencies get their own layer, rebuilt only when the lock changes. The lock lists every
# transitive dependency, so --no-deps installs exactly it; wheels only, so no compiler is needed;
# every wheel must match a hash in the lock.
COPY requirements.txt /action/requirements.txt
RUN python -m pip install --no-cache-dir --no-deps --only-binary=:all: --require-hashes -r /action/requirements.txt

COPY entrypoint.py /action/entrypoint.py
COPY src/copilot_metrics/ /action/src/copilot_metrics/
# Compiled here once, because PYTHONDONTWRITEBYTECODE stops every run from caching it.
RUN python -m compileall -q /action

# Exec form: a shell would drop the runner's hyphenated INPUT_* variables. No USER (the runner
# mounts the workspace for root) and no WORKDIR (the runner sets the working directory).
ENTRYPOINT ["/usr/local/bin/python", "/action/entrypoint.py"]
