"""The live schema (src/skilltree/db/schema/*.sql) is exactly what the migrations build, on every
PostgreSQL we support, and every object in it has one file."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from skilltree.cli import app
from skilltree.config import get_settings
from skilltree.db import live_schema, migrate
from tests import databases

REGENERATE = "`make schema` (skilltree db dump-schema)"


def _dump(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return live_schema.dump(connection)


def test_the_migrations_build_exactly_the_live_schema(migrated: Engine) -> None:
    found, committed = _dump(migrated), live_schema.committed()
    differences = live_schema.differences(found, committed)
    diff = [
        line.rstrip("\n")
        for name in sorted(set(found) & set(committed))
        for line in difflib.unified_diff(
            committed[name].splitlines(),
            found[name].splitlines(),
            f"committed {name}",
            f"migrated {name}",
            lineterm="",
        )
    ]
    assert not differences, (
        f"the migrations at head do not build src/skilltree/db/schema/; regenerate it with "
        f"{REGENERATE} and review what changed:\n"
        + "\n".join(differences)
        + "\n\n"
        + "\n".join(diff[:80])
    )
    assert found == committed  # the header and layout too


def test_an_object_no_file_takes_stops_the_dump(migrated: Engine) -> None:
    with migrated.connect() as connection:
        connection.execute(
            text("CREATE FUNCTION nobody_owns_this() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        )
        with pytest.raises(live_schema.LiveSchemaError, match=r"function nobody_owns_this\(\)"):
            live_schema.dump(connection)
        connection.rollback()


def test_an_object_of_a_kind_the_dump_cannot_write_stops_it(migrated: Engine) -> None:
    with migrated.connect() as connection:
        connection.execute(text("CREATE DOMAIN percent AS int CHECK (VALUE BETWEEN 0 AND 100)"))
        with pytest.raises(live_schema.LiveSchemaError, match=r"domain.* percent"):
            live_schema.dump(connection)
        connection.rollback()


def test_each_name_has_exactly_one_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    assert live_schema.file_of("users", "table users") == "accounts"
    assert live_schema.file_of("progress_finish", "function progress_finish") == "progress"
    assert live_schema.file_of("analytics_trees", "view analytics_trees") == "analytics"
    with pytest.raises(live_schema.LiveSchemaError, match="table stray goes to no file"):
        live_schema.file_of("stray", "table stray")
    about, patterns = live_schema.FILES["search"]
    monkeypatch.setitem(live_schema.FILES, "search", (about, (*patterns, "users")))
    with pytest.raises(live_schema.LiveSchemaError, match="goes to accounts and search"):
        live_schema.file_of("users", "table users")


def test_the_files_read_back_as_written() -> None:
    files = live_schema.committed()
    assert live_schema.revision_of(files) == migrate.head_revision()
    for name, content in files.items():
        if name == live_schema.REVISION:
            continue
        domain = name.removesuffix(".sql")
        assert live_schema.render(domain, live_schema.parse(content)) == content, name


def test_differences_name_the_file_and_the_object() -> None:
    committed = live_schema.committed()
    entries = live_schema.parse(committed["progress.sql"])
    changed = [
        live_schema.Entry(e.kind, e.name, e.sql + "\n-- edited")
        if e.name.startswith("progress_finish(")
        else e
        for e in entries
        if not e.name.startswith("progress_enrol(")
    ]
    found = {**committed, "progress.sql": live_schema.render("progress", changed)}
    del found["search.sql"]
    found["extra.sql"] = ""
    differences = live_schema.differences(found, committed)
    assert "extra.sql: missing from the committed files" in differences
    assert "search.sql: committed, but the database has nothing for it" in differences
    finish = next(e.name for e in entries if e.name.startswith("progress_finish("))
    enrol = next(e.name for e in entries if e.name.startswith("progress_enrol("))
    assert f"progress.sql: function: {finish}: differs" in differences
    assert f"progress.sql: function: {enrol}: in the file, not in the database" in differences


def test_write_replaces_the_files_and_removes_stale_ones(tmp_path: Path) -> None:
    (tmp_path / "stale.sql").write_text("-- gone\n")
    (tmp_path / "kept.sql").write_text("same\n")
    (tmp_path / "notes.txt").write_text("not ours\n")
    assert live_schema.write({"kept.sql": "same\n", "new.sql": "new\n"}, tmp_path) == [
        "new.sql",
        "stale.sql",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.sql", "new.sql", "notes.txt"]


@pytest.mark.parametrize(
    ("fifteen", "sixteen"),
    [
        # One relation: the top level names no relation from 16 on; subqueries still do.
        (
            " SELECT e.id,\n    e.kind\n   FROM progress_events e\n"
            "  WHERE e.skill_tree_id IN ( SELECT t.id\n           FROM trees t\n"
            "          WHERE t.owner = e.user_id);",
            " SELECT id,\n    kind\n   FROM progress_events e\n"
            "  WHERE skill_tree_id IN ( SELECT t.id\n           FROM trees t\n"
            "          WHERE t.owner = e.user_id);",
        ),
        # Without an alias the prefix is the table's name.
        (
            " SELECT users.id\n   FROM users\n  WHERE users.a IS DISTINCT FROM 'users.b';",
            " SELECT id\n   FROM users\n  WHERE a IS DISTINCT FROM 'users.b';",
        ),
        # A join, or no relation at all: the same on every version.
        (
            " SELECT a.id,\n    b.id\n   FROM x a\n     JOIN y b ON a.id = b.id;",
            " SELECT a.id,\n    b.id\n   FROM x a\n     JOIN y b ON a.id = b.id;",
        ),
        (" SELECT true AS granted\n  WHERE CURRENT_USER <> 'x'::name;",) * 2,
        # A union's branches keep their names.
        (
            " SELECT a.id\n   FROM x a\nUNION\n SELECT b.id\n   FROM y b;",
            " SELECT a.id\n   FROM x a\nUNION\n SELECT b.id\n   FROM y b;",
        ),
    ],
)
def test_views_read_on_15_as_16_prints_them(fifteen: str, sixteen: str) -> None:
    assert live_schema._view_as_16_prints(fifteen) == sixteen


def test_dump_schema_checks_and_writes_the_files(tmp_path: Path) -> None:
    # The command dumps a scratch database of its own, on the server the suite uses.
    directory = tmp_path / "schema"
    shutil.copytree(live_schema.SCHEMA_DIR, directory)
    progress = directory / "progress.sql"
    edited = "CREATE OR REPLACE FUNCTION public.progress_finish("
    progress.write_text(progress.read_text().replace(edited, f"{edited}\n", 1))
    with pytest.MonkeyPatch.context() as patch:
        databases.forget_engine()
        patch.setenv("DATABASE_URL", databases.SERVER_URL)
        patch.delenv("TEXT_SEARCH_CONFIG", raising=False)
        runner = CliRunner()
        checked = runner.invoke(
            app, ["db", "dump-schema", "--check", "--directory", str(directory)]
        )
        written = runner.invoke(app, ["db", "dump-schema", "--directory", str(directory)])
        databases.forget_engine()
    assert checked.exit_code == 1
    assert "progress.sql: function: progress_finish(" in checked.stdout
    assert "run `make schema`" in checked.stderr
    assert written.exit_code == 0, written.output
    assert "progress.sql rewritten" in written.stdout
    assert live_schema.committed(directory) == live_schema.committed()


def test_dump_schema_refuses_another_search_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXT_SEARCH_CONFIG", "simple")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "dump-schema", "--check"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "unset TEXT_SEARCH_CONFIG" in result.stderr
