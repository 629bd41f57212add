"""`skilltree db backup` and `skilltree db restore` on real databases: a seeded database backed
up, restored into an empty one with every table's count and checksum equal, what differs named,
non-empty targets refused, `--verify` round trips, and one line with exit 2 when the server or
pg_dump is missing."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from typer.testing import CliRunner, Result

from skilltree.cli import app
from skilltree.db import migrate
from skilltree.db.session import create_db_engine, unit_of_work
from skilltree.operations import backup as backups
from skilltree.ports import free_port
from skilltree.seed import load_demo, load_spec_seed
from tests import databases

runner = CliRunner()

Cli = Callable[..., Result]


def _quiet(_description: str, _done: int, _total: int) -> None:
    """No progress shown."""


@pytest.fixture(scope="module")
def source() -> Iterator[Engine]:
    """A database of this module's own, migrated to head, with the spec's seed and the demo
    (trees, learners and their progress)."""
    name = databases.test_database_name("backup_source")
    engine = create_db_engine(databases.create_database(name))
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_spec_seed(session)
        load_demo(session)
    yield engine
    engine.dispose()
    databases.drop_database(name)


@pytest.fixture
def cli(source: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """Run `skilltree ARGS...` with DATABASE_URL at the source database."""
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", source.url.render_as_string(hide_password=False))

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    yield run
    databases.forget_engine()


@pytest.fixture
def target() -> Iterator[str]:
    """The name of a database to restore into (absent: the restore creates it), dropped after."""
    name = databases.test_database_name("backup_target")
    databases.drop_database(name)
    yield name
    databases.drop_database(name)


def database(engine_or_url: Engine | str, name: str | None = None) -> backups.Database:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    if name is not None:
        url = url.set(database=name)
    return backups.Database.from_url(url.render_as_string(hide_password=False))


def checksums(db: backups.Database) -> dict[str, Any]:
    with db.connect() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        found = backups.table_checksums(conn, _quiet)
        conn.rollback()
    return found


def scratch_databases(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"%\\_verify\\_{os.getpid()}"},
            ).scalars()
        )


@pytest.fixture
def dump(cli: Cli, tmp_path: Path) -> Path:
    """A backup of the source database, made by the command."""
    path = tmp_path / "source.dump"
    result = cli("db", "backup", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_the_manifest_describes_the_source(dump: Path, source: Engine) -> None:
    manifest = backups.read_manifest(dump)
    assert manifest["revision"] == migrate.head_revision()
    assert manifest["dump"]["bytes"] == dump.stat().st_size
    assert manifest["tables"] == checksums(database(source))
    tables = manifest["tables"]
    for table in ("public.users", "public.skills", "public.user_skill_progress"):
        assert tables[table]["rows"] > 0, table


def test_a_backup_restores_into_an_empty_database_with_every_table_equal(
    cli: Cli, dump: Path, source: Engine, target: str
) -> None:
    result = cli("db", "restore", str(dump), "--into", target)
    assert result.exit_code == 0, result.output
    assert "matches the backup's manifest" in result.stdout
    restored = checksums(database(source, target))
    assert restored == checksums(database(source))
    assert restored == backups.read_manifest(dump)["tables"]


def test_a_restore_into_a_url_works_alike(
    cli: Cli, dump: Path, source: Engine, target: str
) -> None:
    url = source.url.set(database=target).render_as_string(hide_password=False)
    result = cli("db", "restore", str(dump), "--into", url)
    assert result.exit_code == 0, result.output
    assert checksums(database(url)) == backups.read_manifest(dump)["tables"]


def test_tampered_rows_are_named(cli: Cli, dump: Path, source: Engine, target: str) -> None:
    assert cli("db", "restore", str(dump), "--into", target).exit_code == 0
    restored = database(source, target)
    first = "ctid = (SELECT min(ctid) FROM {})"
    with restored.connect() as conn:
        conn.execute(
            f"UPDATE skills SET name = name || ' (changed)' WHERE {first.format('skills')}"
        )
        conn.execute(f"DELETE FROM achievements WHERE {first.format('achievements')}")
        conn.commit()
    manifest = backups.read_manifest(dump)
    differences = backups.verify(manifest, restored, _quiet)
    achievements, skills = (
        manifest["tables"]["public.achievements"],
        manifest["tables"]["public.skills"],
    )
    now = checksums(restored)["public.skills"]["md5"]
    # Their triggers may change other tables too (a tree's search document, say): those are
    # named as well, but these two must be, exactly so.
    assert (
        f"public.achievements: {achievements['rows']:,} rows in the backup, "
        f"{achievements['rows'] - 1:,} restored"
    ) in differences
    assert (
        f"public.skills: contents differ with the same {skills['rows']:,} rows "
        f"(checksum {skills['md5']} in the backup, {now} restored)"
    ) in differences
    assert not [line for line in differences if line.startswith("public.users:")]


def test_a_restore_that_differs_from_its_manifest_exits_1_naming_the_table(
    cli: Cli, dump: Path, target: str
) -> None:
    path = backups.manifest_path(dump)
    manifest = json.loads(path.read_text())
    manifest["tables"]["public.users"]["md5"] = "0" * 32
    path.write_text(json.dumps(manifest))
    result = cli("db", "restore", str(dump), "--into", target)
    assert result.exit_code == 1
    assert result.stdout.startswith("public.users: contents differ")
    assert "differs from the backup's manifest (1 differences)" in result.stderr


def test_a_database_that_is_not_empty_is_refused(cli: Cli, dump: Path, source: Engine) -> None:
    before = checksums(database(source))
    result = cli("db", "restore", str(dump), "--into", source.url.database)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "refusing to restore into" in result.stderr
    assert "not empty" in result.stderr
    assert checksums(database(source)) == before


def test_a_damaged_dump_is_refused(cli: Cli, dump: Path, target: str) -> None:
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    result = cli("db", "restore", str(dump), "--into", target)
    assert result.exit_code == 1
    assert "damaged" in result.stderr


def test_verify_round_trips_and_drops_its_scratch_database(
    cli: Cli, dump: Path, source: Engine
) -> None:
    result = cli("db", "backup", "--verify", str(dump))
    assert result.exit_code == 0, result.output
    assert "restored into a scratch database matches" in result.stdout
    assert scratch_databases(source) == []


def test_verify_of_a_backup_that_differs_exits_1_and_drops_its_scratch_database(
    cli: Cli, dump: Path, source: Engine
) -> None:
    path = backups.manifest_path(dump)
    manifest = json.loads(path.read_text())
    manifest["tables"]["public.skills"]["rows"] += 1
    manifest["revision"] = "0001"
    path.write_text(json.dumps(manifest))
    result = cli("db", "backup", "--verify", str(dump))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"schema revision: 0001 in the backup, {migrate.head_revision()} restored"
    )
    assert result.stdout.splitlines()[1].startswith("public.skills: ")
    assert scratch_databases(source) == []


def test_an_unreachable_server_is_one_line_and_exit_2(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    result = cli("db", "backup", str(tmp_path / "x.dump"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot connect to PostgreSQL at host=127.0.0.1")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "x.dump").exists()


def test_no_pg_dump_is_one_line_and_exit_2(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(backups, "_candidates", lambda program: iter(()))
    result = cli("db", "backup", str(tmp_path / "x.dump"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no pg_dump for PostgreSQL ")
    assert result.stderr.count("\n") == 1


def test_a_failed_pg_dump_is_one_line_exit_1_and_leaves_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    failing = tmp_path / "pg_dump"
    failing.write_text("#!/bin/sh\necho 'pg_dump: error: query failed: boom' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr(backups, "client_program", lambda program, major: str(failing))
    result = cli("db", "backup", str(tmp_path / "x.dump"))
    assert result.exit_code == 1
    assert result.stderr == "error: pg_dump failed: pg_dump: error: query failed: boom\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pg_dump"]


def test_a_missing_manifest_is_one_line_and_exit_2(cli: Cli, dump: Path, target: str) -> None:
    backups.manifest_path(dump).unlink()
    result = cli("db", "restore", str(dump), "--into", target)
    assert result.exit_code == 2
    assert "no manifest next to the backup" in result.stderr


@pytest.mark.parametrize(
    ("command", "says"),
    [(("db", "backup"), "--verify"), (("db", "restore"), "--into")],
)
def test_each_command_has_help(command: tuple[str, ...], says: str) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert says in result.stdout


def test_the_manifest_and_the_dump_share_one_snapshot(
    source: Engine, tmp_path: Path, target: str
) -> None:
    """Rows deleted while the backup runs are in the manifest and the dump alike (last in the
    module: the source keeps no achievements of its learners after it)."""
    written: list[str] = []

    def write_once(_description: str, _done: int, _total: int) -> None:
        if not written:
            with source.begin() as conn:
                conn.execute(text("DELETE FROM user_achievements WHERE true"))
            written.append("done")

    path = tmp_path / "during.dump"
    with source.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM user_achievements")).scalar_one()
    manifest = backups.backup(database(source), path, write_once)
    assert written
    assert manifest["tables"]["public.user_achievements"]["rows"] == before
    assert before > 0, "the demo's learners hold achievements"
    restored = database(source, target)
    assert backups.restore(path, restored, database(source), _quiet) == []
    assert checksums(restored)["public.user_achievements"]["rows"] == before
