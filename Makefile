# The README's commands. Every target creates .venv from the pinned requirements first,
# so a fresh clone needs nothing but python3.11 and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: venv preflight test lint typecheck check drill bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## The main job: the offline preview of one stack (default dev) with the policy pack.
preflight: venv
	$(PY) -m preflight --stack $(STACK)

## The whole test suite (unit, policies, preflight, drills; integration skips without AWS).
test: venv
	$(PY) -m pytest -n 2 -q

## ruff, and the GitHub workflows against GitHub's schema (vendored in check-jsonschema: offline).
lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

typecheck: venv
	$(PY) -m mypy

check: lint typecheck test

## A planned switchover and failback of the dev stack against a local emulator.
drill: venv
	$(PY) -m drills sandbox --stack dev --scenario planned-switchover --failback

## Benchmarks: preflight per stack, Analyze over gRPC, drill orchestration overhead.
bench: venv
	$(PY) -m preflight.benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache out reports .drills
