"""Misspelt names are still found, through trigram word similarity, when full text finds
nothing or finds the words only in descriptions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_skill
from tests.search.conftest import Corpus, names, search


def test_misspelt_names_are_found(client: TestClient, corpus: Corpus) -> None:
    for typo, target in (
        ("javscript", "JavaScript Basics"),
        ("reakt", "React"),
        ("Reac hooks", "React Hooks in Depth"),
        ("datafames", "DataFrames"),
        ("fronted development", "Frontend Development"),
    ):
        body = search(client, typo)
        assert names(body)[0] == target, typo
        assert body["items"][0]["matchedBy"] == "similarity"


def test_similar_names_come_before_description_only_hits(
    client: TestClient, session: Session, corpus: Corpus
) -> None:
    make_skill(
        session,
        corpus.trees["frontend"],
        name="Common Mistakes",
        description="Writing javscript instead of JavaScript.",
    )
    body = search(client, "javscript")
    assert [(item["name"], item["matchedBy"]) for item in body["items"]] == [
        ("JavaScript Basics", "similarity"),
        ("Common Mistakes", "fulltext"),
    ]
    assert body["total"] == 2
    assert [names(search(client, "javscript", pageSize=1, page=n)) for n in (1, 2, 3)] == [
        ["JavaScript Basics"],
        ["Common Mistakes"],
        [],
    ]


def test_a_strong_match_adds_no_similar_names(client: TestClient, corpus: Corpus) -> None:
    body = search(client, "javascript")
    assert {item["matchedBy"] for item in body["items"]} == {"fulltext"}
    assert "JSX Syntax" not in names(body)


def test_similarity_respects_filters_and_visibility(client: TestClient, corpus: Corpus) -> None:
    assert names(search(client, "reakt", type="tree")) == []
    assert "Secret React Patterns" not in names(search(client, "reakt"))
    assert "React Class Components" not in names(search(client, "reakt"))
    assert names(search(client, "reakt", corpus.author, type="tree")) == ["Secret React Patterns"]


def test_unrelated_text_finds_nothing(client: TestClient, corpus: Corpus) -> None:
    assert search(client, "zzqxv")["total"] == 0
