# SkillTree: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every check.
# Both use the embedded PostgreSQL unless DATABASE_URL is set.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
UV_VERSION := 0.13.9

.PHONY: install run test lint typecheck pytest pytest-pgbouncer bench schema lock clean

install: $(STAMP)

# Exactly the locked set, checked against the lock's hashes: a fresh virtualenv (nothing left
# from an older lock), every runtime and dev dependency and the build backend from $(LOCK), then
# the project itself without resolving anything.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit("SkillTree needs Python 3.11 or newer (found " + sys.version.split()[0] + ")") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --only-binary :all: -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

# Pin every runtime and dev dependency, and the build backend, with the hashes of all their files:
# one lock for Linux, macOS and Windows and Python 3.11 and newer (uv's universal resolution).
lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet uv==$(UV_VERSION)
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
	  | $(VENV)-lock/bin/uv pip compile - pyproject.toml --extra dev --universal --python-version 3.11 \
	      --generate-hashes --custom-compile-command "make lock" --quiet -o $(LOCK)

run: install
	$(BIN)/skilltree run

test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

# The progress, security, concurrency and deadline tests again, their database reached through
# a PgBouncer of their own in transaction mode (needs Debian's pgbouncer; docs/operations.md).
POOLED_TESTS := tests/progress tests/security tests/catalog/test_concurrency.py \
	tests/catalog/test_author_races.py tests/analytics/test_fold_concurrency.py \
	tests/analytics/test_skill_times_concurrency.py tests/search/test_request_path.py \
	tests/test_deadlines.py tests/pooling

pytest-pgbouncer: install
	$(BIN)/pytest --pgbouncer $(POOLED_TESTS)

bench: install
	$(BIN)/python -m benchmarks

# The live schema (src/skilltree/db/schema/*.sql) from a scratch database migrated to head:
# run it after adding a migration, and commit what it changes (docs/development.md).
schema: install
	$(BIN)/skilltree db dump-schema

clean:
	rm -rf $(VENV) $(VENV)-lock .pytest_cache .mypy_cache .ruff_cache
