"""Search statements are planned for their own text, even once psycopg prepares them: a generic
plan ranks every row of a common word (10 to 50 times slower; benchmarks/bench_search.py)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.schemas import PageParams
from skilltree.search import service
from tests.search.conftest import Corpus


def test_search_and_suggest_force_custom_plans(session: Session, corpus: Corpus) -> None:
    scope = service.scope_for(None)
    for run in range(12):  # past psycopg's prepare threshold and the server's five custom plans
        found = service.search(session, "react", scope, PageParams(1, 20))
        assert found.total == 6, run
        assert service.suggest(session, "rea", scope, limit=10).suggestions
    assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
