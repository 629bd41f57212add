"""The progress engine in PostgreSQL: one progress event is one call of one function

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22

`progress_skill_event(kind, learner, skill, now, ...)` (start, complete, skip, activity) and
`progress_enrol(learner, slug, now)` apply every rule of an event in one round trip, in the
caller's transaction: refusals first (writing nothing), the learner's lock, the skill's row,
unlocked dependents, tree progress, profile statistics, streak, level, achievements until none
is new, the audit trail, the learner-difficulty fields; they return the event's outcome as JSON.
Measured reason (docs/progress.md): the same work through the ORM cost 21-23 ms a completion,
mostly Python CPU, and 8 threads reached 35 completions/s.

SECURITY INVOKER: under row-level security they see and write only the acting learner's rows,
and `progress_lock_learner` refuses to act for anyone else (docs/security.md).
`refresh_tree_enrolments` (0010) now runs the same tree-progress rule, `refresh_enrolments`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENGINE = r"""
-- ---- pure rules -------------------------------------------------------------------------------

CREATE FUNCTION new_row_id() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    -- cuid2-shaped like skilltree.db.base.new_ids: a letter, then 23 base-36 digits, from the
    -- 122 random bits of a version 4 UUID.
    bits bytea := uuid_send(gen_random_uuid());
    n numeric := 0;
    id text;
BEGIN
    FOR i IN 0..15 LOOP
        n := n * 256 + get_byte(bits, i);
    END LOOP;
    id := chr(97 + (n % 26)::integer);
    n := div(n, 26);
    FOR i IN 1..23 LOOP
        id := id || substr('0123456789abcdefghijklmnopqrstuvwxyz', (n % 36)::integer + 1, 1);
        n := div(n, 36);
    END LOOP;
    RETURN id;
END
$$;

CREATE FUNCTION level_for_xp(p_xp integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- Level n starts at 100·(n-1)² XP: 0, 100, 400, 900, ...
    SELECT 1 + floor(sqrt((greatest(p_xp, 0) / 100)::numeric))::integer
$$;

CREATE FUNCTION learner_local_day(p_at timestamptz, p_zone text) RETURNS date
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF p_zone IS NULL OR p_zone IN ('', 'UTC') THEN  -- most learners: no subtransaction
        RETURN (p_at AT TIME ZONE 'UTC')::date;
    END IF;
    RETURN (p_at AT TIME ZONE p_zone)::date;
EXCEPTION WHEN invalid_parameter_value THEN  -- a time zone PostgreSQL does not know: UTC
    RETURN (p_at AT TIME ZONE 'UTC')::date;
END
$$;

CREATE FUNCTION streak_after_activity(
    p_streak integer, p_last timestamptz, p_now timestamptz, p_zone text
) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    gap integer;
BEGIN
    -- Same local day: kept; the next day: one more; after a missed day: 1 again.
    IF p_last IS NULL OR p_streak <= 0 THEN
        RETURN 1;
    END IF;
    gap := learner_local_day(p_now, p_zone) - learner_local_day(p_last, p_zone);
    RETURN CASE WHEN gap <= 0 THEN p_streak WHEN gap = 1 THEN p_streak + 1 ELSE 1 END;
END
$$;

CREATE FUNCTION streak_as_of(
    p_streak integer, p_last timestamptz, p_now timestamptz, p_zone text
) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- The streak as shown at p_now: 0 once a whole local day has passed without activity.
    IF p_last IS NULL
       OR learner_local_day(p_now, p_zone) - learner_local_day(p_last, p_zone) > 1 THEN
        RETURN 0;
    END IF;
    RETURN p_streak;
END
$$;

CREATE FUNCTION learner_difficulty(
    p_minutes integer, p_attempts integer, p_estimate integer, p_status "SkillProgressStatus",
    OUT indicators jsonb, OUT engagement double precision
)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    sitting CONSTANT numeric := 30;  -- minutes of one study sitting
    expected numeric := greatest(1, ceil(coalesce(nullif(p_estimate, 0), sitting) / sitting));
    time_ratio numeric := CASE WHEN p_estimate > 0 THEN p_minutes::numeric / p_estimate END;
    attempt_ratio numeric := p_attempts / expected;
    flags text[] := '{}';
BEGIN
    IF time_ratio >= 1.5 THEN
        flags := flags || 'over_time'::text;
    END IF;
    IF attempt_ratio >= 2 THEN
        flags := flags || 'many_attempts'::text;
    END IF;
    IF p_status NOT IN ('COMPLETED', 'SKIPPED') AND time_ratio >= 1.5 AND attempt_ratio >= 2 THEN
        flags := flags || 'stuck'::text;
    END IF;
    indicators := jsonb_strip_nulls(jsonb_build_object(
        'attemptsOverEstimate', round(attempt_ratio, 2),
        'timeRatio', round(time_ratio, 2),
        'flags', to_jsonb(flags)));
    engagement := CASE WHEN p_status = 'COMPLETED' THEN 1
        ELSE round(least(1, 0.5 * least(1, coalesce(time_ratio, p_minutes / sitting))
                            + 0.5 * least(1, attempt_ratio)), 4) END;
END
$$;

CREATE FUNCTION learner_skills_in_category(p_user text, p_category text) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- The learner's completed skills in the trees of the category with slug p_category.
    RETURN (
        SELECT count(*) FROM user_skill_progress r
        JOIN skill_trees t ON t.id = r.skill_tree_id
        JOIN skill_categories c ON c.id = t.category_id
        WHERE r.user_id = p_user AND r.status = 'COMPLETED' AND c.slug = p_category);
END
$$;

CREATE FUNCTION achievement_measure(
    p_criteria jsonb, p_user text, p_skills_completed integer, p_total_xp integer,
    p_best_streak integer, p_trees_completed integer, p_milestones integer
) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- The learner's value of the measure an achievement's criteria name (NULL: none known).
    -- One expression, so that the planner inlines it into the query that uses it.
    SELECT CASE p_criteria->>'type'
        WHEN 'skill_completion_count' THEN p_skills_completed
        WHEN 'xp_threshold' THEN p_total_xp
        WHEN 'streak_days' THEN p_best_streak
        WHEN 'trees_completed' THEN p_trees_completed
        WHEN 'milestones_reached' THEN p_milestones
        WHEN 'skills_in_category' THEN learner_skills_in_category(
            p_user, p_criteria->'additionalParams'->>'category')
        END::numeric
$$;

-- ---- skill states -----------------------------------------------------------------------------

CREATE FUNCTION progress_satisfies(p_status "SkillProgressStatus", p_optional boolean)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- A prerequisite is satisfied when COMPLETED, or SKIPPED and optional.
    SELECT coalesce(p_status = 'COMPLETED' OR (p_status = 'SKIPPED' AND p_optional), false)
$$;

CREATE FUNCTION progress_held_back(p_user text, p_skills text[]) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    -- The skills among p_skills that some active prerequisite, not satisfied, holds back (once
    -- per such prerequisite). A plain query: the planner inlines it where it is used.
    SELECT d.skill_id
    FROM skill_dependencies d
    JOIN skills p ON p.id = d.depends_on_id AND p.is_active
    LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
    WHERE d.skill_id = ANY (p_skills) AND NOT progress_satisfies(r.status, p.is_optional)
$$;

CREATE FUNCTION progress_skill_state(
    p_user text, p_skill text, p_recorded "SkillProgressStatus"
) RETURNS "SkillProgressStatus"
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- IN_PROGRESS, COMPLETED and SKIPPED are what the row says; otherwise AVAILABLE when every
    -- active prerequisite is satisfied, else LOCKED. (PL/pgSQL, not SQL: its plan is kept.)
    IF p_recorded IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED') THEN
        RETURN p_recorded;
    ELSIF EXISTS (SELECT FROM progress_held_back(p_user, ARRAY[p_skill])) THEN
        RETURN 'LOCKED';
    END IF;
    RETURN 'AVAILABLE';
END
$$;

CREATE FUNCTION progress_missing_prerequisites(p_user text, p_skill text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    seen text[] := ARRAY[p_skill];
    level text[] := ARRAY[p_skill];
    found text[] := '{}';
    depths integer[] := '{}';
    depth integer := 0;
    following text[];
BEGIN
    -- Breadth first over active prerequisites: each skill at its nearest distance, once.
    LOOP
        depth := depth + 1;
        SELECT array_agg(DISTINCT d.depends_on_id) INTO following
        FROM skill_dependencies d JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        WHERE d.skill_id = ANY (level) AND d.depends_on_id <> ALL (seen);
        EXIT WHEN following IS NULL;
        seen := seen || following;
        found := found || following;
        depths := depths || array_fill(depth, ARRAY[cardinality(following)]);
        level := following;
    END LOOP;
    RETURN coalesce((
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name)
                         ORDER BY m.depth, p.name COLLATE "C", p.id COLLATE "C")
        FROM unnest(found, depths) AS m(id, depth)
        JOIN skills p ON p.id = m.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
        WHERE NOT progress_satisfies(r.status, p.is_optional)), '[]');
END
$$;

-- ---- tree progress (also what refresh_tree_enrolments runs after a tree changed) -------------

CREATE FUNCTION progress_tree_requirements_met(p_user text, p_tree text) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- Every required (not optional) active skill of the tree is completed or skipped. Stops at
    -- the first one that is not, so a learner far from the end costs a row or two.
    RETURN NOT EXISTS (
        SELECT FROM skills a
        WHERE a.skill_tree_id = p_tree AND a.is_active AND NOT a.is_optional
          AND NOT EXISTS (
              SELECT FROM user_skill_progress r
              WHERE r.user_id = p_user AND r.skill_id = a.id
                AND r.status IN ('COMPLETED', 'SKIPPED')));
END
$$;

CREATE FUNCTION refresh_enrolments(p_tree text, p_users text[], p_now timestamptz)
RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    total integer;
    users text[];
BEGIN
    -- Each enrolment's totals, percent, milestones and completion recounted from the learner's
    -- rows (of every learner of the tree when p_users is NULL), after the tree changed; returns
    -- the learners refreshed. Progress events keep the same numbers up to date one step at a
    -- time (progress_finish).
    SELECT count(*) INTO total FROM skills WHERE skill_tree_id = p_tree AND is_active;
    WITH learner AS (
        SELECT e.id, e.user_id,
               count(a.id) FILTER (WHERE p.status = 'COMPLETED') AS completed,
               coalesce(
                   array_agg(a.id ORDER BY a.id COLLATE "C")
                       FILTER (WHERE a.is_milestone AND p.status = 'COMPLETED'),
                   '{}') AS milestones
        -- (driven by the learners, not "p_users IS NULL OR ...": PL/pgSQL keeps a generic plan)
        FROM unnest(coalesce(p_users, ARRAY(
                SELECT user_id FROM user_skill_tree_progress WHERE skill_tree_id = p_tree)))
             AS u(user_id)
        JOIN user_skill_tree_progress e ON e.user_id = u.user_id AND e.skill_tree_id = p_tree
        LEFT JOIN user_skill_progress p
               ON p.user_id = e.user_id AND p.skill_tree_id = e.skill_tree_id
        LEFT JOIN skills a ON a.id = p.skill_id AND a.is_active
        GROUP BY e.id, e.user_id
    ), refreshed AS (
        UPDATE user_skill_tree_progress e
        SET total_skills = total,
            skills_completed = learner.completed,
            progress_percent = CASE WHEN total = 0 THEN 0
                                    ELSE 100.0 * learner.completed / total END,
            milestones_reached = learner.milestones,
            status = CASE
                WHEN learner.done THEN 'COMPLETED'::"TreeProgressStatus"
                WHEN e.status = 'COMPLETED' THEN 'IN_PROGRESS'::"TreeProgressStatus"
                ELSE e.status END,
            completed_at = CASE WHEN learner.done THEN coalesce(e.completed_at, p_now) END
        FROM (SELECT *, completed > 0 AND progress_tree_requirements_met(user_id, p_tree) AS done
              FROM learner) learner
        WHERE e.id = learner.id
        RETURNING e.user_id
    )
    SELECT array_agg(user_id) INTO users FROM refreshed;
    RETURN users;
END
$$;

-- ---- one event --------------------------------------------------------------------------------

CREATE FUNCTION progress_lock_learner(p_user text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    acting text := coalesce(current_setting('app.current_user_id', true), '');
BEGIN
    -- Under row-level security only the learner may act for themselves (docs/security.md).
    IF acting <> coalesce(p_user, '') AND (acting <> '' OR current_user = 'skilltree_app') THEN
        RAISE EXCEPTION 'only learner % may change their progress', p_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- One event per learner at a time: a repeated or racing event waits, then sees the first.
    PERFORM FROM user_profiles WHERE user_id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO user_profiles (user_id) VALUES (p_user) ON CONFLICT DO NOTHING;
        PERFORM FROM user_profiles WHERE user_id = p_user FOR UPDATE;
    END IF;
END
$$;

CREATE FUNCTION progress_unlock(
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

CREATE FUNCTION progress_unlock_enrolled(p_tree text, p_now timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- After a tree changed: for every learner enrolled in it, each active skill now free (every
    -- active prerequisite satisfied) without a row, or with a LOCKED one, becomes AVAILABLE with
    -- its unlock time and one UNLOCK event, as progress_unlock does after an event. Only two
    -- kinds of skill can be free: those without active prerequisites, and dependents of a skill
    -- the learner completed or skipped; so the candidates come from the learners' rows, not
    -- from every learner times every skill.
    WITH learners AS MATERIALIZED (
        SELECT user_id FROM user_skill_tree_progress WHERE skill_tree_id = p_tree
    ), candidates AS (
        SELECT l.user_id, s.id
        FROM learners l CROSS JOIN skills s
        WHERE s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT r.user_id, d.skill_id
        FROM learners l
        JOIN user_skill_progress r ON r.user_id = l.user_id AND r.skill_tree_id = p_tree
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.status IN ('COMPLETED', 'SKIPPED')
    ), ready AS MATERIALIZED (
        SELECT c.user_id, c.id
        FROM candidates c
        JOIN skills s ON s.id = c.id AND s.skill_tree_id = p_tree AND s.is_active
        LEFT JOIN user_skill_progress r ON r.user_id = c.user_id AND r.skill_id = c.id
        WHERE (r.status IS NULL OR r.status = 'LOCKED')
          AND NOT EXISTS (SELECT FROM progress_held_back(c.user_id, ARRAY[c.id]))
    ), rows AS (
        INSERT INTO user_skill_progress AS r (
            id, user_id, skill_id, skill_tree_id, status, unlocked_at)
        SELECT new_row_id(), user_id, id, p_tree, 'AVAILABLE', p_now FROM ready
        ON CONFLICT (user_id, skill_id)
            DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
            WHERE r.status = 'LOCKED'
        RETURNING r.user_id, r.skill_id
    )
    INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id)
    SELECT user_id, 'UNLOCK', p_tree, skill_id FROM rows
    ORDER BY user_id COLLATE "C", skill_id COLLATE "C";
END
$$;

CREATE FUNCTION progress_enrol_learner(p_user text, p_tree text, p_now timestamptz)
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

CREATE FUNCTION progress_finish(
    p_user text, p_tree text, p_skill text, p_now timestamptz, p_changed boolean,
    p_xp integer, p_minutes integer, p_activity boolean, p_unlocked jsonb,
    p_kind "ProgressEventKind" DEFAULT NULL, p_milestone boolean DEFAULT false
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    prof user_profiles;
    level_before integer;
    rewards integer := 0;
    earned jsonb := '[]';
    earned_now integer;
    milestones integer;
    achievement record;
    tree user_skill_tree_progress;
    skill user_skill_progress;
    skill_state jsonb;
BEGIN
    SELECT * INTO prof FROM user_profiles WHERE user_id = p_user;  -- locked by the caller
    level_before := prof.current_level;
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
            WHERE id = tree.id;
        END IF;
        prof.total_xp := prof.total_xp + p_xp;
        SELECT count(*) INTO prof.skills_completed FROM user_skill_progress
        WHERE user_id = p_user AND status = 'COMPLETED';
        SELECT count(*) FILTER (WHERE status = 'COMPLETED'),
               count(*) FILTER (WHERE status <> 'NOT_STARTED'),
               coalesce(sum(cardinality(milestones_reached)), 0)
        INTO prof.trees_completed, prof.trees_started, milestones
        FROM user_skill_tree_progress WHERE user_id = p_user;
        -- Award every active achievement now met, then look again while rewards add XP (only
        -- XP changes between rounds: later rounds look at XP thresholds only).
        LOOP
            earned_now := 0;
            FOR achievement IN
                SELECT a.*, achievement_measure(
                    a.criteria, p_user, prof.skills_completed, prof.total_xp, prof.max_streak,
                    prof.trees_completed, milestones) AS value
                FROM achievements a
                WHERE a.is_active AND NOT EXISTS (
                    SELECT FROM user_achievements e
                    WHERE e.user_id = p_user AND e.achievement_id = a.id)
                  AND (rewards = 0 OR a.criteria->>'type' = 'xp_threshold')
                  -- met (compared here, not in the loop: most events earn nothing)
                  AND achievement_measure(
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
    END IF;
    SELECT * INTO tree FROM user_skill_tree_progress
    WHERE user_id = p_user AND skill_tree_id = p_tree;
    IF p_skill IS NOT NULL THEN
        SELECT * INTO skill FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill;
        skill_state := jsonb_build_object(
            'skillId', p_skill,
            'status', progress_skill_state(p_user, p_skill, skill.status),
            'progressPercent', coalesce(skill.progress_percent, 0),
            'timeSpentMinutes', coalesce(skill.time_spent_minutes, 0),
            'attemptsCount', coalesce(skill.attempts_count, 0),
            'completionMethod', skill.completion_method,
            'completionScore', skill.completion_score,
            'unlockedAt', skill.unlocked_at,
            'startedAt', skill.started_at,
            'completedAt', skill.completed_at);
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

CREATE FUNCTION progress_enrol(
    p_user text, p_slug text, p_now timestamptz, p_unpublished_ok boolean DEFAULT false
) RETURNS jsonb
-- Plans kept from the first call on, for every query it runs (nested functions too): the
-- planner would otherwise often plan the same few index lookups again on every event.
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    tree record;
BEGIN
    SELECT id, is_published, created_by INTO tree FROM skill_trees WHERE slug = p_slug;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT tree.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', tree.created_by);
    END IF;
    PERFORM progress_lock_learner(p_user);
    IF EXISTS (SELECT FROM user_skill_tree_progress
               WHERE user_id = p_user AND skill_tree_id = tree.id) THEN
        RETURN progress_finish(p_user, tree.id, NULL, p_now, false, 0, 0, false, '[]');
    END IF;
    RETURN progress_finish(p_user, tree.id, NULL, p_now, true, 0, 0, false,
                           progress_enrol_learner(p_user, tree.id, p_now));
END
$$;

CREATE FUNCTION progress_skill_event(
    p_kind "ProgressEventKind", p_user text, p_skill text, p_now timestamptz,
    p_unpublished_ok boolean DEFAULT false,
    p_method "CompletionMethod" DEFAULT 'MANUAL', p_score double precision DEFAULT NULL,
    p_assessment text DEFAULT NULL, p_evidence jsonb DEFAULT NULL, p_minutes integer DEFAULT 0
) RETURNS jsonb
-- Plans kept from the first call on, for every query it runs (nested functions too): the
-- planner would otherwise often plan the same few index lookups again on every event.
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    skill record;
    mine user_skill_progress;
    state "SkillProgressStatus";
    passing double precision;
    xp integer := 0;
    unlocked jsonb := '[]';
    difficulty record;
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
    PERFORM progress_lock_learner(p_user);

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
    SELECT * INTO mine FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill;
    state := progress_skill_state(p_user, p_skill, mine.status);
    IF p_kind = 'SKIP' AND NOT skill.is_optional THEN
        RETURN jsonb_build_object('refused', 'NotOptional', 'name', skill.name);
    ELSIF p_kind = 'SKIP' AND state = 'COMPLETED' THEN
        RETURN jsonb_build_object('refused', 'AlreadyCompleted', 'name', skill.name);
    ELSIF state = 'LOCKED' THEN
        RETURN jsonb_build_object('refused', 'SkillLocked', 'name', skill.name,
                                  'missing', progress_missing_prerequisites(p_user, p_skill));
    END IF;

    IF NOT EXISTS (SELECT FROM user_skill_tree_progress
                   WHERE user_id = p_user AND skill_tree_id = skill.tree_id) THEN
        unlocked := progress_enrol_learner(p_user, skill.tree_id, p_now);
    END IF;
    -- Repeating what already happened changes nothing.
    IF (p_kind = 'START' AND state IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED'))
       OR (p_kind = 'COMPLETE' AND state = 'COMPLETED')
       OR (p_kind = 'SKIP' AND state = 'SKIPPED') THEN
        RETURN progress_finish(p_user, skill.tree_id, p_skill, p_now, false, 0, 0, false, unlocked);
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
    SELECT * INTO difficulty FROM learner_difficulty(
        mine.time_spent_minutes, mine.attempts_count, skill.estimated_minutes, mine.status);
    UPDATE user_skill_progress
    SET status = mine.status, progress_percent = mine.progress_percent,
        time_spent_minutes = mine.time_spent_minutes, attempts_count = mine.attempts_count,
        completion_method = mine.completion_method, completion_score = mine.completion_score,
        evidence_data = mine.evidence_data, started_at = mine.started_at,
        last_activity_at = mine.last_activity_at, completed_at = mine.completed_at,
        struggling_indicators = difficulty.indicators, engagement_score = difficulty.engagement
    WHERE id = mine.id;
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
    RETURN progress_finish(p_user, skill.tree_id, p_skill, p_now, true, xp, minutes, true,
                           unlocked, p_kind, skill.is_milestone);
END
$$;
"""

REFRESH = r"""
CREATE OR REPLACE FUNCTION refresh_tree_enrolments(p_tree text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    users text[];
BEGIN
    PERFORM progress_unlock_enrolled(p_tree, now());
    users := refresh_enrolments(p_tree, NULL, now());
    UPDATE user_profiles u
    SET trees_completed = (
        SELECT count(*) FROM user_skill_tree_progress t
        WHERE t.user_id = u.user_id AND t.status = 'COMPLETED'
    )
    WHERE u.user_id = ANY (users);
END
$$;
"""

# The downgrade's: refresh_tree_enrolments as 0010 installed it, with its grants (a frozen copy).
REFRESH_0010 = r"""
CREATE FUNCTION refresh_tree_enrolments(p_tree text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    users text[];
BEGIN
    WITH active AS (
        SELECT id, is_optional, is_milestone FROM skills
        WHERE skill_tree_id = p_tree AND is_active
    ), totals AS (
        SELECT count(*) AS total, count(*) FILTER (WHERE NOT is_optional) AS required FROM active
    ), learner AS (
        SELECT e.id,
               count(a.id) FILTER (WHERE p.status = 'COMPLETED') AS completed,
               count(a.id) FILTER (WHERE NOT a.is_optional AND p.status IN ('COMPLETED', 'SKIPPED'))
                   AS required_done,
               coalesce(
                   array_agg(a.id ORDER BY a.id)
                       FILTER (WHERE a.is_milestone AND p.status = 'COMPLETED'),
                   '{}') AS milestones
        FROM user_skill_tree_progress e
        LEFT JOIN user_skill_progress p
               ON p.user_id = e.user_id AND p.skill_tree_id = e.skill_tree_id
        LEFT JOIN active a ON a.id = p.skill_id
        WHERE e.skill_tree_id = p_tree
        GROUP BY e.id
    ), refreshed AS (
        UPDATE user_skill_tree_progress e
        SET total_skills = totals.total,
            skills_completed = learner.completed,
            progress_percent = CASE WHEN totals.total = 0 THEN 0
                                    ELSE 100.0 * learner.completed / totals.total END,
            milestones_reached = learner.milestones,
            status = CASE
                WHEN learner.completed > 0 AND learner.required_done = totals.required
                    THEN 'COMPLETED'::"TreeProgressStatus"
                WHEN e.status = 'COMPLETED' THEN 'IN_PROGRESS'::"TreeProgressStatus"
                ELSE e.status END,
            completed_at = CASE
                WHEN learner.completed > 0 AND learner.required_done = totals.required
                    THEN coalesce(e.completed_at, now()) END
        FROM learner, totals
        WHERE e.id = learner.id
        RETURNING e.user_id
    )
    SELECT array_agg(user_id) INTO users FROM refreshed;

    UPDATE user_profiles u
    SET trees_completed = (
        SELECT count(*) FROM user_skill_tree_progress t
        WHERE t.user_id = u.user_id AND t.status = 'COMPLETED'
    )
    WHERE u.user_id = ANY (users);
END
$$;
REVOKE ALL ON FUNCTION refresh_tree_enrolments(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refresh_tree_enrolments(text) TO skilltree_app;
"""

FUNCTIONS = (
    'progress_skill_event("ProgressEventKind", text, text, timestamptz, boolean,'
    ' "CompletionMethod", double precision, text, jsonb, integer)',
    "progress_enrol(text, text, timestamptz, boolean)",
    "progress_finish(text, text, text, timestamptz, boolean, integer, integer, boolean, jsonb,"
    ' "ProgressEventKind", boolean)',
    "progress_enrol_learner(text, text, timestamptz)",
    "progress_unlock(text, text, text[], timestamptz)",
    "progress_unlock_enrolled(text, timestamptz)",
    "progress_lock_learner(text)",
    "refresh_enrolments(text, text[], timestamptz)",
    "progress_tree_requirements_met(text, text)",
    "progress_missing_prerequisites(text, text)",
    'progress_skill_state(text, text, "SkillProgressStatus")',
    "progress_held_back(text, text[])",
    'progress_satisfies("SkillProgressStatus", boolean)',
    "achievement_measure(jsonb, text, integer, integer, integer, integer, integer)",
    "learner_skills_in_category(text, text)",
    'learner_difficulty(integer, integer, integer, "SkillProgressStatus")',
    "streak_as_of(integer, timestamptz, timestamptz, text)",
    "streak_after_activity(integer, timestamptz, timestamptz, text)",
    "learner_local_day(timestamptz, text)",
    "level_for_xp(integer)",
    "new_row_id()",
)


def upgrade() -> None:
    op.execute(ENGINE)
    op.execute(REFRESH)


def downgrade() -> None:
    # Back to 0010's own refresh_tree_enrolments before what it now calls goes.
    op.execute("DROP FUNCTION refresh_tree_enrolments(text)")
    op.execute(REFRESH_0010)
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
