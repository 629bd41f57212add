"""Type-ahead: names with a word starting with the typed text, names starting with it first."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.search.conftest import Corpus


def suggest(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search/suggest", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def texts(body: dict[str, Any]) -> list[str]:
    return [suggestion["text"] for suggestion in body["suggestions"]]


def test_completes_word_prefixes_names_starting_with_them_first(
    client: TestClient, corpus: Corpus
) -> None:
    assert texts(suggest(client, "htm")) == ["HTML Forms"]
    assert texts(suggest(client, "COMP")) == ["Vue Components", "Testing Components"]
    assert texts(suggest(client, "re")) == ["React", "React Hooks in Depth"]
    assert texts(suggest(client, "fr")) == ["Frameworks Tour", "Frontend Development"]


def test_a_suggestion_says_what_it_is_and_where(client: TestClient, corpus: Corpus) -> None:
    assert suggest(client, "vue c") == {
        "query": "vue c",
        "suggestions": [
            {
                "text": "Vue Components",
                "type": "skill",
                "id": corpus.skills["vue"].id,
                "treeSlug": "frameworks",
            }
        ],
    }
    (tree,) = suggest(client, "python")["suggestions"]
    assert (tree["type"], tree["id"], tree["treeSlug"]) == (
        "tree",
        corpus.trees["pandas"].id,
        "pandas",
    )


def test_limit_caps_the_list(client: TestClient, corpus: Corpus) -> None:
    assert texts(suggest(client, "re", limit=1)) == ["React"]
    assert texts(suggest(client, "re", limit=2)) == ["React", "React Hooks in Depth"]


def test_names_with_a_later_word_follow_those_starting_with_it(
    client: TestClient, corpus: Corpus
) -> None:
    # "Testing Components" starts with "te"; "Vue Components" and "Testing Components" have
    # a word starting with "comp" (neither starts with it): shorter first.
    assert texts(suggest(client, "te")) == ["Testing Components"]
    assert texts(suggest(client, "comp", limit=1)) == ["Vue Components"]
    # A skill starting with "da", then a tree with a later word starting with it.
    assert texts(suggest(client, "da")) == ["DataFrames", "Python Data Analysis"]
    assert texts(suggest(client, "da", limit=1)) == ["DataFrames"]


def test_completion_starts_at_two_characters(client: TestClient, corpus: Corpus) -> None:
    assert suggest(client, "r") == {"query": "r", "suggestions": []}


def test_words_are_separated_by_white_space(client: TestClient, corpus: Corpus) -> None:
    assert texts(suggest(client, "depth")) == ["React Hooks in Depth"]
    assert texts(suggest(client, "eact")) == []


def test_typed_characters_are_literal(client: TestClient, corpus: Corpus) -> None:
    for q in (".*", "((", "[a-z]", "\\\\", "r.act", "%%", "__", "r%", "r_act"):
        assert texts(suggest(client, q)) == [], q
