# One Makefile; CI (.ci/run) calls `make test` verbatim.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3
# The local PostgreSQL the suite also runs against, when it answers (see tests/conftest.py).
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run test lint typecheck pytest bench bench-image bench-watermark clean

install: $(STAMP)

$(STAMP): pyproject.toml src/bastion/hashing/_mih.c
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# The public-form browser tests drive Debian's Chromium (no browser download).
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: install
	$(VENV)/bin/bastion serve --demo

lint: install
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench

typecheck: install
	$(PY) -m mypy

pytest: install
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2).close()" 2>/dev/null; then \
		echo "PostgreSQL reachable: storage tests also run against $(PG_URL)"; \
		BASTION_TEST_POSTGRES_URL=$(PG_URL) $(PY) -m pytest; \
	else \
		echo "PostgreSQL not reachable: storage tests run on SQLite only"; \
		$(PY) -m pytest; \
	fi

test: lint typecheck pytest

bench: install
	$(PY) bench/prompt_guard.py
	$(PY) bench/pdq_speed.py
	$(PY) bench/robustness.py
	$(PY) bench/index_bench.py
	$(PY) bench/upload_scan_load.py
	$(PY) bench/image_intake.py
	$(PY) bench/workflow.py
	$(PY) bench/fuzz_routes.py

bench-image: install
	$(PY) bench/image_guard.py

# The baseline (invisible-watermark) declares torch as a dependency it does not need for
# dwtDctSvd: install it without dependencies, for the benchmark only (never for the tests).
bench-watermark: install
	$(PY) -m pip install --quiet --disable-pip-version-check 'PyWavelets>=1.4'
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps 'invisible-watermark==0.2.0'
	$(PY) bench/watermark.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
