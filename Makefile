# Locator task file. `make run` and `make test` work on a fresh Debian machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-fast lint typecheck check bench demo-data test-deps wheel-check clean help

help:                ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)        ## set up and serve the app on 127.0.0.1:5000 with the embedded demo data
	$(BIN)/locator serve

test-deps:           ## install the Debian packages the tests use: chromium, gdal-bin, python3-qgis, PostGIS, Redis, wrk, nginx
	@command -v chromium >/dev/null 2>&1 && command -v ogrinfo >/dev/null 2>&1 && \
	  [ -d /usr/lib/python3/dist-packages/qgis ] && command -v redis-server >/dev/null 2>&1 && \
	  ls /usr/lib/postgresql/*/lib/postgis-3.so >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 && \
	  [ -x /usr/sbin/nginx ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk \
	    gdal-bin python3-qgis postgresql-15-postgis-3 redis-server wrk nginx-light >/dev/null; }

test: $(TEST_STAMP) test-deps  ## set up and run the whole test suite (browser tests included)
	$(BIN)/python -m pytest -q

# Spread over two processes (pytest-xdist): the fast tests are many short ones.
test-fast: $(TEST_STAMP)  ## the edit-test loop: everything but browser, slow and database tests, on 2 cores (under a minute)
	$(BIN)/python -m pytest -q -n 2 -m 'not browser and not slow and not postgres'

lint: $(TEST_STAMP)  ## ruff lint and the import-linter layer contracts
	$(BIN)/ruff check locator tests bench
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)  ## mypy over the package
	$(BIN)/mypy

check: lint typecheck test  ## everything CI runs

bench: $(TEST_STAMP)  ## run the benchmarks and print medians and ratios
	$(BIN)/python bench/nearest.py
	$(BIN)/python bench/open_data.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/coverage.py

demo-data: $(STAMP)  ## regenerate data/stations/demo_stations.gpkg (synthetic, seeded)
	$(BIN)/locator demo-data

wheel-check: $(STAMP)  ## build the wheel, install it in a fresh venv and serve from it
	$(BIN)/python .ci/wheel_check.py

clean:               ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
