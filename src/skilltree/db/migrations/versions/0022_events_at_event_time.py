"""progress: an event's records carry the event's time, as its rows already did

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

The engine's functions take the event's time (`p_now`) and write it into the learner's rows
(unlocked, started, completed, last activity) and the streak's day, but the audit trail
(`progress_events.occurred_at`), the achievements they award (`user_achievements.earned_at`)
and the enrolment they make (`user_skill_tree_progress.created_at`) took the columns' default,
`now()`, the start of the transaction. The activity calendar and the analytics count events by
`occurred_at` while the streak counts `p_now`: the two could disagree on the day of an event near
midnight, and an event replayed at an earlier time (the demo's weeks of learning) was recorded as
happening today. Now every record an event writes carries `p_now`.

`progress_unlock` and `progress_enrol_learner` are 0014's, `progress_finish` and
`progress_skill_event` 0021's, each with only the statements below changed (each once); the
downgrade restores those definitions. `progress_unlock_enrolled` (tree edits) is given `now()`
and is left as it is.
"""

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (revision file, function, [(statement as it was, as it is now)]).
CHANGES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "0014_progress_engine.py",
        "progress_unlock",
        (
            (
                """INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id)
        SELECT p_user, 'UNLOCK', p_tree, skill_id FROM rows""",
                """INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, occurred_at)
        SELECT p_user, 'UNLOCK', p_tree, skill_id, p_now FROM rows""",
            ),
        ),
    ),
    (
        "0014_progress_engine.py",
        "progress_enrol_learner",
        (
            (
                """INSERT INTO user_skill_tree_progress (id, user_id, skill_tree_id, total_skills)
    SELECT new_row_id(), p_user, p_tree, count(*) FROM skills""",
                """INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills""",
            ),
            (
                "INSERT INTO progress_events (user_id, kind, skill_tree_id)"
                " VALUES (p_user, 'ENROLL', p_tree);",
                "INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at)"
                " VALUES (p_user, 'ENROLL', p_tree, p_now);",
            ),
        ),
    ),
    (
        "0021_progress_fewer_statements.py",
        "progress_finish",
        (
            (
                """INSERT INTO user_achievements (id, user_id, achievement_id, metadata)
                VALUES (new_row_id(), p_user, achievement.id, jsonb_build_object(""",
                """INSERT INTO user_achievements (id, user_id, achievement_id, earned_at, metadata)
                VALUES (new_row_id(), p_user, achievement.id, p_now, jsonb_build_object(""",
            ),
            (
                """INSERT INTO progress_events (
                    user_id, kind, skill_tree_id, skill_id, achievement_id, xp_delta, details)
                VALUES (p_user, 'ACHIEVEMENT', p_tree, p_skill, achievement.id,""",
                """INSERT INTO progress_events (
                    user_id, kind, skill_tree_id, skill_id, achievement_id, xp_delta, details,
                    occurred_at)
                VALUES (p_user, 'ACHIEVEMENT', p_tree, p_skill, achievement.id,""",
            ),
            (
                "achievement.xp_reward, jsonb_build_object('name', achievement.name));",
                "achievement.xp_reward, jsonb_build_object('name', achievement.name),\n"
                "                        p_now);",
            ),
            (
                """INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, details)
            VALUES (p_user, 'LEVEL_UP', p_tree, p_skill,
                    jsonb_build_object('from', level_before, 'to', prof.current_level));""",
                """INSERT INTO progress_events (
                user_id, kind, skill_tree_id, skill_id, details, occurred_at)
            VALUES (p_user, 'LEVEL_UP', p_tree, p_skill,
                    jsonb_build_object('from', level_before, 'to', prof.current_level), p_now);""",
            ),
        ),
    ),
    (
        "0021_progress_fewer_statements.py",
        "progress_skill_event",
        (
            (
                """INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, xp_delta, details)
    VALUES (p_user, p_kind, skill.tree_id, p_skill, xp, CASE p_kind""",
                """INSERT INTO progress_events (
        user_id, kind, skill_tree_id, skill_id, xp_delta, occurred_at, details)
    VALUES (p_user, p_kind, skill.tree_id, p_skill, xp, p_now, CASE p_kind""",
            ),
        ),
    ),
)


def _engine_text(file: str) -> str:
    """The ENGINE text of revision `file` of this folder (frozen: this migration edits copies)."""
    path = Path(__file__).with_name(file)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.ENGINE)


def _definition(text: str, name: str) -> str:
    """Function `name`'s `CREATE [OR REPLACE] FUNCTION ... $$;` in `text`, as CREATE OR REPLACE."""
    found = re.search(rf"CREATE (OR REPLACE )?FUNCTION {name}\(", text)
    assert found is not None, name
    body = text.index("AS $$", found.start()) + len("AS $$")
    end = text.index("$$;", body) + len("$$;")
    return "CREATE OR REPLACE FUNCTION " + text[found.end() - len(name) - 1 : end]


def definitions(*, upgraded: bool) -> list[str]:
    """The four functions as this revision leaves them (`upgraded`) or finds them."""
    result = []
    for file, name, edits in CHANGES:
        definition = _definition(_engine_text(file), name)
        for old, new in edits:
            assert definition.count(old) == 1, f"{file}'s {name} is not what 0022 edits"
            if upgraded:
                definition = definition.replace(old, new)
        result.append(definition)
    return result


def upgrade() -> None:
    for definition in definitions(upgraded=True):
        op.execute(definition)


def downgrade() -> None:
    for definition in definitions(upgraded=False):
        op.execute(definition)
