"""Logical backups proven to restore (`skilltree db backup`, `skilltree db restore`).

A backup is two files: the dump (`pg_dump --format=custom`) and, next to it, its manifest
(`<dump>.manifest.json`): the schema revision, the dump's size and SHA-256, and per table its
row count and a checksum of its contents. Both are taken from one REPEATABLE READ snapshot: this
module's transaction exports it (`pg_export_snapshot()`) and pg_dump reads through it
(`--snapshot`), so the manifest describes exactly the rows in the dump.

A table's checksum is the MD5 of its rows' MD5s (each of the row's text, `t::text`) in byte
order, streamed to this process: no ordering by key, no size limit, the same on any server
once the session settings that shape a row's text are pinned (`ROW_TEXT_SETTINGS`).

A restore goes into an empty database only, then computes the same manifest there and names
every table whose count or checksum differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import make_url

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = 1

ROW_TEXT_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}
"""Settings a row's text depends on, pinned so that a checksum does not depend on the server's
or the role's defaults."""

Step = Callable[[str, int, int], None]
"""Progress: what is being done, how many of how many steps are done."""


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead (code 2: no server, no pg_dump, a database that
    is not empty, no manifest) or that failed (code 1)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Database:
    """A database as libpq reaches it; the password is kept out of command lines (PGPASSWORD)."""

    params: dict[str, str]
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> Database:
        parsed = make_url(url)
        params: dict[str, str] = {}
        for key, option in parsed.query.items():
            params[key] = option[0] if isinstance(option, tuple) else option
        given: dict[str, object] = {
            "host": parsed.host,
            "port": parsed.port,
            "user": parsed.username,
            "dbname": parsed.database,
        }
        params.update({key: str(value) for key, value in given.items() if value})
        return cls(params, parsed.password)

    @property
    def name(self) -> str:
        return self.params.get("dbname", "")

    def on(self, database: str) -> Database:
        """The database `database` on the same server."""
        return Database({**self.params, "dbname": database}, self.password)

    def conninfo(self) -> str:
        """The connection string without the password (for pg_dump's and pg_restore's -d)."""
        return make_conninfo(**self.params)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password} if self.password else dict(os.environ)

    def describe(self) -> str:
        return (
            f"host={self.params.get('host', 'localhost')} port={self.params.get('port', 5432)} "
            f"database={self.name}"
        )

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        """A connection, or BackupError (code 2) naming the server when it does not answer."""
        try:
            return psycopg.connect(
                make_conninfo(self.conninfo(), password=self.password)
                if self.password
                else self.conninfo(),
                autocommit=autocommit,
            )
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackupError(
                f"cannot connect to PostgreSQL at {self.describe()}: {reason}"
            ) from None


# -- the client programs ------------------------------------------------------------------------


@lru_cache
def _major_version(binary: str) -> int | None:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found.group(1)) if found else None


def _candidates(program: str) -> Iterator[str]:
    on_path = shutil.which(program)
    if on_path:
        yield on_path
    from skilltree.db.embedded import binaries

    yield str(binaries() / program)
    yield from sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))


def client_program(program: str, server_major: int) -> str:
    """`program` (pg_dump, pg_restore) able to work with a server of `server_major`: one of the
    same major version if there is one, else the newest newer one (on PATH, the embedded
    server's, Debian's /usr/lib/postgresql/*/bin); BackupError when none is."""
    found: dict[str, int] = {}
    for candidate in _candidates(program):
        major = _major_version(candidate) if os.access(candidate, os.X_OK) else None
        if major is not None:
            found.setdefault(candidate, major)
    usable = {path: major for path, major in found.items() if major >= server_major}
    for path, major in usable.items():
        if major == server_major:
            return path
    if usable:
        return max(usable, key=lambda path: usable[path])
    seen = ", ".join(f"{path} ({major})" for path, major in found.items()) or "none"
    raise BackupError(
        f"no {program} for PostgreSQL {server_major} or later (found: {seen}); install "
        f"postgresql-client-{server_major} or put its {program} on PATH"
    )


def _server_major(conn: psycopg.Connection[Any]) -> int:
    return conn.info.server_version // 10000


def _run(command: list[str], database: Database, what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=database.env())
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {_first_error(done.stderr)}", 1)


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no message"])[0]


# -- the manifest --------------------------------------------------------------------------------


TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""
"""Every table holding rows of its own (partitions, not their parents), but those of
extensions, which the extension recreates."""

FOREIGN_OBJECTS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
"""
"""Tables, views, sequences, indexes and types' relations a restore would collide with."""


def _pin_row_text(conn: psycopg.Connection[Any]) -> None:
    for name, value in ROW_TEXT_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def _revision(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
    return str(found[0]) if found else None


def table_checksums(conn: psycopg.Connection[Any], step: Step) -> dict[str, dict[str, Any]]:
    """Per table (`schema.name`): its row count and checksum, read in `conn`'s transaction."""
    _pin_row_text(conn)
    tables = [(str(s), str(t)) for s, t in conn.execute(TABLES).fetchall()]
    found: dict[str, dict[str, Any]] = {}
    for done, (schema, table) in enumerate(tables):
        step(f"checksumming {schema}.{table}", done, len(tables))
        digest, rows = hashlib.md5(usedforsecurity=False), 0
        with conn.cursor(name="skilltree_backup_rows") as cursor:
            cursor.itersize = 10_000
            cursor.execute(
                sql.SQL('SELECT md5(t::text) COLLATE "C" FROM {}.{} AS t ORDER BY 1').format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
            for (row_md5,) in cursor:
                digest.update(row_md5.encode())
                rows += 1
        found[f"{schema}.{table}"] = {"rows": rows, "md5": digest.hexdigest()}
    step("checksummed", len(tables), len(tables))
    return found


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + MANIFEST_SUFFIX)


def read_manifest(dump: Path) -> dict[str, Any]:
    """The manifest next to `dump`; BackupError when either is missing or unreadable."""
    if not dump.is_file():
        raise BackupError(f"{dump}: no such backup")
    path = manifest_path(dump)
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except OSError:
        raise BackupError(f"{path}: no manifest next to the backup") from None
    except ValueError as exc:
        raise BackupError(f"{path}: not a manifest ({exc})") from None
    if manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("tables"), dict):
        raise BackupError(f"{path}: not a manifest of format {MANIFEST_FORMAT}")
    return manifest


# -- backup ----------------------------------------------------------------------------------


def backup(source: Database, dump: Path, step: Step) -> dict[str, Any]:
    """Dump `source` into `dump` and write its manifest next to it; return the manifest. Nothing
    is left behind when it fails (the dump is written as `dump`.partial until it is done)."""
    dump.parent.mkdir(parents=True, exist_ok=True)
    partial = dump.with_name(dump.name + ".partial")
    try:
        manifest = _dump_in_one_snapshot(source, partial, step)
        manifest["dump"] = {
            "file": dump.name,
            "bytes": partial.stat().st_size,
            "sha256": _file_sha256(partial),
        }
        manifest["tables"] = manifest.pop("tables")  # last in the file: the long part
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dump)
    manifest_path(dump).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _dump_in_one_snapshot(source: Database, partial: Path, step: Step) -> dict[str, Any]:
    with source.connect() as conn:
        pg_dump = client_program("pg_dump", _server_major(conn))
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
        if snapshot is None:
            raise BackupError("pg_export_snapshot() returned nothing", 1)
        command = [
            pg_dump,
            "--format=custom",
            "--no-password",
            f"--snapshot={snapshot[0]}",
            f"--file={partial}",
            f"--dbname={source.conninfo()}",
        ]
        # pg_dump reads while this process checksums, both through the exported snapshot,
        # which lives as long as this transaction.
        with subprocess.Popen(
            command, stderr=subprocess.PIPE, text=True, env=source.env()
        ) as dumping:
            try:
                revision = _revision(conn)
                tables = table_checksums(conn, step)
                step("waiting for pg_dump", len(tables), len(tables))
                _, stderr = dumping.communicate()
            finally:
                if dumping.poll() is None:
                    dumping.kill()
        conn.rollback()
        if dumping.returncode != 0:
            raise BackupError(f"pg_dump failed: {_first_error(stderr)}", 1)
        return {
            "format": MANIFEST_FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": source.name,
            "server_version": conn.info.parameter_status("server_version"),
            "pg_dump": pg_dump,
            "revision": revision,
            "tables": tables,
        }


# -- restore and verify --------------------------------------------------------------------------


def _ensure_empty_database(target: Database, maintenance: Database) -> None:
    """Create `target` (from template0) if it does not exist; BackupError if it holds anything."""
    try:
        conn = target.connect()
    except BackupError:
        with maintenance.connect(autocommit=True) as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (target.name,)
            ).fetchone()
            if exists:
                raise
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(target.name))
            )
        conn = target.connect()
    with conn:
        row = conn.execute(FOREIGN_OBJECTS).fetchone()
    if row and row[0]:
        raise BackupError(
            f"refusing to restore into {target.describe()}: it is not empty ({row[0]} relations); "
            "restore into a new or empty database"
        )


def restore(dump: Path, target: Database, maintenance: Database, step: Step) -> list[str]:
    """Restore `dump` into `target` (created through `maintenance` when absent; refused unless
    empty), then compare it with the manifest: the differences, none when it matches."""
    manifest = read_manifest(dump)
    step("checking the dump against its manifest", 0, 1)
    expected = manifest.get("dump", {})
    if _file_sha256(dump) != expected.get("sha256"):
        raise BackupError(f"{dump}: damaged (its SHA-256 differs from the manifest's)", 1)
    _ensure_empty_database(target, maintenance)
    with target.connect() as conn:
        pg_restore = client_program("pg_restore", _server_major(conn))
    step(f"restoring into {target.name}", 0, 1)
    _run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={target.conninfo()}",
            str(dump),
        ],
        target,
        "pg_restore",
    )
    return verify(manifest, target, step)


def verify(manifest: dict[str, Any], target: Database, step: Step) -> list[str]:
    """How `target` differs from `manifest`: its revision, and per table the count and checksum."""
    with target.connect() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        revision = _revision(conn)
        found = table_checksums(conn, step)
        conn.rollback()
    return compare(manifest, revision, found)


def compare(manifest: dict[str, Any], revision: str | None, found: dict[str, Any]) -> list[str]:
    """One line per difference between the manifest and what was found."""
    differences = []
    if manifest.get("revision") != revision:
        differences.append(
            f"schema revision: {manifest.get('revision')} in the backup, {revision} restored"
        )
    expected: dict[str, Any] = manifest["tables"]
    for table in sorted(expected.keys() | found.keys()):
        want, got = expected.get(table), found.get(table)
        if got is None:
            differences.append(f"{table}: in the backup, missing after the restore")
        elif want is None:
            differences.append(f"{table}: restored, but not in the backup")
        elif want["rows"] != got["rows"]:
            differences.append(
                f"{table}: {want['rows']:,} rows in the backup, {got['rows']:,} restored"
            )
        elif want["md5"] != got["md5"]:
            differences.append(
                f"{table}: contents differ with the same {got['rows']:,} rows "
                f"(checksum {want['md5']} in the backup, {got['md5']} restored)"
            )
    return differences


def scratch_name(database: str) -> str:
    """A database name for verifying a backup of `database`, unique to this process."""
    suffix = f"_verify_{os.getpid()}"
    return database[: 63 - len(suffix)] + suffix


@contextmanager
def scratch_database(server: Database, name: str) -> Iterator[Database]:
    """`name` on `server`'s server, dropped (FORCE) on the way out, however it went."""
    try:
        yield server.on(name)
    finally:
        with server.connect(autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def verify_backup(dump: Path, server: Database, step: Step) -> list[str]:
    """Restore `dump` into a scratch database on `server`'s server, compare it with the
    manifest, drop the scratch database; the differences."""
    read_manifest(dump)
    with scratch_database(server, scratch_name(server.name)) as scratch:
        return restore(dump, scratch, server, step)
