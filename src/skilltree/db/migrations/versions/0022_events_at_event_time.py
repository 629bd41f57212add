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
`progress_skill_event` 0021's, with only the statements that insert those records changed; the
downgrade restores those definitions. Both are carried here whole (frozen), never read from
another revision. `progress_unlock_enrolled` (tree edits) is given `now()`
and is left as it is.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
CREATE OR REPLACE FUNCTION progress_unlock(
    p_user text, p_tree text, p_candidates text[], p_now timestamptz
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    unlocked jsonb;
BEGIN
    -- Every candidate (every active skill of the tree when NULL) without a row or LOCKED whose
    -- prerequisites are now satisfied becomes AVAILABLE, with its unlock time and one UNLOCK
    -- event (only for the rows this statement wrote: a racing tree edit writes the others).
    WITH candidates AS MATERIALIZED (
        -- (driven by the ids, not "p_candidates IS NULL OR ...": PL/pgSQL keeps a generic plan)
        SELECT c.id, c.name
        FROM unnest(coalesce(p_candidates, ARRAY(
                SELECT id FROM skills WHERE skill_tree_id = p_tree))) AS k(id)
        JOIN skills c ON c.id = k.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = c.id
        WHERE c.skill_tree_id = p_tree AND c.is_active
          AND (r.status IS NULL OR r.status = 'LOCKED')
    ), ready AS MATERIALIZED (
        SELECT id, name FROM candidates c
        WHERE NOT EXISTS (SELECT FROM progress_held_back(p_user, ARRAY[c.id]))
    ), rows AS (
        INSERT INTO user_skill_progress AS r (
            id, user_id, skill_id, skill_tree_id, status, unlocked_at)
        SELECT new_row_id(), p_user, id, p_tree, 'AVAILABLE', p_now FROM ready
        ON CONFLICT (user_id, skill_id)
            DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
            WHERE r.status = 'LOCKED'
        RETURNING r.skill_id
    ), events AS (
        INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, occurred_at)
        SELECT p_user, 'UNLOCK', p_tree, skill_id, p_now FROM rows ORDER BY skill_id COLLATE "C"
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', ready.id, 'name', ready.name)
                              ORDER BY ready.id COLLATE "C"), '[]')
    INTO unlocked FROM ready JOIN rows ON rows.skill_id = ready.id;
    RETURN unlocked;
END
$$;

CREATE OR REPLACE FUNCTION progress_enrol_learner(p_user text, p_tree text, p_now timestamptz)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    RETURN progress_unlock(p_user, p_tree, NULL, p_now);
END
$$;

CREATE OR REPLACE FUNCTION progress_finish(
    p_prof user_profiles, p_tree text, p_skill text, p_row user_skill_progress,
    p_now timestamptz, p_changed boolean, p_xp integer, p_minutes integer, p_activity boolean,
    p_unlocked jsonb, p_kind "ProgressEventKind" DEFAULT NULL, p_milestone boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    prof user_profiles := p_prof;
    p_user text := p_prof.user_id;
    level_before integer := p_prof.current_level;
    rewards integer := 0;
    earned jsonb := '[]';
    earned_now integer;
    milestones integer;
    achievement record;
    tree user_skill_tree_progress;
    skill_state jsonb;
BEGIN
    -- The rest of an event, after the skill's own row (p_row, as it is now) is written: tree
    -- progress, profile (p_prof: locked by the caller, as read then), achievements, the answer.
    IF p_changed THEN
        IF p_activity THEN
            -- Learning activity today: streak in the learner's zone, hours, last activity.
            prof.current_streak := streak_after_activity(
                prof.current_streak, prof.last_activity_at, p_now, prof.timezone);
            prof.max_streak := greatest(prof.max_streak, prof.current_streak);
            prof.last_activity_at := p_now;
            prof.hours_learned := prof.hours_learned + p_minutes / 60.0;
        END IF;
        -- The tree's progress, one step on from what it was (refresh_enrolments recounts it all
        -- after a tree changes): a completion adds a skill, and maybe a milestone.
        UPDATE user_skill_tree_progress e
        SET last_activity_at = CASE WHEN p_activity THEN p_now ELSE e.last_activity_at END,
            time_spent_minutes = e.time_spent_minutes + p_minutes,
            started_at = CASE WHEN p_activity AND e.status = 'NOT_STARTED' THEN p_now
                              ELSE e.started_at END,
            status = CASE WHEN p_activity AND e.status = 'NOT_STARTED' THEN 'IN_PROGRESS'
                          ELSE e.status END,
            skills_completed = e.skills_completed + step.completed,
            progress_percent = CASE WHEN e.total_skills = 0 THEN 0
                ELSE least(100, 100.0 * (e.skills_completed + step.completed) / e.total_skills)
                END,
            milestones_reached = CASE WHEN step.completed = 1 AND p_milestone
                THEN ARRAY(SELECT m FROM unnest(e.milestones_reached || p_skill) m
                           ORDER BY m COLLATE "C")
                ELSE e.milestones_reached END
        FROM (SELECT CASE WHEN p_kind = 'COMPLETE' THEN 1 ELSE 0 END AS completed) step
        WHERE e.user_id = p_user AND e.skill_tree_id = p_tree
        RETURNING e.* INTO tree;
        -- Completed once every required active skill is done (and at least one completed).
        IF p_kind IN ('COMPLETE', 'SKIP') AND tree.status <> 'COMPLETED'
           AND tree.skills_completed > 0
           AND progress_tree_requirements_met(p_user, p_tree) THEN
            UPDATE user_skill_tree_progress SET status = 'COMPLETED', completed_at = p_now
            WHERE id = tree.id
            RETURNING * INTO tree;
        END IF;
        prof.total_xp := prof.total_xp + p_xp;
        -- One row per enrolment, each kept exact (this event moved its tree's row above).
        SELECT coalesce(sum(skills_completed), 0),
               count(*) FILTER (WHERE status = 'COMPLETED'),
               count(*) FILTER (WHERE status <> 'NOT_STARTED'),
               coalesce(sum(cardinality(milestones_reached)), 0)
        INTO prof.skills_completed, prof.trees_completed, prof.trees_started, milestones
        FROM user_skill_tree_progress WHERE user_id = p_user;
        -- Award every active achievement now met, then look again while rewards add XP (only
        -- XP changes between rounds: later rounds look at XP thresholds only). Measured only
        -- for the achievements not yet earned (the fence keeps the planner from measuring first).
        LOOP
            earned_now := 0;
            FOR achievement IN
                SELECT a.*, achievement_measure(
                    a.criteria, p_user, prof.skills_completed, prof.total_xp, prof.max_streak,
                    prof.trees_completed, milestones) AS value
                FROM (SELECT * FROM achievements a
                      WHERE a.is_active
                        AND (rewards = 0 OR a.criteria->>'type' = 'xp_threshold')
                        AND NOT EXISTS (
                            SELECT FROM user_achievements e
                            WHERE e.user_id = p_user AND e.achievement_id = a.id)
                      OFFSET 0) a
                WHERE achievement_measure(
                      a.criteria, p_user, prof.skills_completed, prof.total_xp, prof.max_streak,
                      prof.trees_completed, milestones) >= (a.criteria->>'threshold')::numeric
                ORDER BY a.name, a.id
            LOOP
                INSERT INTO user_achievements (id, user_id, achievement_id, earned_at, metadata)
                VALUES (new_row_id(), p_user, achievement.id, p_now, jsonb_build_object(
                    'trigger', p_skill, 'treeId', p_tree, 'criteria', achievement.criteria,
                    'value', achievement.value))
                ON CONFLICT ON CONSTRAINT unique_user_achievement DO NOTHING;
                CONTINUE WHEN NOT FOUND;
                earned_now := earned_now + 1;
                prof.total_xp := prof.total_xp + achievement.xp_reward;
                rewards := rewards + achievement.xp_reward;
                earned := earned || jsonb_build_object(
                    'id', achievement.id, 'name', achievement.name,
                    'description', achievement.description, 'xpReward', achievement.xp_reward,
                    'badgeIcon', achievement.badge_icon, 'badgeColor', achievement.badge_color,
                    'rarity', achievement.rarity, 'earnedAt', p_now);
                INSERT INTO progress_events (
                    user_id, kind, skill_tree_id, skill_id, achievement_id, xp_delta, details,
                    occurred_at)
                VALUES (p_user, 'ACHIEVEMENT', p_tree, p_skill, achievement.id,
                        achievement.xp_reward, jsonb_build_object('name', achievement.name),
                        p_now);
            END LOOP;
            EXIT WHEN earned_now = 0;
        END LOOP;
        prof.current_level := level_for_xp(prof.total_xp);
        IF prof.current_level > level_before THEN
            INSERT INTO progress_events (
                user_id, kind, skill_tree_id, skill_id, details, occurred_at)
            VALUES (p_user, 'LEVEL_UP', p_tree, p_skill,
                    jsonb_build_object('from', level_before, 'to', prof.current_level), p_now);
        END IF;
        UPDATE user_profiles
        SET total_xp = prof.total_xp, current_level = prof.current_level,
            current_streak = prof.current_streak, max_streak = prof.max_streak,
            last_activity_at = prof.last_activity_at, hours_learned = prof.hours_learned,
            skills_completed = prof.skills_completed, trees_started = prof.trees_started,
            trees_completed = prof.trees_completed
        WHERE user_id = p_user;
    ELSE
        SELECT * INTO tree FROM user_skill_tree_progress
        WHERE user_id = p_user AND skill_tree_id = p_tree;
    END IF;
    IF p_skill IS NOT NULL THEN
        skill_state := jsonb_build_object(
            'skillId', p_skill,
            'status', progress_skill_state(p_user, p_skill, p_row.status),
            'progressPercent', coalesce(p_row.progress_percent, 0),
            'timeSpentMinutes', coalesce(p_row.time_spent_minutes, 0),
            'attemptsCount', coalesce(p_row.attempts_count, 0),
            'completionMethod', p_row.completion_method,
            'completionScore', p_row.completion_score,
            'unlockedAt', p_row.unlocked_at,
            'startedAt', p_row.started_at,
            'completedAt', p_row.completed_at);
    END IF;
    RETURN jsonb_build_object(
        'skill', skill_state,
        'changed', p_changed,
        'xpAwarded', p_xp + rewards,
        'levelUp', prof.current_level > level_before,
        'unlocked', p_unlocked,
        'achievements', earned,
        'tree', jsonb_build_object(
            'skillTreeId', tree.skill_tree_id, 'status', tree.status,
            'progressPercent', tree.progress_percent, 'skillsCompleted', tree.skills_completed,
            'totalSkills', tree.total_skills, 'timeSpentMinutes', tree.time_spent_minutes,
            'milestonesReached', to_jsonb(tree.milestones_reached),
            'startedAt', tree.started_at, 'lastActivityAt', tree.last_activity_at,
            'completedAt', tree.completed_at),
        'profile', jsonb_build_object(
            'totalXp', prof.total_xp, 'currentLevel', prof.current_level,
            'currentStreak', prof.current_streak, 'maxStreak', prof.max_streak,
            'skillsCompleted', prof.skills_completed, 'hoursLearned', prof.hours_learned,
            'treesStarted', prof.trees_started, 'treesCompleted', prof.trees_completed));
END
$$;

CREATE OR REPLACE FUNCTION progress_skill_event(
    p_kind "ProgressEventKind", p_user text, p_skill text, p_now timestamptz,
    p_unpublished_ok boolean DEFAULT false, p_method "CompletionMethod" DEFAULT 'MANUAL',
    p_score double precision DEFAULT NULL, p_assessment text DEFAULT NULL,
    p_evidence jsonb DEFAULT NULL, p_minutes integer DEFAULT 0)
RETURNS jsonb LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    skill record;
    prof user_profiles;
    current record;
    mine user_skill_progress;
    state "SkillProgressStatus";
    passing double precision;
    xp integer := 0;
    unlocked jsonb := '[]';
    minutes integer := CASE WHEN p_kind IN ('COMPLETE', 'ACTIVITY') THEN coalesce(p_minutes, 0)
                            ELSE 0 END;
BEGIN
    IF p_kind NOT IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY') THEN
        RAISE EXCEPTION 'not a skill event: %', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.id, s.name, s.skill_tree_id AS tree_id, s.is_active, s.is_optional, s.xp_value,
           s.is_milestone, s.estimated_minutes, s.assessments, t.is_published, t.created_by
    INTO skill FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = p_skill;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT skill.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', skill.created_by);
    ELSIF NOT skill.is_active THEN
        RETURN jsonb_build_object('refused', 'Inactive', 'name', skill.name);
    END IF;
    prof := progress_lock_profile(p_user);

    -- Refusals first: a refused event writes nothing.
    IF p_kind = 'COMPLETE' AND p_method = 'ASSESSMENT' THEN
        IF p_score IS NULL THEN
            RETURN jsonb_build_object('refused', 'ScoreMissing');
        END IF;
        -- The named assessment's passing score, or the first one's; none: any score passes.
        passing := CASE
            WHEN jsonb_typeof(skill.assessments) IS DISTINCT FROM 'array'
                 OR jsonb_array_length(skill.assessments) = 0 THEN 0
            WHEN p_assessment IS NULL THEN (skill.assessments->0->>'passingScore')::float8
            ELSE (SELECT (a->>'passingScore')::float8
                  FROM jsonb_array_elements(skill.assessments) a
                  WHERE a->>'id' = p_assessment LIMIT 1) END;
        IF passing IS NULL THEN
            RETURN jsonb_build_object('refused', 'UnknownAssessment', 'assessmentId', p_assessment);
        ELSIF p_score < passing THEN
            RETURN jsonb_build_object('refused', 'ScoreTooLow', 'passing', passing,
                                      'score', p_score);
        END IF;
    END IF;
    -- The learner's row of the skill (if any), its state, and whether they are enrolled.
    SELECT r AS row, progress_skill_state(p_user, p_skill, r.status) AS state,
           EXISTS (SELECT FROM user_skill_tree_progress
                   WHERE user_id = p_user AND skill_tree_id = skill.tree_id) AS enrolled
    INTO current
    FROM (SELECT) one LEFT JOIN user_skill_progress r
        ON r.user_id = p_user AND r.skill_id = p_skill;
    mine := current.row;
    state := current.state;
    IF p_kind = 'SKIP' AND NOT skill.is_optional THEN
        RETURN jsonb_build_object('refused', 'NotOptional', 'name', skill.name);
    ELSIF p_kind = 'SKIP' AND state = 'COMPLETED' THEN
        RETURN jsonb_build_object('refused', 'AlreadyCompleted', 'name', skill.name);
    ELSIF state = 'LOCKED' THEN
        RETURN jsonb_build_object('refused', 'SkillLocked', 'name', skill.name,
                                  'missing', progress_missing_prerequisites(p_user, p_skill));
    END IF;

    IF NOT current.enrolled THEN
        unlocked := progress_enrol_learner(p_user, skill.tree_id, p_now);
    END IF;
    -- Repeating what already happened changes nothing.
    IF (p_kind = 'START' AND state IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED'))
       OR (p_kind = 'COMPLETE' AND state = 'COMPLETED')
       OR (p_kind = 'SKIP' AND state = 'SKIPPED') THEN
        RETURN progress_finish(prof, skill.tree_id, p_skill, mine, p_now, false, 0, 0, false,
                               unlocked);
    END IF;

    -- An AVAILABLE skill without its row yet (or with a LOCKED one) is unlocked now, as any
    -- unlock is: its row with unlocked_at, and one UNLOCK event before this event's own (unless
    -- the enrolment just above unlocked it). Other states always have their row.
    IF mine.id IS NULL OR mine.status = 'LOCKED' THEN
        PERFORM progress_unlock(p_user, skill.tree_id, ARRAY[p_skill], p_now);
        SELECT * INTO STRICT mine FROM user_skill_progress
        WHERE user_id = p_user AND skill_id = p_skill;
    END IF;
    mine.last_activity_at := p_now;
    CASE p_kind
        WHEN 'START' THEN
            mine.status := 'IN_PROGRESS';
            mine.started_at := p_now;
        WHEN 'COMPLETE' THEN
            mine.status := 'COMPLETED';
            mine.progress_percent := 100;
            mine.completed_at := p_now;
            mine.started_at := coalesce(mine.started_at, p_now);
            mine.completion_method := p_method;
            mine.completion_score := p_score;
            mine.evidence_data := p_evidence;
            mine.time_spent_minutes := mine.time_spent_minutes + minutes;
            xp := skill.xp_value;
        WHEN 'SKIP' THEN
            mine.status := 'SKIPPED';
        ELSE
            mine.time_spent_minutes := mine.time_spent_minutes + minutes;
            mine.attempts_count := mine.attempts_count + 1;
    END CASE;
    UPDATE user_skill_progress r
    SET status = mine.status, progress_percent = mine.progress_percent,
        time_spent_minutes = mine.time_spent_minutes, attempts_count = mine.attempts_count,
        completion_method = mine.completion_method, completion_score = mine.completion_score,
        evidence_data = mine.evidence_data, started_at = mine.started_at,
        last_activity_at = mine.last_activity_at, completed_at = mine.completed_at,
        struggling_indicators = d.indicators, engagement_score = d.engagement
    FROM learner_difficulty(mine.time_spent_minutes, mine.attempts_count,
                            skill.estimated_minutes, mine.status) d
    WHERE r.id = mine.id
    RETURNING r.* INTO mine;
    INSERT INTO progress_events (
        user_id, kind, skill_tree_id, skill_id, xp_delta, occurred_at, details)
    VALUES (p_user, p_kind, skill.tree_id, p_skill, xp, p_now, CASE p_kind
        WHEN 'COMPLETE' THEN jsonb_build_object(
            'method', p_method, 'score', p_score, 'minutes', minutes)
        WHEN 'ACTIVITY' THEN jsonb_build_object('minutes', minutes)
        ELSE '{}' END);
    IF p_kind IN ('COMPLETE', 'SKIP') THEN
        unlocked := unlocked || progress_unlock(p_user, skill.tree_id, ARRAY(
            SELECT skill_id FROM skill_dependencies WHERE depends_on_id = p_skill), p_now);
    END IF;
    RETURN progress_finish(prof, skill.tree_id, p_skill, mine, p_now, true, xp, minutes, true,
                           unlocked, p_kind, skill.is_milestone);
END
$$;
"""

DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION progress_unlock(
    p_user text, p_tree text, p_candidates text[], p_now timestamptz
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    unlocked jsonb;
BEGIN
    -- Every candidate (every active skill of the tree when NULL) without a row or LOCKED whose
    -- prerequisites are now satisfied becomes AVAILABLE, with its unlock time and one UNLOCK
    -- event (only for the rows this statement wrote: a racing tree edit writes the others).
    WITH candidates AS MATERIALIZED (
        -- (driven by the ids, not "p_candidates IS NULL OR ...": PL/pgSQL keeps a generic plan)
        SELECT c.id, c.name
        FROM unnest(coalesce(p_candidates, ARRAY(
                SELECT id FROM skills WHERE skill_tree_id = p_tree))) AS k(id)
        JOIN skills c ON c.id = k.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = c.id
        WHERE c.skill_tree_id = p_tree AND c.is_active
          AND (r.status IS NULL OR r.status = 'LOCKED')
    ), ready AS MATERIALIZED (
        SELECT id, name FROM candidates c
        WHERE NOT EXISTS (SELECT FROM progress_held_back(p_user, ARRAY[c.id]))
    ), rows AS (
        INSERT INTO user_skill_progress AS r (
            id, user_id, skill_id, skill_tree_id, status, unlocked_at)
        SELECT new_row_id(), p_user, id, p_tree, 'AVAILABLE', p_now FROM ready
        ON CONFLICT (user_id, skill_id)
            DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
            WHERE r.status = 'LOCKED'
        RETURNING r.skill_id
    ), events AS (
        INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id)
        SELECT p_user, 'UNLOCK', p_tree, skill_id FROM rows ORDER BY skill_id COLLATE "C"
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', ready.id, 'name', ready.name)
                              ORDER BY ready.id COLLATE "C"), '[]')
    INTO unlocked FROM ready JOIN rows ON rows.skill_id = ready.id;
    RETURN unlocked;
END
$$;

CREATE OR REPLACE FUNCTION progress_enrol_learner(p_user text, p_tree text, p_now timestamptz)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_skill_tree_progress (id, user_id, skill_tree_id, total_skills)
    SELECT new_row_id(), p_user, p_tree, count(*) FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id) VALUES (p_user, 'ENROLL', p_tree);
    RETURN progress_unlock(p_user, p_tree, NULL, p_now);
END
$$;

CREATE OR REPLACE FUNCTION progress_finish(
    p_prof user_profiles, p_tree text, p_skill text, p_row user_skill_progress,
    p_now timestamptz, p_changed boolean, p_xp integer, p_minutes integer, p_activity boolean,
    p_unlocked jsonb, p_kind "ProgressEventKind" DEFAULT NULL, p_milestone boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    prof user_profiles := p_prof;
    p_user text := p_prof.user_id;
    level_before integer := p_prof.current_level;
    rewards integer := 0;
    earned jsonb := '[]';
    earned_now integer;
    milestones integer;
    achievement record;
    tree user_skill_tree_progress;
    skill_state jsonb;
BEGIN
    -- The rest of an event, after the skill's own row (p_row, as it is now) is written: tree
    -- progress, profile (p_prof: locked by the caller, as read then), achievements, the answer.
    IF p_changed THEN
        IF p_activity THEN
            -- Learning activity today: streak in the learner's zone, hours, last activity.
            prof.current_streak := streak_after_activity(
                prof.current_streak, prof.last_activity_at, p_now, prof.timezone);
            prof.max_streak := greatest(prof.max_streak, prof.current_streak);
            prof.last_activity_at := p_now;
            prof.hours_learned := prof.hours_learned + p_minutes / 60.0;
        END IF;
        -- The tree's progress, one step on from what it was (refresh_enrolments recounts it all
        -- after a tree changes): a completion adds a skill, and maybe a milestone.
        UPDATE user_skill_tree_progress e
        SET last_activity_at = CASE WHEN p_activity THEN p_now ELSE e.last_activity_at END,
            time_spent_minutes = e.time_spent_minutes + p_minutes,
            started_at = CASE WHEN p_activity AND e.status = 'NOT_STARTED' THEN p_now
                              ELSE e.started_at END,
            status = CASE WHEN p_activity AND e.status = 'NOT_STARTED' THEN 'IN_PROGRESS'
                          ELSE e.status END,
            skills_completed = e.skills_completed + step.completed,
            progress_percent = CASE WHEN e.total_skills = 0 THEN 0
                ELSE least(100, 100.0 * (e.skills_completed + step.completed) / e.total_skills)
                END,
            milestones_reached = CASE WHEN step.completed = 1 AND p_milestone
                THEN ARRAY(SELECT m FROM unnest(e.milestones_reached || p_skill) m
                           ORDER BY m COLLATE "C")
                ELSE e.milestones_reached END
        FROM (SELECT CASE WHEN p_kind = 'COMPLETE' THEN 1 ELSE 0 END AS completed) step
        WHERE e.user_id = p_user AND e.skill_tree_id = p_tree
        RETURNING e.* INTO tree;
        -- Completed once every required active skill is done (and at least one completed).
        IF p_kind IN ('COMPLETE', 'SKIP') AND tree.status <> 'COMPLETED'
           AND tree.skills_completed > 0
           AND progress_tree_requirements_met(p_user, p_tree) THEN
            UPDATE user_skill_tree_progress SET status = 'COMPLETED', completed_at = p_now
            WHERE id = tree.id
            RETURNING * INTO tree;
        END IF;
        prof.total_xp := prof.total_xp + p_xp;
        -- One row per enrolment, each kept exact (this event moved its tree's row above).
        SELECT coalesce(sum(skills_completed), 0),
               count(*) FILTER (WHERE status = 'COMPLETED'),
               count(*) FILTER (WHERE status <> 'NOT_STARTED'),
               coalesce(sum(cardinality(milestones_reached)), 0)
        INTO prof.skills_completed, prof.trees_completed, prof.trees_started, milestones
        FROM user_skill_tree_progress WHERE user_id = p_user;
        -- Award every active achievement now met, then look again while rewards add XP (only
        -- XP changes between rounds: later rounds look at XP thresholds only). Measured only
        -- for the achievements not yet earned (the fence keeps the planner from measuring first).
        LOOP
            earned_now := 0;
            FOR achievement IN
                SELECT a.*, achievement_measure(
                    a.criteria, p_user, prof.skills_completed, prof.total_xp, prof.max_streak,
                    prof.trees_completed, milestones) AS value
                FROM (SELECT * FROM achievements a
                      WHERE a.is_active
                        AND (rewards = 0 OR a.criteria->>'type' = 'xp_threshold')
                        AND NOT EXISTS (
                            SELECT FROM user_achievements e
                            WHERE e.user_id = p_user AND e.achievement_id = a.id)
                      OFFSET 0) a
                WHERE achievement_measure(
                      a.criteria, p_user, prof.skills_completed, prof.total_xp, prof.max_streak,
                      prof.trees_completed, milestones) >= (a.criteria->>'threshold')::numeric
                ORDER BY a.name, a.id
            LOOP
                INSERT INTO user_achievements (id, user_id, achievement_id, metadata)
                VALUES (new_row_id(), p_user, achievement.id, jsonb_build_object(
                    'trigger', p_skill, 'treeId', p_tree, 'criteria', achievement.criteria,
                    'value', achievement.value))
                ON CONFLICT ON CONSTRAINT unique_user_achievement DO NOTHING;
                CONTINUE WHEN NOT FOUND;
                earned_now := earned_now + 1;
                prof.total_xp := prof.total_xp + achievement.xp_reward;
                rewards := rewards + achievement.xp_reward;
                earned := earned || jsonb_build_object(
                    'id', achievement.id, 'name', achievement.name,
                    'description', achievement.description, 'xpReward', achievement.xp_reward,
                    'badgeIcon', achievement.badge_icon, 'badgeColor', achievement.badge_color,
                    'rarity', achievement.rarity, 'earnedAt', p_now);
                INSERT INTO progress_events (
                    user_id, kind, skill_tree_id, skill_id, achievement_id, xp_delta, details)
                VALUES (p_user, 'ACHIEVEMENT', p_tree, p_skill, achievement.id,
                        achievement.xp_reward, jsonb_build_object('name', achievement.name));
            END LOOP;
            EXIT WHEN earned_now = 0;
        END LOOP;
        prof.current_level := level_for_xp(prof.total_xp);
        IF prof.current_level > level_before THEN
            INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, details)
            VALUES (p_user, 'LEVEL_UP', p_tree, p_skill,
                    jsonb_build_object('from', level_before, 'to', prof.current_level));
        END IF;
        UPDATE user_profiles
        SET total_xp = prof.total_xp, current_level = prof.current_level,
            current_streak = prof.current_streak, max_streak = prof.max_streak,
            last_activity_at = prof.last_activity_at, hours_learned = prof.hours_learned,
            skills_completed = prof.skills_completed, trees_started = prof.trees_started,
            trees_completed = prof.trees_completed
        WHERE user_id = p_user;
    ELSE
        SELECT * INTO tree FROM user_skill_tree_progress
        WHERE user_id = p_user AND skill_tree_id = p_tree;
    END IF;
    IF p_skill IS NOT NULL THEN
        skill_state := jsonb_build_object(
            'skillId', p_skill,
            'status', progress_skill_state(p_user, p_skill, p_row.status),
            'progressPercent', coalesce(p_row.progress_percent, 0),
            'timeSpentMinutes', coalesce(p_row.time_spent_minutes, 0),
            'attemptsCount', coalesce(p_row.attempts_count, 0),
            'completionMethod', p_row.completion_method,
            'completionScore', p_row.completion_score,
            'unlockedAt', p_row.unlocked_at,
            'startedAt', p_row.started_at,
            'completedAt', p_row.completed_at);
    END IF;
    RETURN jsonb_build_object(
        'skill', skill_state,
        'changed', p_changed,
        'xpAwarded', p_xp + rewards,
        'levelUp', prof.current_level > level_before,
        'unlocked', p_unlocked,
        'achievements', earned,
        'tree', jsonb_build_object(
            'skillTreeId', tree.skill_tree_id, 'status', tree.status,
            'progressPercent', tree.progress_percent, 'skillsCompleted', tree.skills_completed,
            'totalSkills', tree.total_skills, 'timeSpentMinutes', tree.time_spent_minutes,
            'milestonesReached', to_jsonb(tree.milestones_reached),
            'startedAt', tree.started_at, 'lastActivityAt', tree.last_activity_at,
            'completedAt', tree.completed_at),
        'profile', jsonb_build_object(
            'totalXp', prof.total_xp, 'currentLevel', prof.current_level,
            'currentStreak', prof.current_streak, 'maxStreak', prof.max_streak,
            'skillsCompleted', prof.skills_completed, 'hoursLearned', prof.hours_learned,
            'treesStarted', prof.trees_started, 'treesCompleted', prof.trees_completed));
END
$$;

CREATE OR REPLACE FUNCTION progress_skill_event(
    p_kind "ProgressEventKind", p_user text, p_skill text, p_now timestamptz,
    p_unpublished_ok boolean DEFAULT false, p_method "CompletionMethod" DEFAULT 'MANUAL',
    p_score double precision DEFAULT NULL, p_assessment text DEFAULT NULL,
    p_evidence jsonb DEFAULT NULL, p_minutes integer DEFAULT 0)
RETURNS jsonb LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    skill record;
    prof user_profiles;
    current record;
    mine user_skill_progress;
    state "SkillProgressStatus";
    passing double precision;
    xp integer := 0;
    unlocked jsonb := '[]';
    minutes integer := CASE WHEN p_kind IN ('COMPLETE', 'ACTIVITY') THEN coalesce(p_minutes, 0)
                            ELSE 0 END;
BEGIN
    IF p_kind NOT IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY') THEN
        RAISE EXCEPTION 'not a skill event: %', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.id, s.name, s.skill_tree_id AS tree_id, s.is_active, s.is_optional, s.xp_value,
           s.is_milestone, s.estimated_minutes, s.assessments, t.is_published, t.created_by
    INTO skill FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = p_skill;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT skill.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', skill.created_by);
    ELSIF NOT skill.is_active THEN
        RETURN jsonb_build_object('refused', 'Inactive', 'name', skill.name);
    END IF;
    prof := progress_lock_profile(p_user);

    -- Refusals first: a refused event writes nothing.
    IF p_kind = 'COMPLETE' AND p_method = 'ASSESSMENT' THEN
        IF p_score IS NULL THEN
            RETURN jsonb_build_object('refused', 'ScoreMissing');
        END IF;
        -- The named assessment's passing score, or the first one's; none: any score passes.
        passing := CASE
            WHEN jsonb_typeof(skill.assessments) IS DISTINCT FROM 'array'
                 OR jsonb_array_length(skill.assessments) = 0 THEN 0
            WHEN p_assessment IS NULL THEN (skill.assessments->0->>'passingScore')::float8
            ELSE (SELECT (a->>'passingScore')::float8
                  FROM jsonb_array_elements(skill.assessments) a
                  WHERE a->>'id' = p_assessment LIMIT 1) END;
        IF passing IS NULL THEN
            RETURN jsonb_build_object('refused', 'UnknownAssessment', 'assessmentId', p_assessment);
        ELSIF p_score < passing THEN
            RETURN jsonb_build_object('refused', 'ScoreTooLow', 'passing', passing,
                                      'score', p_score);
        END IF;
    END IF;
    -- The learner's row of the skill (if any), its state, and whether they are enrolled.
    SELECT r AS row, progress_skill_state(p_user, p_skill, r.status) AS state,
           EXISTS (SELECT FROM user_skill_tree_progress
                   WHERE user_id = p_user AND skill_tree_id = skill.tree_id) AS enrolled
    INTO current
    FROM (SELECT) one LEFT JOIN user_skill_progress r
        ON r.user_id = p_user AND r.skill_id = p_skill;
    mine := current.row;
    state := current.state;
    IF p_kind = 'SKIP' AND NOT skill.is_optional THEN
        RETURN jsonb_build_object('refused', 'NotOptional', 'name', skill.name);
    ELSIF p_kind = 'SKIP' AND state = 'COMPLETED' THEN
        RETURN jsonb_build_object('refused', 'AlreadyCompleted', 'name', skill.name);
    ELSIF state = 'LOCKED' THEN
        RETURN jsonb_build_object('refused', 'SkillLocked', 'name', skill.name,
                                  'missing', progress_missing_prerequisites(p_user, p_skill));
    END IF;

    IF NOT current.enrolled THEN
        unlocked := progress_enrol_learner(p_user, skill.tree_id, p_now);
    END IF;
    -- Repeating what already happened changes nothing.
    IF (p_kind = 'START' AND state IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED'))
       OR (p_kind = 'COMPLETE' AND state = 'COMPLETED')
       OR (p_kind = 'SKIP' AND state = 'SKIPPED') THEN
        RETURN progress_finish(prof, skill.tree_id, p_skill, mine, p_now, false, 0, 0, false,
                               unlocked);
    END IF;

    -- An AVAILABLE skill without its row yet (or with a LOCKED one) is unlocked now, as any
    -- unlock is: its row with unlocked_at, and one UNLOCK event before this event's own (unless
    -- the enrolment just above unlocked it). Other states always have their row.
    IF mine.id IS NULL OR mine.status = 'LOCKED' THEN
        PERFORM progress_unlock(p_user, skill.tree_id, ARRAY[p_skill], p_now);
        SELECT * INTO STRICT mine FROM user_skill_progress
        WHERE user_id = p_user AND skill_id = p_skill;
    END IF;
    mine.last_activity_at := p_now;
    CASE p_kind
        WHEN 'START' THEN
            mine.status := 'IN_PROGRESS';
            mine.started_at := p_now;
        WHEN 'COMPLETE' THEN
            mine.status := 'COMPLETED';
            mine.progress_percent := 100;
            mine.completed_at := p_now;
            mine.started_at := coalesce(mine.started_at, p_now);
            mine.completion_method := p_method;
            mine.completion_score := p_score;
            mine.evidence_data := p_evidence;
            mine.time_spent_minutes := mine.time_spent_minutes + minutes;
            xp := skill.xp_value;
        WHEN 'SKIP' THEN
            mine.status := 'SKIPPED';
        ELSE
            mine.time_spent_minutes := mine.time_spent_minutes + minutes;
            mine.attempts_count := mine.attempts_count + 1;
    END CASE;
    UPDATE user_skill_progress r
    SET status = mine.status, progress_percent = mine.progress_percent,
        time_spent_minutes = mine.time_spent_minutes, attempts_count = mine.attempts_count,
        completion_method = mine.completion_method, completion_score = mine.completion_score,
        evidence_data = mine.evidence_data, started_at = mine.started_at,
        last_activity_at = mine.last_activity_at, completed_at = mine.completed_at,
        struggling_indicators = d.indicators, engagement_score = d.engagement
    FROM learner_difficulty(mine.time_spent_minutes, mine.attempts_count,
                            skill.estimated_minutes, mine.status) d
    WHERE r.id = mine.id
    RETURNING r.* INTO mine;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, xp_delta, details)
    VALUES (p_user, p_kind, skill.tree_id, p_skill, xp, CASE p_kind
        WHEN 'COMPLETE' THEN jsonb_build_object(
            'method', p_method, 'score', p_score, 'minutes', minutes)
        WHEN 'ACTIVITY' THEN jsonb_build_object('minutes', minutes)
        ELSE '{}' END);
    IF p_kind IN ('COMPLETE', 'SKIP') THEN
        unlocked := unlocked || progress_unlock(p_user, skill.tree_id, ARRAY(
            SELECT skill_id FROM skill_dependencies WHERE depends_on_id = p_skill), p_now);
    END IF;
    RETURN progress_finish(prof, skill.tree_id, p_skill, mine, p_now, true, xp, minutes, true,
                           unlocked, p_kind, skill.is_milestone);
END
$$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
