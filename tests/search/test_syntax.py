"""Web-search syntax: quoted phrases, `-word` exclusions, `or` alternatives."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.search.conftest import Corpus, names, search


def test_a_quoted_phrase_needs_its_words_in_order(client: TestClient, corpus: Corpus) -> None:
    assert names(search(client, '"react hooks"')) == ["React Hooks in Depth"]
    assert search(client, '"hooks react"')["items"][0]["matchedBy"] != "fulltext"


def test_all_words_must_match_without_or(client: TestClient, corpus: Corpus) -> None:
    assert names(search(client, "react depth")) == ["React Hooks in Depth"]


def test_a_minus_word_excludes(client: TestClient, corpus: Corpus) -> None:
    found = names(search(client, "react -hooks"))
    assert "React Hooks in Depth" not in found
    assert found[0] == "React"  # ranked by the words looked for, not the excluded one


def test_or_takes_either_word(client: TestClient, corpus: Corpus) -> None:
    assert set(names(search(client, "jsx or dataframes"))) == {"JSX Syntax", "DataFrames"}


def test_only_exclusions_find_nothing(client: TestClient, corpus: Corpus) -> None:
    assert search(client, "-react") == {
        "query": "-react",
        "page": 1,
        "pageSize": 20,
        "total": 0,
        "items": [],
    }


def test_punctuation_and_sql_are_plain_text(client: TestClient, corpus: Corpus) -> None:
    for q in ("'; DROP TABLE skills; --", "react & | ! ( ) : *", "%_\\", '"', "a''b"):
        body = search(client, q)
        assert body["query"] == q
    assert names(search(client, "react:*"))[0] == "React"
