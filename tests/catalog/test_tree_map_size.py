"""The map of a tree of 10,000 skills (the benchmark's tree: benchmarks/bench_tree_document.py)
takes at most 1.5 MB raw, where its full document takes about 13 MB."""

from __future__ import annotations

import orjson
from benchmarks.bench_tree_document import LAYERS, tree_rows
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from skilltree.models import Skill
from tests.factories import make_category, make_tree

MAX_MAP_BYTES = 1_500_000
SKILLS = 10_000


def test_the_map_of_10000_skills_is_at_most_1_5_mb(client: TestClient, session: Session) -> None:
    tree = make_tree(session, make_category(session), slug="ten-thousand")
    skills, edges = tree_rows(tree.id, per_layer=SKILLS // LAYERS)
    session.execute(insert(Skill), skills)
    # The edges in one statement (one check of the graph's acyclicity, not 20,000).
    session.execute(
        text(
            "INSERT INTO skill_dependencies (skill_id, depends_on_id, skill_tree_id)"
            " SELECT * FROM unnest(CAST(:skills AS text[]), CAST(:needs AS text[]),"
            " CAST(:trees AS text[]))"
        ),
        {
            "skills": [edge["skill_id"] for edge in edges],
            "needs": [edge["depends_on_id"] for edge in edges],
            "trees": [edge["skill_tree_id"] for edge in edges],
        },
    )
    # As an import leaves them (treefile: analyze_catalog_after_commit): the statistics know the
    # new rows. (Rows inserted behind the import's back leave the planner guessing; under load
    # the first map read then ran past the request's statement timeout.)
    session.execute(text("ANALYZE skills, skill_dependencies"))

    with client.stream(
        "GET", "/api/v1/trees/ten-thousand/map", headers={"Accept-Encoding": "identity"}
    ) as answer:
        assert answer.status_code == 200
        raw = b"".join(answer.iter_raw())
    assert "content-encoding" not in answer.headers
    assert len(raw) <= MAX_MAP_BYTES, f"{len(raw):,} bytes"
    parsed = orjson.loads(raw)
    assert len(parsed["skills"]) == SKILLS
    assert sum(len(row[-1]) for row in parsed["skills"]) == len(edges)  # every edge shown
