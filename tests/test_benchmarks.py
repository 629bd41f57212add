"""The benchmarks are not run by the test suite (they take minutes), but every one of them must
at least import: a renamed helper would otherwise only show up at the next `make bench`."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import shutil
from pathlib import Path
from typing import Any

import benchmarks
import pytest
from benchmarks import bench_prisma
from sqlalchemy import Enum

from skilltree.models import Base

MODULES = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name != "__main__")


def test_there_are_benchmarks() -> None:
    assert {"bench_tree_document", "bench_progress", "bench_search"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    if name.startswith("bench_"):
        assert callable(module.main)


# The Prisma comparison (issue 16 part 7): its Node harness is only run by `make bench`, so its
# files are checked here without Node: pins, lock, and the schema against our tables.

PRISMA_FIELD = re.compile(r"^\s*(\w+)\s+(\w+)(\[\])?(\?)?(.*)$")


def prisma_blocks(kind: str) -> dict[str, list[str]]:
    """The `kind` blocks (model, enum) of the harness's schema.prisma: name -> body lines, with
    comments and blank lines left out."""
    text = (bench_prisma.HARNESS / "prisma" / "schema.prisma").read_text("utf-8")
    blocks = re.findall(rf"^{kind} (\w+) \{{\n(.*?)^\}}", text, re.MULTILINE | re.DOTALL)
    return {
        name: [ln for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("//")]
        for name, body in blocks
    }


def test_prisma_harness_files_exist_and_its_cache_is_ignored() -> None:
    for name in bench_prisma.HARNESS_FILES:
        assert (bench_prisma.HARNESS / name).is_file(), name
    ignored = (bench_prisma.HARNESS / ".gitignore").read_text("utf-8").split()
    assert bench_prisma.CACHE.relative_to(bench_prisma.HARNESS).as_posix() + "/" in ignored
    assert {"node_modules/", "generated/"} <= set(ignored)
    assert os.access(bench_prisma.HARNESS / "bin" / "schema-engine-offline-stub", os.X_OK)


def test_prisma_harness_pins_exact_versions_and_the_lock_agrees() -> None:
    package = json.loads((bench_prisma.HARNESS / "package.json").read_text("utf-8"))
    lock = json.loads((bench_prisma.HARNESS / "package-lock.json").read_text("utf-8"))
    pins = package["dependencies"]
    assert set(bench_prisma.PINNED) <= set(pins)
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version), (name, version)
        locked = lock["packages"][f"node_modules/{name}"]
        assert locked["version"] == version, name
        assert locked["integrity"].startswith("sha512-"), name
    assert lock["lockfileVersion"] == 3
    assert lock["packages"][""]["dependencies"] == pins
    assert lock["name"] == package["name"]
    # The client and its generator are one release.
    assert pins["@prisma/client"] == pins["prisma"] == pins["@prisma/adapter-pg"]
    # Every package the lock holds is pinned by integrity (npm ci refuses anything else).
    assert all("integrity" in entry for path, entry in lock["packages"].items() if path)


def test_prisma_schema_maps_every_field_onto_our_tables() -> None:
    models = prisma_blocks("model")
    enums = {name: [ln.split()[0] for ln in body] for name, body in prisma_blocks("enum").items()}
    tables = Base.metadata.tables
    assert {"Skill", "SkillTree", "UserSkillProgress", "UserSkillTreeProgress"} <= set(models)
    for model, body in models.items():
        (table_name,) = [m for ln in body for m in re.findall(r'^\s*@@map\("(\w+)"\)', ln)]
        table = tables[table_name]
        for line in body:
            found = PRISMA_FIELD.match(line)
            if line.strip().startswith("@@") or found is None:
                continue
            field, kind, _, _, attributes = found.groups()
            if kind in models:  # a relation: its foreign key is a field of its own
                continue
            mapped = re.search(r'@map\("(\w+)"\)', attributes)
            column = table.c[mapped.group(1) if mapped else field]
            assert column.nullable == ("?" in line.split()[1]), (model, field)
            if kind in enums:
                assert isinstance(column.type, Enum), (model, field)
                assert (column.type.name, column.type.enums) == (kind, enums[kind]), (model, field)
    # The spec's arrays of ids are our edge tables (docs/spec-deviations.md, 1 and 3).
    assert any("SkillDependency[]" in ln for ln in models["Skill"])
    assert any("SkillTreePrerequisite[]" in ln for ln in models["SkillTree"])


def test_the_prisma_driver_knows_the_harness_commands_and_runs_with_make_bench() -> None:
    script = (bench_prisma.HARNESS / "tree_query.mjs").read_text("utf-8")
    for variant in bench_prisma.VARIANTS.values():
        assert f"  {variant}: " in script, variant
    for command in ("connect", "check", "info", "run", "quit"):
        assert f"case '{command}':" in script, command
    main = Path(benchmarks.__file__).with_name("__main__.py").read_text("utf-8")
    assert "bench_prisma.main()" in main


def test_the_prisma_comparison_is_skipped_without_node(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("benchmarks.bench_prisma.shutil.which", lambda name: None)
    monkeypatch.setattr(bench_prisma, "prepare_harness", lambda: pytest.fail("ran without node"))
    bench_prisma.main()
    assert "skipped" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://postgres@/skilltree?host=/tmp/pg-socket",
            {"database": "skilltree", "user": "postgres", "host": "/tmp/pg-socket"},
        ),
        (
            "postgresql+psycopg://bench:secret@127.0.0.1:5433/skilltree",
            {
                "database": "skilltree",
                "user": "bench",
                "host": "127.0.0.1",
                "port": 5433,
                "password": "secret",
            },
        ),
    ],
)
def test_node_gets_the_benchmark_database_connection(url: str, expected: dict[str, object]) -> None:
    assert bench_prisma.node_connection(url) == expected


def test_the_harness_is_installed_and_generated_again_only_when_its_files_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = tmp_path / "prisma"
    shutil.copytree(
        bench_prisma.HARNESS,
        harness,
        ignore=shutil.ignore_patterns(".cache", "node_modules", "generated"),
    )
    monkeypatch.setattr(bench_prisma, "HARNESS", harness)
    monkeypatch.setattr(bench_prisma, "CACHE", harness / ".cache")
    ran: list[str] = []

    def run(command: list[str], **options: Any) -> None:
        assert options["cwd"] == harness / ".cache"
        assert Path(options["env"]["PRISMA_SCHEMA_ENGINE_BINARY"]).is_file()
        ran.append(command[1])

    monkeypatch.setattr("benchmarks.bench_prisma.subprocess.run", run)
    assert bench_prisma.prepare_harness() == harness / ".cache"
    assert ran == ["ci", "generate"]
    for name in bench_prisma.HARNESS_FILES:
        assert (harness / ".cache" / name).read_bytes() == (harness / name).read_bytes()
    bench_prisma.prepare_harness()
    assert ran == ["ci", "generate"]
    schema = harness / "prisma" / "schema.prisma"
    schema.write_text(schema.read_text("utf-8") + "\n", "utf-8")
    bench_prisma.prepare_harness()
    assert ran == ["ci", "generate", "generate"]
    lock = harness / "package-lock.json"
    lock.write_text(lock.read_text("utf-8") + "\n", "utf-8")
    bench_prisma.prepare_harness()
    assert ran == ["ci", "generate", "generate", "ci", "generate"]
