"""progress: a completion in fewer statements, the XP histogram's move in two

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05

Issue 4's throughput target puts a completion's server time first (benchmarks/RESULTS.md,
bench_progress). Each statement a PL/pgSQL function runs costs its executor start-up, plan check
and shut-down, whatever it does; this revision runs fewer of them for the same rules:

- `progress_lock_profile` locks the learner's profile and returns it (0014's
  `progress_lock_learner` locked it, and `progress_finish` read it again).
- `progress_skill_event` reads the learner's row of the skill, its state and whether the learner
  is enrolled in one statement (were three), updates the row with its learner-difficulty fields
  in one statement (were two) and hands the row as written to `progress_finish`, which no longer
  reads the row, its state, the tree's row or the profile back.
- `progress_finish` measures achievements only for those the learner has not earned yet (it
  measured every active one, a `skills_in_category` measure being a query of its own).
- `xp_histogram_move` (the deferred trigger that moves a learner between XP values at commit)
  locks both values' rows in one statement and moves both, with their pending changes, in a
  second; `xp_histogram_add` (three to four statements, twice, through two SECURITY DEFINER
  calls) is left for a value whose row another transaction holds or that has no row yet.

The rules are 0014's and 0018's, unchanged; the downgrade restores those definitions (whole
copies of 0013's `xp_histogram_move`, 0014's `progress_lock_learner`, `progress_enrol` and
`progress_skill_event`, and 0018's `progress_finish`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTOGRAM_MOVE = r"""
CREATE OR REPLACE FUNCTION xp_histogram_move() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    held integer[];
BEGIN
    -- One learner's XP moved from OLD to NEW (at commit). The rows of both values this
    -- transaction can lock without waiting (ascending: no deadlock) take the move, with the
    -- pending changes committed for them meanwhile; a value whose row another transaction holds
    -- (or that has no row yet) goes through xp_histogram_add.
    SELECT coalesce(array_agg(total_xp), '{}') INTO held FROM (
        SELECT total_xp FROM xp_histogram WHERE total_xp IN (OLD.total_xp, NEW.total_xp)
        ORDER BY total_xp FOR UPDATE SKIP LOCKED) h;
    WITH folded AS (
        DELETE FROM xp_histogram_pending WHERE total_xp = ANY (held)
        RETURNING total_xp, learners
    )
    UPDATE xp_histogram h
    SET learners = h.learners + CASE WHEN h.total_xp = NEW.total_xp THEN 1 ELSE -1 END
        + coalesce((SELECT sum(f.learners) FROM folded f WHERE f.total_xp = h.total_xp), 0)
    WHERE h.total_xp = ANY (held);
    IF NOT OLD.total_xp = ANY (held) THEN
        PERFORM xp_histogram_add(OLD.total_xp, -1);
    END IF;
    IF NOT NEW.total_xp = ANY (held) THEN
        PERFORM xp_histogram_add(NEW.total_xp, 1);
    END IF;
    RETURN NULL;
END
$$;
"""

ENGINE = r"""
CREATE FUNCTION progress_lock_profile(p_user text) RETURNS user_profiles
LANGUAGE plpgsql AS $$
DECLARE
    acting text := coalesce(current_setting('app.current_user_id', true), '');
    prof user_profiles;
BEGIN
    -- Under row-level security only the learner may act for themselves (docs/security.md).
    IF acting <> coalesce(p_user, '') AND (acting <> '' OR current_user = 'skilltree_app') THEN
        RAISE EXCEPTION 'only learner % may change their progress', p_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- One event per learner at a time: a repeated or racing event waits, then sees the first.
    -- Returns the profile as locked (created when the learner has none yet).
    SELECT * INTO prof FROM user_profiles WHERE user_id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO user_profiles (user_id) VALUES (p_user) ON CONFLICT DO NOTHING;
        SELECT * INTO STRICT prof FROM user_profiles WHERE user_id = p_user FOR UPDATE;
    END IF;
    RETURN prof;
END
$$;

DROP FUNCTION progress_finish(text, text, text, timestamptz, boolean, integer, integer, boolean,
                              jsonb, "ProgressEventKind", boolean);

CREATE FUNCTION progress_finish(
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

CREATE OR REPLACE FUNCTION progress_enrol(
    p_user text, p_slug text, p_now timestamptz, p_unpublished_ok boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    tree record;
    prof user_profiles;
BEGIN
    SELECT id, is_published, created_by INTO tree FROM skill_trees WHERE slug = p_slug;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT tree.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', tree.created_by);
    END IF;
    prof := progress_lock_profile(p_user);
    IF EXISTS (SELECT FROM user_skill_tree_progress
               WHERE user_id = p_user AND skill_tree_id = tree.id) THEN
        RETURN progress_finish(prof, tree.id, NULL, NULL, p_now, false, 0, 0, false, '[]');
    END IF;
    RETURN progress_finish(prof, tree.id, NULL, NULL, p_now, true, 0, 0, false,
                           progress_enrol_learner(p_user, tree.id, p_now));
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

DROP FUNCTION progress_lock_learner(text);
"""


# The downgrade's: the definitions of 0020's schema, whole.
HISTOGRAM_MOVE_0013 = r"""
CREATE OR REPLACE FUNCTION xp_histogram_move() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- One learner's XP changed (at commit).
    PERFORM xp_histogram_add(OLD.total_xp, -1);
    PERFORM xp_histogram_add(NEW.total_xp, 1);
    RETURN NULL;
END
$$;
"""

LOCK_LEARNER_0014 = r"""
CREATE OR REPLACE FUNCTION progress_lock_learner(p_user text) RETURNS void
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
"""

FINISH_0018 = r"""
CREATE OR REPLACE FUNCTION progress_finish(
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
        -- One row per enrolment, each kept exact (this event moved its tree's row above).
        SELECT coalesce(sum(skills_completed), 0),
               count(*) FILTER (WHERE status = 'COMPLETED'),
               count(*) FILTER (WHERE status <> 'NOT_STARTED'),
               coalesce(sum(cardinality(milestones_reached)), 0)
        INTO prof.skills_completed, prof.trees_completed, prof.trees_started, milestones
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
"""

ENROL_0014 = r"""
CREATE OR REPLACE FUNCTION progress_enrol(
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
"""

SKILL_EVENT_0014 = r"""
CREATE OR REPLACE FUNCTION progress_skill_event(
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


def upgrade() -> None:
    op.execute(HISTOGRAM_MOVE)
    op.execute(ENGINE)


def downgrade() -> None:
    op.execute(HISTOGRAM_MOVE_0013)
    op.execute(LOCK_LEARNER_0014)
    op.execute(
        "DROP FUNCTION progress_finish(user_profiles, text, text, user_skill_progress,"
        ' timestamptz, boolean, integer, integer, boolean, jsonb, "ProgressEventKind", boolean)'
    )
    op.execute(FINISH_0018)
    op.execute(ENROL_0014)
    op.execute(SKILL_EVENT_0014)
    op.execute("DROP FUNCTION progress_lock_profile(text)")
