"""`skilltree analytics tree SLUG` prints the funnel; `skilltree analytics fold` folds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from skilltree.cli import app
from skilltree.models import SkillTree
from tests import databases
from tests.analytics.conftest import Kind, add_event, at, drop_committed
from tests.factories import make_category, make_skill, make_tree, make_user

runner = CliRunner()


@pytest.fixture
def committed_tree(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[SkillTree]:
    """A committed tree `cli-funnel`: 2 learners unlocked Basics, one completed it; the CLI is
    pointed at the test database. Deleted afterwards."""
    with Session(engine, expire_on_commit=False) as setup:
        category = make_category(setup)
        tree = make_tree(setup, category, slug="cli-funnel", name="CLI tree")
        basics = make_skill(setup, tree, key="basics", name="Basics")
        learners = [make_user(setup) for _ in range(2)]
        for learner in learners:
            add_event(setup, learner, Kind.UNLOCK, at(1, 9), skill=basics)
        add_event(setup, learners[0], Kind.COMPLETE, at(1, 10), skill=basics)
        setup.commit()
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    yield tree
    databases.forget_engine()
    drop_committed(engine, learners, tree, category)


def test_tree_prints_the_funnel_as_a_table(committed_tree: SkillTree) -> None:
    result = runner.invoke(app, ["analytics", "tree", "cli-funnel"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "CLI tree (cli-funnel): 0 enrolled" in result.output
    row = next(line for line in result.output.splitlines() if "Basics" in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]] == [
        "Basics", "basics", "2", "0", "1", "0"
    ]  # fmt: skip


def test_tree_of_an_unknown_slug_fails_in_one_line(committed_tree: SkillTree) -> None:
    result = runner.invoke(app, ["analytics", "tree", "no-such-tree"])
    assert result.exit_code == 1
    assert "no skill tree has the slug 'no-such-tree'" in result.output


def test_fold_says_how_far_it_folded(committed_tree: SkillTree) -> None:
    result = runner.invoke(app, ["analytics", "fold"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("folded ")
    again = runner.invoke(app, ["analytics", "fold"])
    assert again.output.startswith("folded 0 events")
