"""`skilltree tree import|export` against a fresh, migrated and seeded database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skilltree.cli import app
from tests import databases
from tests.treefile.sample import canonical_file, encode, skill, tree_file

runner = CliRunner()


@pytest.fixture(scope="module")
def seeded_database() -> Iterator[str]:
    """A fresh database (migrated, spec seed loaded), the CLI pointed at it for this module."""
    name = databases.test_database_name("treefile_cli")
    url = databases.create_database(name)
    with pytest.MonkeyPatch.context() as patch:
        databases.forget_engine()
        patch.setenv("DATABASE_URL", url)
        for command in (["db", "upgrade"], ["db", "seed"]):
            result = runner.invoke(app, command)
            assert result.exit_code == 0, result.output
        yield url
        databases.forget_engine()
    databases.drop_database(name)


def sample(slug: str) -> dict[str, object]:
    """The canonical sample, in the seed's category, under `slug`."""
    document = canonical_file()
    document["tree"] |= {"slug": slug, "category": "web-development"}
    return document


def test_import_then_export_round_trips(seeded_database: str, tmp_path: Path) -> None:
    source = tmp_path / "tree.json"
    source.write_bytes(encode(sample("cli-tree")))
    imported = runner.invoke(app, ["tree", "import", str(source), "--publish"])
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == (
        "created tree cli-tree (published): 6 skills created, 0 updated, 0 unchanged, "
        "0 removed; 5 dependencies\n"
    )
    exported = runner.invoke(app, ["tree", "export", "cli-tree"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout) == sample("cli-tree")

    target = tmp_path / "out.json"
    written = runner.invoke(app, ["tree", "export", "cli-tree", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text() == exported.stdout
    again = runner.invoke(app, ["tree", "import", str(target)])
    assert again.exit_code == 0, again.output
    assert "updated tree cli-tree (published): 0 skills created, 0 updated, 6 unchanged" in (
        again.stdout
    )


def test_import_as_an_author(seeded_database: str, tmp_path: Path) -> None:
    source = tmp_path / "tree.json"
    source.write_bytes(encode(sample("authored-tree")))
    unknown = runner.invoke(app, ["tree", "import", str(source), "--author", "no@example.com"])
    assert unknown.exit_code == 1
    assert "No user has the email 'no@example.com'." in unknown.stderr
    authored = runner.invoke(app, ["tree", "import", str(source), "--author", "TEST@skilltree.dev"])
    assert authored.exit_code == 0, authored.output


def test_an_invalid_file_lists_every_problem_and_writes_nothing(
    seeded_database: str, tmp_path: Path
) -> None:
    source = tmp_path / "broken.json"
    document = tree_file(
        [skill("a", "b"), skill("a")], slug="broken-tree", category="web-development"
    )
    source.write_bytes(encode(document))
    result = runner.invoke(app, ["tree", "import", str(source)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'{source}: skills[1].key: duplicate key "a" (first at skills[0])',
        f'{source}: skills[0].dependencies[0]: unknown key "b"',
        f"error: {source}: 2 problems, nothing imported",
    ]
    missing = runner.invoke(app, ["tree", "export", "broken-tree"])
    assert missing.exit_code == 1
    assert "No skill tree you can export has the slug 'broken-tree'." in missing.stderr


def test_malformed_and_missing_files(seeded_database: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"format": ')
    malformed = runner.invoke(app, ["tree", "import", str(source)])
    assert malformed.exit_code == 1
    assert "not valid JSON: Expecting value at line 1 column 12" in malformed.stderr
    absent = runner.invoke(app, ["tree", "import", str(tmp_path / "absent.json")])
    assert absent.exit_code == 1
    assert "cannot read" in absent.stderr


def test_text_the_database_cannot_store_is_a_problem_not_a_traceback(
    seeded_database: str, tmp_path: Path
) -> None:
    source = tmp_path / "surrogate.json"
    document = tree_file([skill("a")], slug="surrogate-tree", category="web-development")
    document["tree"]["name"] = "Tree \ud800"
    document["skills"][0]["name"] = "A\x00"
    source.write_text(json.dumps(document))  # ASCII: the surrogate and NUL as \u escapes
    result = runner.invoke(app, ["tree", "import", str(source)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        f"{source}: tree.name: must be valid Unicode (a lone surrogate cannot be stored)",
        f"{source}: skills[0].name: must not contain NUL characters",
        f"error: {source}: 2 problems, nothing imported",
    ]
