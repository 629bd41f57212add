"""Search documents follow every write (ORM, SQL, tree-file import) and are rebuilt in another
text-search configuration by `reindex`."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.errors import InvalidInput
from skilltree.models import Skill, SkillTree
from skilltree.search import service
from skilltree.treefile import service as treefile
from tests.factories import Person, make_category
from tests.search.conftest import Corpus, names, search
from tests.treefile.sample import skill, tree_file


def fulltext_names(client: TestClient, q: str, searcher: Person | None = None) -> list[str]:
    """The names full text finds for `q` (leaving out similar names)."""
    items = search(client, q, searcher)["items"]
    return [item["name"] for item in items if item["matchedBy"] == "fulltext"]


def test_documents_follow_edits(client: TestClient, session: Session, corpus: Corpus) -> None:
    dataframes = corpus.skills["dataframes"]
    dataframes.learning_objectives = ["Pivot a spreadsheet"]
    corpus.trees["pandas"].tags = ["python", "spreadsheets"]
    session.flush()
    assert names(search(client, "spreadsheet")) == ["Python Data Analysis", "DataFrames"]
    session.execute(
        text("UPDATE skills SET name = 'Spreadsheet Basics' WHERE id = :id"), {"id": dataframes.id}
    )
    assert names(search(client, "spreadsheet"))[0] == "Spreadsheet Basics"


def test_imported_trees_are_searchable(client: TestClient, session: Session) -> None:
    make_category(session, slug="web-dev", name="Web development")
    document = tree_file(
        [
            skill("flexbox", name="Flexbox Layout", learningObjectives=["Align items"]),
            skill("grid", "flexbox", name="Grid Layout", shortName="CSS Grid"),
        ],
        tags=["layout"],
    )
    treefile.import_tree(session, json.dumps(document), author=None, publish=True)
    assert names(search(client, "layout")) == ["Grid Layout", "Flexbox Layout", "Frontend"]
    assert names(search(client, "grid", type="skill")) == ["Grid Layout"]
    assert names(search(client, "align")) == ["Flexbox Layout"]


def test_reindex_rebuilds_documents_in_the_new_configuration(
    client: TestClient, session: Session, corpus: Corpus
) -> None:
    before = session.scalars(select(Skill.updated_at).order_by(Skill.id)).all()
    assert service.current_config(session) == "english"
    # English stems "components" to "compon"; the simple configuration keeps words as they are.
    assert "Vue Components" in fulltext_names(client, "component")
    assert service.reindex(session, "simple") == (12, 4)
    assert service.current_config(session) == "simple"
    assert fulltext_names(client, "component") == ["Frameworks Tour"]  # "component frameworks"
    assert "Vue Components" in fulltext_names(client, "components")
    # New rows are written in the new configuration too.
    category = corpus.trees["pandas"].category_id
    session.add(SkillTree(category_id=category, slug="x", name="Running Water", is_published=True))
    session.flush()
    assert fulltext_names(client, "run") == []
    assert fulltext_names(client, "running") == ["Running Water"]
    assert session.scalars(select(Skill.updated_at).order_by(Skill.id)).all() == before


def test_reindex_refuses_an_unknown_configuration(session: Session) -> None:
    with pytest.raises(InvalidInput, match="klingon"):
        service.reindex(session, "klingon")
    assert service.current_config(session) == "english"
