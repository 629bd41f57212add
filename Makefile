# SkillTree: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every check.
# Both use the embedded PostgreSQL unless DATABASE_URL is set.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest bench schema clean

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

bench: install
	$(BIN)/python -m benchmarks

# The live schema (src/skilltree/db/schema/*.sql) from a scratch database migrated to head:
# run it after adding a migration, and commit what it changes (docs/development.md).
schema: install
	$(BIN)/skilltree db dump-schema

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
