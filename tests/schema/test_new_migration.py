"""`skilltree db new-migration` writes a migration whose definitions are the live schema's, whole,
so that nobody copies them by hand, and which runs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from typer.testing import CliRunner

from skilltree.cli import app
from skilltree.db import live_schema, migrate, new_migration
from skilltree.db.new_migration import CannotWriteMigration, write_migration

ROOT = Path(__file__).parents[2]


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _live(kind: str) -> list[str]:
    """The names of every live function (without arguments) or view."""
    return sorted(
        {
            entry.name.split("(")[0]
            for name, content in live_schema.committed().items()
            if name != live_schema.REVISION
            for entry in live_schema.parse(content)
            if entry.kind == kind
        }
    )


def test_the_migration_carries_the_live_definitions_up_and_frozen_down(tmp_path: Path) -> None:
    path = write_migration(
        "progress: finish a skill, the new way!",
        ["progress_finish", "refresh_tree_enrolments"],
        ["analytics_trees"],
        versions_dir=tmp_path,
    )
    head = migrate.head_revision()
    assert head is not None
    revision = f"{int(head) + 1:04d}"
    assert path.name == f"{revision}_progress_finish_a_skill_the_new_way.py"
    module = _load(path)
    assert (module.revision, module.down_revision) == (revision, head)
    assert module.UPGRADE == module.DOWNGRADE

    live = {
        entry.name: entry.sql
        for name in ("progress.sql", "analytics.sql")
        for entry in live_schema.parse(live_schema.committed()[name])
    }
    wanted = [
        name
        for name in live
        if name.startswith(("progress_finish(", "refresh_tree_enrolments("))
        or name == "analytics_trees"
    ]
    assert len(wanted) == 3
    for name in wanted:
        assert f"\n{live[name]}\n" in module.DOWNGRADE, name
    assert "(db/schema/progress.sql, db/schema/analytics.sql)" in path.read_text()

    config = str(ROOT / "pyproject.toml")
    for check in (["format", "--check"], ["check", "--ignore", "E501"]):
        ruff = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "--config", config, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_every_live_definition_survives_a_migration_up_and_down(
    migrated: Engine, tmp_path: Path
) -> None:
    # Every function and view through op.execute, as a migration runs them: nothing in their
    # text (a colon, a percent sign, a backslash) may change what they install.
    module = _load(
        write_migration("everything", _live("function"), _live("view"), versions_dir=tmp_path)
    )
    with migrated.connect() as connection:
        before = live_schema.dump(connection)
        with Operations.context(MigrationContext.configure(connection)):
            module.upgrade()
            assert live_schema.dump(connection) == before
            module.downgrade()
            assert live_schema.dump(connection) == before
        connection.rollback()


@pytest.mark.parametrize(
    ("functions", "views", "head", "refusal"),
    [
        (["progress_nothing"], [], None, "no function named 'progress_nothing'"),
        ([], ["progress_finish"], None, "no view named 'progress_finish'"),
        ([], [], None, "name at least one --function or --view"),
        (["progress_finish"], [], "9998", "the live schema is of revision .*, the migrations' "),
    ],
)
def test_what_cannot_be_written_is_refused(
    tmp_path: Path, functions: list[str], views: list[str], head: str | None, refusal: str
) -> None:
    with pytest.raises(CannotWriteMigration, match=refusal):
        write_migration("a change", functions, views, versions_dir=tmp_path, head=head)
    assert list(tmp_path.iterdir()) == []


def test_the_command_writes_into_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(new_migration, "VERSIONS_DIR", tmp_path)
    runner = CliRunner()
    written = runner.invoke(
        app, ["db", "new-migration", "search: documents", "--function", "skill_search_document"]
    )
    assert written.exit_code == 0, written.output
    (path,) = tmp_path.iterdir()
    assert path.name.endswith("_search_documents.py")
    assert "edit UPGRADE, then `skilltree db upgrade` and `make schema`" in written.stdout
    again = runner.invoke(
        app, ["db", "new-migration", "search: documents", "--function", "skill_search_document"]
    )
    assert again.exit_code == 1
    assert f"{path} exists" in again.stderr
    unknown = runner.invoke(app, ["db", "new-migration", "x", "--function", "nope"])
    assert unknown.exit_code == 1
    assert "error: the live schema has no function named 'nope'" in unknown.stderr
