"""Ranking: a word in the name counts most, then in the short name or tags, then in the
description or learning objectives; filters, pagination and the answer's shape."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.search.conftest import Corpus, names, search


def test_name_beats_short_name_and_tags_which_beat_description_and_objectives(
    client: TestClient, corpus: Corpus
) -> None:
    body = search(client, "react")
    assert names(body) == [
        "React",  # name (shorter names first among equals)
        "React Hooks in Depth",  # name
        "JSX Syntax",  # short name "React JSX"
        "Frameworks Tour",  # tree tagged react
        "State Management",  # description
        "Testing Components",  # learning objective
    ]
    assert body["total"] == 6
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert {item["matchedBy"] for item in body["items"]} == {"fulltext"}


def test_stemming_finds_other_forms_of_a_word(client: TestClient, corpus: Corpus) -> None:
    assert names(search(client, "component")) == [
        "Vue Components",
        "Testing Components",
        "React",
        "Frameworks Tour",
        "State Management",
    ]


def test_items_carry_their_tree_category_tags_and_a_marked_snippet(
    client: TestClient, corpus: Corpus
) -> None:
    (item,) = search(client, "share state", type="skill")["items"]
    assert item == {
        "type": "skill",
        "id": corpus.skills["state"].id,
        "name": "State Management",
        "treeSlug": "frontend",
        "treeName": "Frontend Development",
        "difficulty": "BEGINNER",
        "category": "web",
        "tags": ["javascript", "css"],
        "snippet": [
            {"text": "Share", "match": True},
            {"text": " ", "match": False},
            {"text": "state", "match": True},
            {"text": " between React components.", "match": False},
        ],
        "score": item["score"],
        "matchedBy": "fulltext",
    }


def test_a_tree_item_names_itself_as_its_tree(client: TestClient, corpus: Corpus) -> None:
    (item,) = search(client, "pandas")["items"]
    assert (item["type"], item["id"], item["treeSlug"], item["treeName"]) == (
        "tree",
        corpus.trees["pandas"].id,
        "pandas",
        "Python Data Analysis",
    )
    assert item["snippet"][0] == {"text": "Tables with ", "match": False}
    assert item["snippet"][1] == {"text": "pandas", "match": True}


def test_filters_narrow_the_hits(client: TestClient, corpus: Corpus) -> None:
    assert names(search(client, "react", type="tree")) == ["Frameworks Tour"]
    assert "Frameworks Tour" not in names(search(client, "react", type="skill"))
    assert names(search(client, "react", difficulty="ADVANCED")) == ["React Hooks in Depth"]
    assert names(search(client, "react", tag="react")) == ["Frameworks Tour"]
    assert names(search(client, "table or components", category="data")) == [
        "DataFrames",  # equal scores (descriptions): the shorter name first
        "Python Data Analysis",
    ]
    assert search(client, "react", category="no-such-category")["total"] == 0


def test_pages_split_the_ranked_hits(client: TestClient, corpus: Corpus) -> None:
    everything = names(search(client, "react"))
    pages = [search(client, "react", page=n, pageSize=4) for n in (1, 2, 3)]
    assert [body["total"] for body in pages] == [6, 6, 6]
    assert [names(body) for body in pages] == [everything[:4], everything[4:], []]
    assert (pages[1]["page"], pages[1]["pageSize"], pages[1]["query"]) == (2, 4, "react")
