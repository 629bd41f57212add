"""The progress engine runs on PostgreSQL's default plans, in PL/pgSQL throughout (issue 12, and
issue 18's blocker 7: Citus runs no distributed function with a `plan_cache_mode` setting, no
SQL-language helper that takes parameters, no `CASE p_kind WHEN ...`)."""

from __future__ import annotations

import re

from sqlalchemy import Engine, text

ENTRY_POINTS = ("progress_skill_event", "progress_enrol", "refresh_tree_enrolments")
"""What the API and the other domains call to make progress (hold_tree_learners calls nothing)."""

HELPERS = (
    "progress_lock_profile",
    "progress_skill_state",
    "progress_missing_prerequisites",
    "progress_enrol_learner",
    "progress_unlock",
    "progress_unlock_enrolled",
    "refresh_enrolments",
    "progress_finish",
    "progress_tree_requirements_met",
    "achievement_measure",
    "level_for_xp",
    "learner_skills_in_category",
    "streak_after_activity",
    "learner_local_day",
    "learner_difficulty",
    "content_time_logged",
    "content_has_modules",
    "content_verified_seconds",
    "new_row_id",
)
"""Some of what the walk below must reach, so that it cannot pass by finding nothing."""

FUNCTIONS = """
SELECT p.proname, l.lanname, p.pronargs, p.prosrc
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE n.nspname = 'public' AND p.prokind = 'f'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""


def _without_comments(source: str) -> str:
    return re.sub(r"--[^\n]*", "", source)


def _engine(engine: Engine) -> dict[str, list[tuple[str, int, str]]]:
    """Every function the entry points call, directly or not: name -> its overloads
    (language, number of arguments, source without comments)."""
    functions: dict[str, list[tuple[str, int, str]]] = {}
    with engine.connect() as connection:
        for name, language, arguments, source in connection.execute(text(FUNCTIONS)):
            functions.setdefault(name, []).append((language, arguments, _without_comments(source)))
    call = re.compile(r"\b(" + "|".join(map(re.escape, functions)) + r")\s*\(")
    reached: dict[str, list[tuple[str, int, str]]] = {}
    todo = list(ENTRY_POINTS)
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached[name] = functions[name]
        for _, _, source in functions[name]:
            todo += [m.group(1) for m in call.finditer(source)]
    return reached


def test_no_function_has_a_plan_cache_mode(migrated: Engine) -> None:
    with migrated.connect() as connection:
        found = connection.scalars(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p"
                " JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND EXISTS (SELECT FROM unnest(p.proconfig) c"
                "             WHERE c ILIKE 'plan_cache_mode=%')"
            )
        ).all()
        settings = connection.scalar(
            text("SELECT count(*) FROM pg_proc WHERE proconfig IS NOT NULL")
        )
    assert settings, "some functions have settings (search_path): the query reads proconfig"
    assert found == []


def test_the_engine_calls_no_sql_function_with_parameters(migrated: Engine) -> None:
    reached = _engine(migrated)
    assert set(HELPERS) <= set(reached), sorted(set(HELPERS) - set(reached))
    sql_with_parameters = sorted(
        name
        for name, overloads in reached.items()
        for language, arguments, _ in overloads
        if language == "sql" and arguments > 0
    )
    assert sql_with_parameters == []
    assert "progress_held_back" not in reached


def test_the_engine_branches_on_the_event_kind_with_if(migrated: Engine) -> None:
    reached = _engine(migrated)
    case_on_kind = re.compile(r"\bCASE\s+p_kind\b", re.IGNORECASE)
    found = sorted(
        name
        for name, overloads in reached.items()
        for _, _, source in overloads
        if case_on_kind.search(source)
    )
    assert found == []
    # The walk reads the sources it checks: the event's kind is there.
    assert any("p_kind" in source for _, _, source in reached["progress_skill_event"])
