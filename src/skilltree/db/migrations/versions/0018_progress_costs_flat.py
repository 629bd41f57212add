"""progress: no per-event cost that grows with the learner's progress

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

Three statements of every completion read every skill the learner had done before, so a completion
cost more the further the learner was (measured 250 skills into a 1,000-skill tree: 1.8 ms, 0.1 ms
and 2 x 0.02 ms of a 3.2 ms call; docs/progress.md):

- `progress_tree_requirements_met` (did the learner finish the tree?) walked the tree's required
  skills in stored order looking for one not done, and learners do them in much that order. A
  learner who has not finished a tree almost always has a required skill unlocked and not
  finished, a row of theirs: it now looks among the learner's open rows first (index on
  user_id, status) and walks the tree only when there is none (near the end, or when only
  optional skills are unlocked), as before.
- The profile's `skills_completed` was a count of the learner's COMPLETED rows, and so was the
  measure of every `skills_in_category` achievement not yet earned (`learner_skills_in_category`,
  over the learner's completed rows of every category). Both are now sums of the learner's
  enrolments' `skills_completed` (of the category's trees), which every event moves one step and
  every tree change recounts: one row per tree, not one per skill. Completions of skills made
  inactive no longer count in either (as in the enrolments, and every other figure).
  `refresh_tree_enrolments` recounts the profile's for the learners of a changed tree, as it did
  `trees_completed`, and now locks those learners' profiles first, in the order progress events
  do: a recount racing an event could write over the event's step (the enrolment's count was
  only ever stepped since, so the error would stay), and the two could deadlock. Every existing
  profile is recounted the new way (and the old way on the way down).

`progress_finish` is 0014's with that statement replaced, `progress_unlock_enrolled` 0014's for
the learners it is given (the texts are taken from 0014, which stays frozen; the downgrade
restores its definitions).
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUIREMENTS_MET = r"""
CREATE OR REPLACE FUNCTION progress_tree_requirements_met(p_user text, p_tree text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- Every required (not optional) active skill of the tree is completed or skipped.
    -- First the learner's open rows (index on user_id, status; the tree is checked on the
    -- skill, so that no plan walks the learner's rows of the tree instead): a required skill
    -- unlocked and not finished answers no at once, however much the learner has done.
    IF EXISTS (
        SELECT FROM user_skill_progress r
        JOIN skills a ON a.id = r.skill_id
        WHERE r.user_id = p_user AND r.status IN ('LOCKED', 'AVAILABLE', 'IN_PROGRESS')
          AND a.skill_tree_id = p_tree AND a.is_active AND NOT a.is_optional) THEN
        RETURN false;
    END IF;
    -- Otherwise every required active skill must have its finished row (a skill still locked
    -- has none).
    RETURN NOT EXISTS (
        SELECT FROM skills a
        WHERE a.skill_tree_id = p_tree AND a.is_active AND NOT a.is_optional
          AND NOT EXISTS (
              SELECT FROM user_skill_progress r
              WHERE r.user_id = p_user AND r.skill_id = a.id
                AND r.status IN ('COMPLETED', 'SKIPPED')));
END
$$;
"""

SKILLS_IN_CATEGORY = r"""
CREATE OR REPLACE FUNCTION learner_skills_in_category(p_user text, p_category text)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- The learner's completed active skills in the trees of the category with slug
    -- p_category: their enrolments' counts, one row per tree of theirs.
    RETURN (
        SELECT coalesce(sum(e.skills_completed), 0) FROM user_skill_tree_progress e
        JOIN skill_trees t ON t.id = e.skill_tree_id
        JOIN skill_categories c ON c.id = t.category_id
        WHERE e.user_id = p_user AND c.slug = p_category);
END
$$;
"""

# progress_finish: the profile's counters from the enrolments alone.
FINISH_COUNTS_0014 = """
        SELECT count(*) INTO prof.skills_completed FROM user_skill_progress
        WHERE user_id = p_user AND status = 'COMPLETED';
        SELECT count(*) FILTER (WHERE status = 'COMPLETED'),
               count(*) FILTER (WHERE status <> 'NOT_STARTED'),
               coalesce(sum(cardinality(milestones_reached)), 0)
        INTO prof.trees_completed, prof.trees_started, milestones
        FROM user_skill_tree_progress WHERE user_id = p_user;
"""
FINISH_COUNTS = """
        -- One row per enrolment, each kept exact (this event moved its tree's row above).
        SELECT coalesce(sum(skills_completed), 0),
               count(*) FILTER (WHERE status = 'COMPLETED'),
               count(*) FILTER (WHERE status <> 'NOT_STARTED'),
               coalesce(sum(cardinality(milestones_reached)), 0)
        INTO prof.skills_completed, prof.trees_completed, prof.trees_started, milestones
        FROM user_skill_tree_progress WHERE user_id = p_user;
"""
REFRESH = r"""
CREATE OR REPLACE FUNCTION refresh_tree_enrolments(p_tree text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    users text[];
BEGIN
    -- The tree's learners' profiles first, in id order, as every progress event locks its
    -- learner's profile before anything else (progress_lock_learner): none of their events runs
    -- meanwhile, and every step below, a later statement with a later view of the data, sees
    -- every event of theirs that committed before and works on those learners only. (A recount
    -- racing an event could otherwise write over the event's step, and the profile's counters,
    -- sums of the enrolments', would keep the error; and the two could deadlock.) A learner who
    -- enrols meanwhile is counted by their own enrolment.
    users := ARRAY(
        SELECT p.user_id FROM user_profiles p
        WHERE p.user_id IN (
            SELECT user_id FROM user_skill_tree_progress WHERE skill_tree_id = p_tree)
        ORDER BY p.user_id
        FOR UPDATE OF p);
    PERFORM progress_unlock_enrolled(p_tree, now(), users);
    users := refresh_enrolments(p_tree, users, now());
    UPDATE user_profiles u
    SET (skills_completed, trees_completed) = (
        SELECT coalesce(sum(t.skills_completed), 0), count(*) FILTER (WHERE t.status = 'COMPLETED')
        FROM user_skill_tree_progress t
        WHERE t.user_id = u.user_id
    )
    WHERE u.user_id = ANY (users);
END
$$;
"""

# progress_unlock_enrolled: for the learners given (those whose profiles the refresh holds).
UNLOCK_SIGNATURE_0014 = "progress_unlock_enrolled(p_tree text, p_now timestamptz)"
UNLOCK_SIGNATURE = "progress_unlock_enrolled(p_tree text, p_now timestamptz, p_users text[])"
UNLOCK_LEARNERS_0014 = "SELECT user_id FROM user_skill_tree_progress WHERE skill_tree_id = p_tree"
UNLOCK_LEARNERS = (
    "SELECT user_id FROM user_skill_tree_progress"
    " WHERE skill_tree_id = p_tree AND user_id = ANY (p_users)"
)


# Every profile's skills_completed as 0018 counts it (and back).
RECOUNT_PROFILES = """
UPDATE user_profiles u SET skills_completed = c.completed
FROM (SELECT p.user_id, coalesce(sum(t.skills_completed), 0) AS completed
      FROM user_profiles p LEFT JOIN user_skill_tree_progress t ON t.user_id = p.user_id
      GROUP BY p.user_id) c
WHERE c.user_id = u.user_id AND u.skills_completed IS DISTINCT FROM c.completed
"""
RECOUNT_PROFILES_0014 = """
UPDATE user_profiles u SET skills_completed = c.completed
FROM (SELECT p.user_id, count(r.id) AS completed
      FROM user_profiles p
      LEFT JOIN user_skill_progress r ON r.user_id = p.user_id AND r.status = 'COMPLETED'
      GROUP BY p.user_id) c
WHERE c.user_id = u.user_id AND u.skills_completed IS DISTINCT FROM c.completed
"""


def _revision_0014() -> tuple[str, str]:
    """0014's ENGINE and REFRESH texts (migrations stay frozen: this one edits copies)."""
    path = Path(__file__).with_name("0014_progress_engine.py")
    spec = importlib.util.spec_from_file_location("revision_0014", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.ENGINE), str(module.REFRESH)


def _definition(text: str, name: str) -> str:
    """The `CREATE FUNCTION name(...) ... $$;` statement in `text`, as CREATE OR REPLACE."""
    start = text.index(f"CREATE FUNCTION {name}(")
    body = text.index("AS $$", start) + len("AS $$")
    end = text.index("$$;", body) + len("$$;")
    return text[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _replaced(definition: str, old: str, new: str) -> str:
    assert definition.count(old) == 1, "0014's text is not what this migration edits"
    return definition.replace(old, new)


def upgrade() -> None:
    engine, _ = _revision_0014()
    op.execute(REQUIREMENTS_MET)
    op.execute(SKILLS_IN_CATEGORY)
    finish = _definition(engine, "progress_finish")
    op.execute(_replaced(finish, FINISH_COUNTS_0014, FINISH_COUNTS))
    unlock = _definition(engine, "progress_unlock_enrolled")
    unlock = _replaced(unlock, UNLOCK_SIGNATURE_0014, UNLOCK_SIGNATURE)
    op.execute("DROP FUNCTION progress_unlock_enrolled(text, timestamptz)")
    op.execute(_replaced(unlock, UNLOCK_LEARNERS_0014, UNLOCK_LEARNERS))
    op.execute(REFRESH)
    op.execute(RECOUNT_PROFILES)


def downgrade() -> None:
    engine, refresh = _revision_0014()
    op.execute(_definition(engine, "progress_tree_requirements_met"))
    op.execute(_definition(engine, "learner_skills_in_category"))
    op.execute(_definition(engine, "progress_finish"))
    op.execute(refresh)
    op.execute("DROP FUNCTION progress_unlock_enrolled(text, timestamptz, text[])")
    op.execute(_definition(engine, "progress_unlock_enrolled"))
    op.execute(RECOUNT_PROFILES_0014)
