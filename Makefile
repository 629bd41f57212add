# SkillTree: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every check.
# Both use the embedded PostgreSQL unless DATABASE_URL is set.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest pytest-pgbouncer bench schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("SkillTree needs Python 3.11 or newer (found " + sys.version.split()[0] + ")") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/skilltree run

test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
