# The README's commands. Each target does its own set-up on a fresh Debian machine (as root) and
# skips what is already done.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := libldap2-dev libsasl2-dev slapd ldap-utils postgresql redis-server chromium chromium-driver
STAMP := $(VENV)/.installed

.PHONY: demo test standalone cluster setup lint typecheck unit lock benchmarks clean

demo: setup
	$(BIN)/python -m dev.demo

test: setup lint typecheck
	$(BIN)/python -m pytest -q

standalone: setup
	$(BIN)/python -m dev.standalone

cluster: setup
	$(BIN)/python -m dev.cluster

setup: $(STAMP)

.debian-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(MAKE) --no-print-directory .debian-packages
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

benchmarks: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Regenerate the pinned locks from requirements.in / requirements-dev.in in a throwaway venv.
lock:
	rm -rf .lockvenv && $(PY) -m venv .lockvenv
	.lockvenv/bin/pip install -q -r requirements.in
	.lockvenv/bin/pip freeze --exclude-editable | sort > requirements.txt
	.lockvenv/bin/pip install -q -r requirements-dev.in
	.lockvenv/bin/pip freeze --exclude-editable | sort | comm -23 - requirements.txt > requirements-dev.txt
	sed -i '1i # Pinned lock of the runtime stack (Python 3.11). Regenerate with `make lock` from requirements.in.' requirements.txt
	sed -i '1i # Pinned lock of development and test tools, on top of requirements.txt. Regenerate with `make lock`.' requirements-dev.txt
	rm -rf .lockvenv

clean:
	rm -rf airflow_home .stack output
