"""No answer key or explanation reaches a learner before they submit: banks are authored with
marker strings, and every response a learner (or anyone signed out) can get is scanned."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.routing import Mount

from tests.assessments.conftest import EXPLAIN_MARK, KEY_MARK, RIGHT, Quiz
from tests.assessments.test_attempts import ready
from tests.factories import Person

MARKS = (KEY_MARK.lower(), EXPLAIN_MARK.lower())
AUTHORS_ONLY = {"/api/v1/skills/{skill_id}/question-bank"}
"""The author's own view of a bank (refused to learners: checked as well)."""


def leaks(response_text: str) -> list[str]:
    found = response_text.lower()
    return [mark for mark in MARKS if mark in found]


def test_no_response_a_learner_can_get_holds_a_key_or_an_explanation(
    client: TestClient, quiz: Quiz, learner: Person, session: Session
) -> None:
    ready(client, quiz, learner)
    # Content modules, an assessment module among them (issue 14, part 4): shown to learners,
    # never with anything of the bank.
    quiz.skill.content = {
        "type": "structured",
        "modules": [
            {"title": "Read", "type": "article", "estimatedMinutes": 5, "resources": []},
            {"title": "Check", "type": "assessment", "estimatedMinutes": 5, "resources": []},
        ],
    }
    session.flush()
    attempt = quiz.start(client, learner).json()
    known = {
        "slug": quiz.tree.slug,
        "skill_id": quiz.skill.id,
        "attempt_id": attempt["id"],
        "tree_id": quiz.tree.id,
        "id": quiz.skill.id,
        "username": learner.user.username,
        "user_id": learner.id,
        "module_id": "2",
    }
    scanned: dict[str, str] = {}
    app = client.app
    for route in iter_route_contexts(app.routes):  # type: ignore[attr-defined]
        if isinstance(route.original_route, Mount) or "GET" not in (route.methods or set()):
            continue
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: known.get(m.group(1), "x"), route.path or "")
        for who in (learner.headers, {}):
            got = client.get(path, headers=who)
            scanned[f"GET {path} {bool(who)}"] = got.text
    # What a learner may ask for with a body or a query, and the errors they can provoke.
    for method, path, body in (
        ("GET", f"/api/v1/search?q={quiz.skill.name}", None),
        ("GET", "/api/v1/search?q=hypertext", None),
        ("GET", "/api/v1/search/suggest?q=hyper", None),
        ("GET", f"/api/v1/trees/{quiz.tree.slug}/export", None),
        ("GET", f"/api/v1/trees/{quiz.tree.slug}?include=progress", None),
        ("POST", f"/api/v1/skills/{quiz.skill.id}/attempts", None),
        ("POST", f"/api/v1/skills/{quiz.skill.id}/complete", {"method": "ASSESSMENT", "score": 1}),
        ("POST", f"/api/v1/skills/{quiz.skill.id}/complete", {}),
        ("POST", f"/api/v1/attempts/{attempt['id']}/submit", {"answers": {"single": {"x": 1}}}),
        ("POST", f"/api/v1/attempts/{attempt['id']}/submit", {"answers": [1]}),
        ("PUT", f"/api/v1/skills/{quiz.skill.id}/question-bank", {"questions": []}),
        ("GET", f"/api/v1/attempts/{attempt['id']}", None),
        ("POST", f"/api/v1/skills/{quiz.skill.id}/modules/2/heartbeat", None),
        ("POST", f"/api/v1/skills/{quiz.skill.id}/modules/2/done", None),
        ("POST", f"/api/v1/skills/{quiz.skill.id}/modules/3/heartbeat", None),
    ):
        got = client.request(method, path, json=body, headers=learner.headers)
        scanned[f"{method} {path} {body}"] = got.text
    assert len(scanned) > 40
    leaked = {where: leaks(text) for where, text in scanned.items() if leaks(text)}
    assert leaked == {}
    # The scan can see a leak: after the submit, the explanations are the learner's.
    graded = client.post(
        f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": RIGHT}, headers=learner.headers
    )
    assert EXPLAIN_MARK.lower() in leaks(graded.text)
    assert KEY_MARK.lower() not in leaks(graded.text)
    # The author's own view holds the keys (the markers are really in the bank).
    mine = client.get(f"/api/v1/skills/{quiz.skill.id}/question-bank", headers=quiz.author.headers)
    assert set(leaks(mine.text)) == set(MARKS)
