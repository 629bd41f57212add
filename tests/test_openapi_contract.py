"""The OpenAPI document is the truth: schemathesis checks every operation of /openapi.json against
the app, anonymous, as a learner and as an author, with all its default checks (every status,
content type, header and body documented and matching its schema; no 5xx; requests that break the
schema refused, requests that keep it not refused as malformed; auth declared as enforced).

The run is bounded and repeatable: schemathesis's coverage phase (boundary and invalid values of
each parameter and field, derived from the schema) then `FUZZ_EXAMPLES` generated requests per
operation and caller, derandomized and drawn from the document alone, so the same document
always sends the same requests, whether this file runs alone or in the whole suite (about 7,900
requests, two to three minutes on two busy cores). Each request runs on the test's database
session and is rolled back after it: none disturbs the next.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.internal.cache import LRUCache
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from skilltree.app import create_app
from skilltree.models import UserRole
from tests.api import api_client
from tests.factories import add_dependency, make_category, make_person, make_skill, make_tree

FUZZ_EXAMPLES = 10
"""Generated requests per operation and caller, after the coverage phase's."""

TREE = "contract-tree"
SKILLS = ("contractskillfirst", "contractskillsecond")
"""The slug and skill ids of the tree the `caller` fixture makes."""

CONFIG = SchemathesisConfig.from_dict(
    {
        # Values come from the document alone, not from literals found in the code (tests
        # included): a change that leaves the document as it is sends the same requests.
        "analysis": {"constants": {"enabled": False}},
        # Half the generated paths name the objects the `caller` fixture makes, so answers
        # about real trees and skills are checked too, not only 404s.
        "dictionaries": {"trees": {"values": [TREE]}, "skills": {"values": list(SKILLS)}},
        "parameters": {
            "path.slug": {"dictionary": "trees", "probability": 0.5},
            "path.skill_id": {"dictionary": "skills", "probability": 0.5},
            "query.to": {"dictionary": "skills", "probability": 0.5},
        },
        "generation": {
            # Every text refuses NUL with 422 (PostgreSQL cannot store it: docs/api.md), a rule
            # the document does not repeat on each string; test_route_walk.py sends NUL
            # everywhere.
            "allow-x00": False,
        },
        "checks": {
            # A request the schema takes may still break a rule of SkillTree the schema cannot
            # say (an unknown category, a JSON document's inner shape, a score under the pass
            # mark): 400 InvalidInput, documented on each such operation; never 422.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
            }
        },
    }
)


class RunningTestApp:
    """The ASGI app schemathesis calls: it passes each request to the app of the running test,
    which serves it on that test's rolled-back session."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "requests are sent only while a test runs"
        await self.app(scope, receive, send)


RUNNING = RunningTestApp()
# The document does not depend on the database: an engine that never connects builds it.
schema = schemathesis.openapi.from_dict(
    create_app(create_engine("postgresql+psycopg://")).openapi(), config=CONFIG
)
schema.app = RUNNING  # as schemathesis.openapi.from_asgi does


@pytest.fixture(params=["anonymous", "learner", "author"])
def caller(request: pytest.FixtureRequest, session: Session) -> dict[str, str]:
    """The headers of the caller (none, a learner's token, an author's token), with a published
    tree of the author's (two skills, one needing the other) in a category."""
    author = make_person(session, UserRole.AUTHOR)
    tree = make_tree(session, make_category(session), created_by=author.id, slug=TREE)
    first, second = (make_skill(session, tree, id=id) for id in SKILLS)
    add_dependency(session, second, first)
    people = {"learner": lambda: make_person(session).headers, "author": lambda: author.headers}
    return people[request.param]() if request.param in people else {}


@pytest.fixture
def no_local_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hypothesis draws 1 string or number in 20 from the literals of the local modules loaded
    so far (skilltree's, benchmarks'), so the requests would change with what a run imports:
    this file alone, the whole suite, a new module anywhere. Without them the document alone
    decides what is sent. (Hypothesis internals: a new version failing here needs a look.)"""
    monkeypatch.setattr(providers, "_get_local_constants", Constants)
    monkeypatch.setattr(providers, "CONSTANTS_CACHE", LRUCache(1024))


@pytest.fixture
def app(engine: Engine, session: Session) -> Iterator[None]:
    """The app schemathesis calls serves this test, on its session."""
    with api_client(engine, session) as client:
        RUNNING.app = client.app
        yield
        RUNNING.app = None


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,  # a loaded machine is not a failure of the API
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),  # they judge generation speed, not the API
)
@pytest.mark.slow
@pytest.mark.usefixtures("no_local_constants", "app")
def test_the_app_keeps_its_openapi_document(
    case: Case, session: Session, caller: dict[str, str]
) -> None:
    request = session.begin_nested()
    try:
        case.call_and_validate(headers=caller)
    finally:
        request.rollback()
