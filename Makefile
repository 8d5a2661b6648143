# The project's commands. On a fresh machine `make demo` and `make test` are all it takes:
# both install what they need first (once; again when a lock file changes).
PYTHON ?= python3
INSTALLED := build/.installed
MERMAID := tests/mermaid/node_modules/.package-lock.json
APT_TOOLS := buildah debootstrap curl jq git chromium chromium-driver

.PHONY: demo test lint unit reliability bench docs-examples install

demo: $(INSTALLED)  ## the action's job end to end (against the built-in emulator, or real GitHub with ORG=...)
	$(PYTHON) tests/demo.py $(if $(ORG),--org $(ORG))

test: $(INSTALLED) lint  ## every check and every test tier
	$(PYTHON) -m pytest -q

lint: $(INSTALLED)  ## style and types
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy src tests bench docs

unit: $(INSTALLED)  ## the fast tests only (no conformance or container tier)
	$(PYTHON) -m pytest -q --ignore=tests/conformance --ignore=tests/container

reliability: $(INSTALLED)  ## fault, bad-input and leak counts
	$(PYTHON) tests/reliability.py

bench: $(INSTALLED)  ## benchmarks against the reference clients; results in bench/RESULTS.md
	$(PYTHON) bench/run.py

docs-examples: $(INSTALLED) $(MERMAID)  ## the README's example job summary and pictures, from the action's output
	$(PYTHON) docs/examples.py

install: $(INSTALLED)

# Mermaid draws the job summary's chart in the README's picture; only docs-examples needs it.
$(MERMAID): tests/mermaid/package-lock.json
	npm ci --prefix tests/mermaid --no-audit --no-fund --loglevel=error

# Python tools, the npm reference clients and the dashboard's charting library, and (as root) the
# apt packages of the container tier (buildah, debootstrap), of the benchmarks' baseline (curl, jq),
# of the git server the history branch store is tested against (git, whose git-http-backend it
# runs) and of the browser tests (chromium, chromium-driver, whose command is chromedriver).
$(INSTALLED): requirements.txt requirements-dev.txt tests/conformance/package-lock.json tests/browser/package-lock.json
	$(PYTHON) -m pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements.txt
	$(PYTHON) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	npm ci --prefix tests/conformance --no-audit --no-fund --loglevel=error
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@missing=$$(for tool in $(APT_TOOLS); do command -v $$tool >/dev/null 2>&1 || dpkg -s $$tool >/dev/null 2>&1 || echo $$tool; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "The container tier, the benchmarks and the browser tests need: sudo apt-get install -y" $$missing; \
	  fi; \
	fi
	@mkdir -p $(dir $@) && touch $@
