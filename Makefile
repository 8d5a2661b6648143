# The project's commands. `make demo` and `make test` are the two a fresh machine needs.
PYTHON ?= python3

.PHONY: demo test lint unit reliability bench bench-upload install

demo:  ## run the action's job end to end (against the built-in emulator, or real GitHub with ORG=...)
	$(PYTHON) tests/demo.py $(if $(ORG),--org $(ORG))

test: lint  ## every check and every test tier
	$(PYTHON) -m pytest -q

lint:  ## style, types, action metadata and workflow checks
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy src tests

unit:  ## the fast tests only (no conformance or container tier)
	$(PYTHON) -m pytest -q --ignore=tests/conformance --ignore=tests/container

reliability:  ## fault, bad-input and leak counts
	$(PYTHON) tests/reliability.py

bench:  ## benchmarks against the reference clients; results in bench/RESULTS.md
	$(PYTHON) bench/run.py

install:  ## what the tests need: Python tools and the reference npm clients
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	npm ci --prefix tests/conformance --no-audit --no-fund
