"""progress: the engine on PostgreSQL's default plans, no SQL-language helpers, no CASE on the event kind

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07

`progress_skill_event` ran with `plan_cache_mode = force_generic_plan` (0021; 0036 kept it). Issue
18's Citus trial could not run it so (the setting breaks distributed planning), nor the engine's
SQL-language helpers that take parameters (`progress_held_back`), nor `CASE p_kind WHEN ...`.
Without the setting, two statements of an event stayed on custom plans, planned again at every
event (a completion 12.8 ms instead of 7.0 ms at 10,000 skills, loaded machine). Now every
statement an event runs is planned alike custom or generic, so PostgreSQL's default keeps the
generic plan after five calls:

- `progress_unlock` takes its candidates and tree through one row (a MATERIALIZED CTE), not as
  constants: a custom plan counted the constant array's few ids, always fewer than the generic
  plan's guess of 10, and cost less, so the generic plan was never chosen. The whole-tree case
  (candidates NULL) is resolved before the statement.
- `progress_finish`'s achievements: no `rewards = 0 OR ...` switch (a custom plan folds it);
  every round asks about every achievement not yet earned (only XP changes between rounds, so
  a later round meets the same ones as before: XP thresholds), measured once each.
- No `plan_cache_mode` on `progress_skill_event`.
- `progress_held_back` is dropped: `progress_skill_state` and `progress_unlock_enrolled` hold
  its query inline. The engine calls no SQL-language function with parameters:
  `progress_satisfies`' test is inline in the engine (the function stays for the read side's
  queries, which inline it), and `achievement_measure`, `level_for_xp`, `content_time_logged`,
  `content_has_modules`, `content_verified_seconds` are PL/pgSQL (one call each per event,
  `achievement_measure` once per achievement not yet earned).
- `progress_skill_event` branches on the event kind with IF/ELSIF (the event's details too),
  not `CASE p_kind`.

Behaviour is unchanged (tests/progress, gamification, content and the rest);
tests/schema/test_engine_plans.py keeps it so: no function has a `plan_cache_mode`, no helper
of the engine is LANGUAGE sql with parameters, no `CASE p_kind`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by `skilltree db new-migration` from the live schema as 0038 left it
# (db/schema/progress.sql, db/schema/gamification.sql, db/schema/content.sql): edit it into what this revision installs.
UPGRADE = r"""
CREATE OR REPLACE FUNCTION public.progress_skill_event(p_kind "ProgressEventKind", p_user text, p_skill text, p_now timestamp with time zone, p_unpublished_ok boolean DEFAULT false, p_method "CompletionMethod" DEFAULT 'MANUAL'::"CompletionMethod", p_score double precision DEFAULT NULL::double precision, p_assessment text DEFAULT NULL::text, p_evidence jsonb DEFAULT NULL::jsonb, p_minutes integer DEFAULT 0)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    skill record;
    held boolean := false;
    prof user_profiles;
    current record;
    mine user_skill_progress;
    state "SkillProgressStatus";
    passing double precision;
    xp integer := 0;
    unlocked jsonb := '[]';
    minutes integer := CASE WHEN p_kind IN ('COMPLETE', 'ACTIVITY') THEN coalesce(p_minutes, 0)
                            ELSE 0 END;
    details jsonb := '{}';
BEGIN
    IF p_kind NOT IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY') THEN
        RAISE EXCEPTION 'not a skill event: %', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The learner first, then the skill: an author's change of a tree holds the tree and then
    -- its learners before it writes (hold_tree_learners), so an event in flight finishes before
    -- it, and a later one reads what it left; the event's own writes (whose foreign keys lock
    -- the skills they name) never wait for a change that waits for this learner.
    prof := progress_lock_profile(p_user);
    LOOP
        SELECT s.id, s.name, s.skill_tree_id AS tree_id, s.is_active, s.is_optional,
               s.xp_value, s.is_milestone, s.estimated_minutes, s.assessments, s.content,
               s.completion_policy AS policy, t.is_published, t.created_by,
               EXISTS (SELECT FROM user_skill_tree_progress e
                       WHERE e.user_id = p_user AND e.skill_tree_id = s.skill_tree_id) AS enrolled
        INTO skill FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = p_skill;
        EXIT WHEN NOT FOUND OR skill.enrolled OR held;
        -- A learner the change does not hold (not enrolled yet): the tree is held instead (KEY
        -- SHARE, until the transaction ends: a change in flight is waited for, a later one
        -- waits), and the skill read again as it now is (gone with its tree, perhaps).
        PERFORM FROM skill_trees WHERE id = skill.tree_id FOR KEY SHARE;
        held := true;
    END LOOP;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT skill.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', skill.created_by);
    ELSIF NOT skill.is_active THEN
        RETURN jsonb_build_object('refused', 'Inactive', 'name', skill.name);
    END IF;

    -- Refusals first: a refused event writes nothing.
    -- A completion by a method the skill's completion policy does not allow (0029): refused
    -- with the methods it allows, in the enum's order.
    IF p_kind = 'COMPLETE' AND NOT coalesce(skill.policy ? p_method::text, false) THEN
        RETURN jsonb_build_object('refused', 'MethodNotAllowed', 'name', skill.name,
            'method', p_method,
            'allowed', (SELECT jsonb_agg(m ORDER BY m)
                        FROM unnest(enum_range(NULL::"CompletionMethod")) m
                        WHERE skill.policy ? m::text));
    END IF;
    -- A skill with a question bank (0030) is completed by ASSESSMENT only through an attempt
    -- the server graded: the evidence names a passed attempt of this learner at this skill
    -- (assessment_submit's completion); a score sent by a client completes nothing.
    IF p_kind = 'COMPLETE' AND p_method = 'ASSESSMENT'
       AND EXISTS (SELECT FROM question_banks WHERE skill_id = p_skill)
       AND NOT EXISTS (SELECT FROM assessment_attempts a
                       WHERE a.user_id = p_user AND a.id = p_evidence->'metadata'->>'attemptId'
                         AND a.skill_id = p_skill AND a.passed) THEN
        RETURN jsonb_build_object('refused', 'AttemptRequired', 'name', skill.name,
                                  'skillId', p_skill);
    END IF;
    -- A PROJECT completion (0038) only through an approved review: the evidence names an
    -- approved submission of this learner at this skill (project_decide's completion); the
    -- learner's own word completes nothing.
    IF p_kind = 'COMPLETE' AND p_method = 'PROJECT'
       AND NOT EXISTS (SELECT FROM project_submissions p
                       WHERE p.user_id = p_user AND p.id = p_evidence->'metadata'->>'submissionId'
                         AND p.skill_id = p_skill AND p.status = 'APPROVED') THEN
        RETURN jsonb_build_object('refused', 'ReviewRequired', 'name', skill.name,
                                  'skillId', p_skill);
    END IF;
    -- A score, whatever the method, must pass the skill's mark (before 0026 only an ASSESSMENT
    -- completion was checked: {"score": 10} completed a skill whose assessment needs 80).
    IF p_kind = 'COMPLETE' AND (p_method = 'ASSESSMENT' OR p_score IS NOT NULL) THEN
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
        END IF;
        -- The policy's passingScore for ASSESSMENT only ever raises the mark (0029).
        IF p_method = 'ASSESSMENT' THEN
            passing := greatest(passing, (skill.policy->'ASSESSMENT'->>'passingScore')::float8);
        END IF;
        IF p_score < passing THEN
            RETURN jsonb_build_object('refused', 'ScoreTooLow', 'passing', passing,
                                      'score', p_score);
        END IF;
    END IF;
    -- The learner's row of the skill (if any) and its state.
    SELECT r AS row, progress_skill_state(p_user, p_skill, r.status) AS state
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
    -- TIME_BASED (0029): the time logged on the skill must reach the policy's minutes (a
    -- completed skill is answered as it is, below). Since 0034 a skill with content modules
    -- counts only the time its modules' heartbeats measured (content_time_logged); one without
    -- modules, the minutes reported on it with this completion's (the client's word).
    ELSIF p_kind = 'COMPLETE' AND p_method = 'TIME_BASED' AND state <> 'COMPLETED'
          AND content_time_logged(p_user, p_skill, skill.content,
                                  coalesce(mine.time_spent_minutes, 0) + minutes)
              < (skill.policy->'TIME_BASED'->>'minutes')::integer THEN
        RETURN jsonb_build_object('refused', 'NotEnoughTime', 'name', skill.name,
            'required', (skill.policy->'TIME_BASED'->>'minutes')::integer,
            'logged', content_time_logged(p_user, p_skill, skill.content,
                                          coalesce(mine.time_spent_minutes, 0) + minutes),
            'verified', content_has_modules(skill.content));
    END IF;

    IF NOT skill.enrolled THEN
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
    -- (IF on the kind, not CASE p_kind: issue 18's Citus trial could not run that on a worker.)
    IF p_kind = 'START' THEN
        mine.status := 'IN_PROGRESS';
        mine.started_at := p_now;
    ELSIF p_kind = 'COMPLETE' THEN
        mine.status := 'COMPLETED';
        mine.progress_percent := 100;
        mine.completed_at := p_now;
        mine.started_at := coalesce(mine.started_at, p_now);
        mine.completion_method := p_method;
        mine.completion_score := p_score;
        mine.evidence_data := p_evidence;
        mine.time_spent_minutes := mine.time_spent_minutes + minutes;
        xp := skill.xp_value;
        details := jsonb_build_object('method', p_method, 'score', p_score, 'minutes', minutes);
    ELSIF p_kind = 'SKIP' THEN
        mine.status := 'SKIPPED';
    ELSE
        mine.time_spent_minutes := mine.time_spent_minutes + minutes;
        mine.attempts_count := mine.attempts_count + 1;
        details := jsonb_build_object('minutes', minutes);
    END IF;
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
    VALUES (p_user, p_kind, skill.tree_id, p_skill, xp, p_now, details);
    IF p_kind IN ('COMPLETE', 'SKIP') THEN
        unlocked := unlocked || progress_unlock(p_user, skill.tree_id, ARRAY(
            SELECT skill_id FROM skill_dependencies WHERE depends_on_id = p_skill), p_now);
    END IF;
    RETURN progress_finish(prof, skill.tree_id, p_skill, mine, p_now, true, xp, minutes, true,
                           unlocked, p_kind, skill.is_milestone);
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_unlock(p_user text, p_tree text, p_candidates text[], p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    ids text[] := p_candidates;
    unlocked jsonb;
BEGIN
    IF ids IS NULL THEN  -- (apart: in the statement below, a custom plan would fold it)
        ids := ARRAY(SELECT id FROM skills WHERE skill_tree_id = p_tree);
    END IF;
    -- Every candidate (every active skill of the tree when NULL) without a row or LOCKED whose
    -- prerequisites are now satisfied (COMPLETED, or SKIPPED and optional: as
    -- progress_satisfies) becomes AVAILABLE, with its unlock time and one UNLOCK event (only
    -- for the rows this statement wrote: a racing tree edit writes the others).
    -- Whatever plan the planner makes (custom or generic), each candidate meets the skill, the
    -- learner's row and the prerequisites that are its own by equalities that an index, a hash
    -- or a merge answers, never a filter over all of them: a custom plan of the previous shape
    -- (a LEFT JOIN of the learner's rows kept by "status IS NULL OR LOCKED", then
    -- progress_held_back(p_user, ARRAY[c.id])) took 10,000 candidates for a few and compared
    -- each with every skill of the tree in a nested loop (10^9 pairs, 63 s).
    -- The candidates and the tree come in through one row (args), which the planner sees as a
    -- row, not as the constants of this call: a custom plan then costs exactly what the generic
    -- plan does, and PostgreSQL keeps the generic one after five calls. (With the ids as a
    -- constant array, a custom plan always counted fewer candidates than the generic plan's
    -- guess of 10, so this statement was planned again at every event: 0039.)
    WITH args AS MATERIALIZED (
        SELECT p_tree AS tree_id, ids
    ), candidates AS MATERIALIZED (
        SELECT c.id
        FROM args
        CROSS JOIN unnest(args.ids) AS k(id)
        JOIN skills c ON c.id = k.id AND c.skill_tree_id = args.tree_id
        WHERE c.is_active
          AND NOT EXISTS (
              SELECT FROM user_skill_progress r
              WHERE r.user_id = p_user AND r.skill_id = c.id AND r.status <> 'LOCKED')
    ), ready AS MATERIALIZED (
        SELECT c.id FROM candidates c
        WHERE NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            LEFT JOIN user_skill_progress pr ON pr.user_id = p_user AND pr.skill_id = p.id
            WHERE d.skill_id = c.id
              AND NOT coalesce(pr.status = 'COMPLETED'
                               OR (pr.status = 'SKIPPED' AND p.is_optional), false))
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
    -- The names by each written row's skill (its primary key): the planner takes both CTEs
    -- for one row each, and a join of the two was a nested loop, quadratic in what unlocked.
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name)
                              ORDER BY s.id COLLATE "C"), '[]')
    INTO unlocked FROM rows JOIN skills s ON s.id = rows.skill_id;
    RETURN unlocked;
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_finish(p_prof user_profiles, p_tree text, p_skill text, p_row user_skill_progress, p_now timestamp with time zone, p_changed boolean, p_xp integer, p_minutes integer, p_activity boolean, p_unlocked jsonb, p_kind "ProgressEventKind" DEFAULT NULL::"ProgressEventKind", p_milestone boolean DEFAULT false, p_seconds numeric DEFAULT 0)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
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
    -- p_minutes: minutes added to the skill's time (the tree's too); p_seconds: the part of it
    -- measured on content (content_heartbeat), the only time hours learned count (0034).
    IF p_changed THEN
        IF p_activity THEN
            -- Learning activity today: streak in the learner's zone, last activity.
            prof.current_streak := streak_after_activity(
                prof.current_streak, prof.last_activity_at, p_now, prof.timezone);
            prof.max_streak := greatest(prof.max_streak, prof.current_streak);
            prof.last_activity_at := p_now;
        END IF;
        prof.hours_learned := prof.hours_learned + coalesce(p_seconds, 0) / 3600.0;
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
        -- Award every active achievement now met, then look again while rewards add XP. Only
        -- XP changes between rounds, so a later round can only meet an XP threshold; it asks
        -- the same question of every achievement not yet earned all the same (no "first
        -- round" switch: a custom plan folds one, and its statement would be planned again at
        -- every event; rounds after the first are rare and few). Measured once each, and only
        -- for the achievements not yet earned (the fence keeps the planner from measuring
        -- first, or twice).
        LOOP
            earned_now := 0;
            FOR achievement IN
                SELECT * FROM (
                    SELECT a.*, achievement_measure(
                        a.criteria, p_user, prof.skills_completed, prof.total_xp,
                        prof.max_streak, prof.trees_completed, milestones,
                        prof.hours_learned) AS value
                    FROM achievements a
                    WHERE a.is_active
                      AND NOT EXISTS (
                          SELECT FROM user_achievements e
                          WHERE e.user_id = p_user AND e.achievement_id = a.id)
                    OFFSET 0) a
                WHERE a.value >= (a.criteria->>'threshold')::numeric
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
$function$;

CREATE OR REPLACE FUNCTION public.progress_skill_state(p_user text, p_skill text, p_recorded "SkillProgressStatus")
 RETURNS "SkillProgressStatus"
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
AS $function$
BEGIN
    -- IN_PROGRESS, COMPLETED and SKIPPED are what the row says; otherwise AVAILABLE when every
    -- active prerequisite is satisfied (COMPLETED, or SKIPPED and optional: as
    -- progress_satisfies), else LOCKED. (PL/pgSQL, not SQL: its plan is kept.)
    IF p_recorded IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED') THEN
        RETURN p_recorded;
    ELSIF EXISTS (
        SELECT FROM skill_dependencies d
        JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
        WHERE d.skill_id = p_skill
          AND NOT coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND p.is_optional),
                           false)) THEN
        RETURN 'LOCKED';
    END IF;
    RETURN 'AVAILABLE';
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_unlock_enrolled(p_tree text, p_now timestamp with time zone, p_users text[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
    -- After a tree changed: for every learner enrolled in it, each active skill now free (every
    -- active prerequisite satisfied) without a row, or with a LOCKED one, becomes AVAILABLE with
    -- its unlock time and one UNLOCK event, as progress_unlock does after an event. Only two
    -- kinds of skill can be free: those without active prerequisites, and dependents of a skill
    -- the learner completed or skipped; so the candidates come from the learners' rows, not
    -- from every learner times every skill.
    WITH learners AS MATERIALIZED (
        SELECT user_id FROM user_skill_tree_progress WHERE skill_tree_id = p_tree AND user_id = ANY (p_users)
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
          AND NOT EXISTS (  -- an active prerequisite not satisfied (as progress_satisfies)
              SELECT FROM skill_dependencies d
              JOIN skills p ON p.id = d.depends_on_id AND p.is_active
              LEFT JOIN user_skill_progress pr ON pr.user_id = c.user_id AND pr.skill_id = p.id
              WHERE d.skill_id = c.id
                AND NOT coalesce(pr.status = 'COMPLETED'
                                 OR (pr.status = 'SKIPPED' AND p.is_optional), false))
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
$function$;

DROP FUNCTION progress_held_back(text, text[]);

CREATE OR REPLACE FUNCTION public.progress_enrol_learner(p_user text, p_tree text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    -- The learner holds the tree (progress_enrol): no writer changes its graph meanwhile.
    ranked boolean := EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = p_tree);
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree. The roots
    -- are the tree's stored ranks' when they are current (skill_ranks, by the tree's index: the
    -- roots alone), else the skills without an active prerequisite (only one of the two runs).
    -- The one statement of the engine planned again at each call (a custom plan folds
    -- `ranked`: 0036), once per enrolment, whose writes cost far more.
    RETURN progress_unlock(p_user, p_tree, ARRAY(
        SELECT k.skill_id FROM skill_ranks k
        WHERE ranked AND k.skill_tree_id = p_tree AND k.prerequisites = 0
        UNION
        SELECT s.id FROM skills s
        WHERE NOT ranked AND s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT d.skill_id
        FROM user_skill_progress r
        JOIN skills p ON p.id = r.skill_id
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.user_id = p_user AND r.skill_tree_id = p_tree
          AND coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND p.is_optional),
                       false)), p_now);
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_missing_prerequisites(p_user text, p_skill text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
    -- Breadth first over active prerequisites, each skill once at its nearest distance, in one
    -- recursive query. The distance is an interval of n days minus n*24 hours, which PostgreSQL
    -- compares (and hashes) as equal whatever n: UNION keeps each skill once, from the first,
    -- nearest level it is met at, while the day part still counts the level (the trick of
    -- skill_dependency_chain, in src/skilltree/db/schema/graph.sql). The loop this replaces
    -- compared every new skill with every skill seen before it: quadratic in the prerequisites.
    RETURN coalesce((
        WITH RECURSIVE reached(id, level) AS (
            SELECT p_skill, interval '0'
            UNION
            SELECT d.depends_on_id, m.level + interval '1 day' - interval '24 hours'
            FROM reached m
            JOIN skill_dependencies d ON d.skill_id = m.id
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        )
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name)
                         ORDER BY extract(day FROM m.level), p.name COLLATE "C", p.id COLLATE "C")
        FROM reached m
        JOIN skills p ON p.id = m.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
        WHERE m.id <> p_skill
          AND NOT coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND p.is_optional),
                           false)), '[]');
END
$function$;

CREATE OR REPLACE FUNCTION public.achievement_measure(p_criteria jsonb, p_user text, p_skills_completed integer, p_total_xp integer, p_best_streak integer, p_trees_completed integer, p_milestones integer, p_hours double precision)
 RETURNS numeric
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
AS $function$
BEGIN
    -- The learner's value of the measure an achievement's criteria name (NULL: none known).
    -- PL/pgSQL, not SQL: the engine calls no SQL function with parameters (Citus cannot run
    -- one in a distributed function), and progress_finish measures each achievement once.
    RETURN CASE p_criteria->>'type'
        WHEN 'skill_completion_count' THEN p_skills_completed
        WHEN 'xp_threshold' THEN p_total_xp
        WHEN 'streak_days' THEN p_best_streak
        WHEN 'trees_completed' THEN p_trees_completed
        WHEN 'milestones_reached' THEN p_milestones
        WHEN 'hours_learned' THEN p_hours
        WHEN 'skills_in_category' THEN learner_skills_in_category(
            p_user, p_criteria->'additionalParams'->>'category')
        END::numeric;
END
$function$;

CREATE OR REPLACE FUNCTION public.level_for_xp(p_xp integer)
 RETURNS integer
 LANGUAGE plpgsql
 IMMUTABLE PARALLEL SAFE
AS $function$
BEGIN
    -- Level n starts at 100·(n-1)² XP: 0, 100, 400, 900, ... (PL/pgSQL: as achievement_measure)
    RETURN 1 + floor(sqrt((greatest(p_xp, 0) / 100)::numeric))::integer;
END
$function$;

CREATE OR REPLACE FUNCTION public.content_time_logged(p_user text, p_skill text, p_content jsonb, p_reported integer)
 RETURNS integer
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
AS $function$
BEGIN
    -- The whole minutes that count toward a TIME_BASED policy: for a skill with content
    -- modules, those measured on them; for one without, p_reported (the client's word).
    -- (PL/pgSQL, as the other helpers of the progress engine: achievement_measure.)
    IF content_has_modules(p_content) THEN
        RETURN floor(content_verified_seconds(p_user, p_skill) / 60)::integer;
    END IF;
    RETURN p_reported;
END
$function$;

CREATE OR REPLACE FUNCTION public.content_has_modules(p_content jsonb)
 RETURNS boolean
 LANGUAGE plpgsql
 IMMUTABLE PARALLEL SAFE
AS $function$
BEGIN
    -- Whether a skill's content has modules to measure time on.
    RETURN coalesce(jsonb_typeof(p_content->'modules') = 'array'
                    AND jsonb_array_length(p_content->'modules') > 0, false);
END
$function$;

CREATE OR REPLACE FUNCTION public.content_verified_seconds(p_user text, p_skill text)
 RETURNS numeric
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
AS $function$
BEGIN
    -- The seconds heartbeats measured on the skill's content modules for the learner.
    RETURN (SELECT coalesce(sum(seconds_spent), 0) FROM user_skill_module_progress
            WHERE user_id = p_user AND skill_id = p_skill);
END
$function$;
"""

# What 0038 installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION public.progress_skill_event(p_kind "ProgressEventKind", p_user text, p_skill text, p_now timestamp with time zone, p_unpublished_ok boolean DEFAULT false, p_method "CompletionMethod" DEFAULT 'MANUAL'::"CompletionMethod", p_score double precision DEFAULT NULL::double precision, p_assessment text DEFAULT NULL::text, p_evidence jsonb DEFAULT NULL::jsonb, p_minutes integer DEFAULT 0)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
DECLARE
    skill record;
    held boolean := false;
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
    -- The learner first, then the skill: an author's change of a tree holds the tree and then
    -- its learners before it writes (hold_tree_learners), so an event in flight finishes before
    -- it, and a later one reads what it left; the event's own writes (whose foreign keys lock
    -- the skills they name) never wait for a change that waits for this learner.
    prof := progress_lock_profile(p_user);
    LOOP
        SELECT s.id, s.name, s.skill_tree_id AS tree_id, s.is_active, s.is_optional,
               s.xp_value, s.is_milestone, s.estimated_minutes, s.assessments, s.content,
               s.completion_policy AS policy, t.is_published, t.created_by,
               EXISTS (SELECT FROM user_skill_tree_progress e
                       WHERE e.user_id = p_user AND e.skill_tree_id = s.skill_tree_id) AS enrolled
        INTO skill FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = p_skill;
        EXIT WHEN NOT FOUND OR skill.enrolled OR held;
        -- A learner the change does not hold (not enrolled yet): the tree is held instead (KEY
        -- SHARE, until the transaction ends: a change in flight is waited for, a later one
        -- waits), and the skill read again as it now is (gone with its tree, perhaps).
        PERFORM FROM skill_trees WHERE id = skill.tree_id FOR KEY SHARE;
        held := true;
    END LOOP;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT skill.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', skill.created_by);
    ELSIF NOT skill.is_active THEN
        RETURN jsonb_build_object('refused', 'Inactive', 'name', skill.name);
    END IF;

    -- Refusals first: a refused event writes nothing.
    -- A completion by a method the skill's completion policy does not allow (0029): refused
    -- with the methods it allows, in the enum's order.
    IF p_kind = 'COMPLETE' AND NOT coalesce(skill.policy ? p_method::text, false) THEN
        RETURN jsonb_build_object('refused', 'MethodNotAllowed', 'name', skill.name,
            'method', p_method,
            'allowed', (SELECT jsonb_agg(m ORDER BY m)
                        FROM unnest(enum_range(NULL::"CompletionMethod")) m
                        WHERE skill.policy ? m::text));
    END IF;
    -- A skill with a question bank (0030) is completed by ASSESSMENT only through an attempt
    -- the server graded: the evidence names a passed attempt of this learner at this skill
    -- (assessment_submit's completion); a score sent by a client completes nothing.
    IF p_kind = 'COMPLETE' AND p_method = 'ASSESSMENT'
       AND EXISTS (SELECT FROM question_banks WHERE skill_id = p_skill)
       AND NOT EXISTS (SELECT FROM assessment_attempts a
                       WHERE a.user_id = p_user AND a.id = p_evidence->'metadata'->>'attemptId'
                         AND a.skill_id = p_skill AND a.passed) THEN
        RETURN jsonb_build_object('refused', 'AttemptRequired', 'name', skill.name,
                                  'skillId', p_skill);
    END IF;
    -- A PROJECT completion (0038) only through an approved review: the evidence names an
    -- approved submission of this learner at this skill (project_decide's completion); the
    -- learner's own word completes nothing.
    IF p_kind = 'COMPLETE' AND p_method = 'PROJECT'
       AND NOT EXISTS (SELECT FROM project_submissions p
                       WHERE p.user_id = p_user AND p.id = p_evidence->'metadata'->>'submissionId'
                         AND p.skill_id = p_skill AND p.status = 'APPROVED') THEN
        RETURN jsonb_build_object('refused', 'ReviewRequired', 'name', skill.name,
                                  'skillId', p_skill);
    END IF;
    -- A score, whatever the method, must pass the skill's mark (before 0026 only an ASSESSMENT
    -- completion was checked: {"score": 10} completed a skill whose assessment needs 80).
    IF p_kind = 'COMPLETE' AND (p_method = 'ASSESSMENT' OR p_score IS NOT NULL) THEN
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
        END IF;
        -- The policy's passingScore for ASSESSMENT only ever raises the mark (0029).
        IF p_method = 'ASSESSMENT' THEN
            passing := greatest(passing, (skill.policy->'ASSESSMENT'->>'passingScore')::float8);
        END IF;
        IF p_score < passing THEN
            RETURN jsonb_build_object('refused', 'ScoreTooLow', 'passing', passing,
                                      'score', p_score);
        END IF;
    END IF;
    -- The learner's row of the skill (if any) and its state.
    SELECT r AS row, progress_skill_state(p_user, p_skill, r.status) AS state
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
    -- TIME_BASED (0029): the time logged on the skill must reach the policy's minutes (a
    -- completed skill is answered as it is, below). Since 0034 a skill with content modules
    -- counts only the time its modules' heartbeats measured (content_time_logged); one without
    -- modules, the minutes reported on it with this completion's (the client's word).
    ELSIF p_kind = 'COMPLETE' AND p_method = 'TIME_BASED' AND state <> 'COMPLETED'
          AND content_time_logged(p_user, p_skill, skill.content,
                                  coalesce(mine.time_spent_minutes, 0) + minutes)
              < (skill.policy->'TIME_BASED'->>'minutes')::integer THEN
        RETURN jsonb_build_object('refused', 'NotEnoughTime', 'name', skill.name,
            'required', (skill.policy->'TIME_BASED'->>'minutes')::integer,
            'logged', content_time_logged(p_user, p_skill, skill.content,
                                          coalesce(mine.time_spent_minutes, 0) + minutes),
            'verified', content_has_modules(skill.content));
    END IF;

    IF NOT skill.enrolled THEN
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
$function$;

CREATE OR REPLACE FUNCTION public.progress_unlock(p_user text, p_tree text, p_candidates text[], p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    unlocked jsonb;
BEGIN
    -- Every candidate (every active skill of the tree when NULL) without a row or LOCKED whose
    -- prerequisites are now satisfied becomes AVAILABLE, with its unlock time and one UNLOCK
    -- event (only for the rows this statement wrote: a racing tree edit writes the others).
    -- Whatever plan the planner makes (custom or generic), each candidate meets the skill, the
    -- learner's row and the prerequisites that are its own by equalities that an index, a hash
    -- or a merge answers, never a filter over all of them: a custom plan of the previous shape
    -- (a LEFT JOIN of the learner's rows kept by "status IS NULL OR LOCKED", then
    -- progress_held_back(p_user, ARRAY[c.id])) took 10,000 candidates for a few and compared
    -- each with every skill of the tree in a nested loop (10^9 pairs, 63 s).
    WITH candidates AS MATERIALIZED (
        -- (driven by the ids, not "p_candidates IS NULL OR ...": one plan for both)
        SELECT c.id
        FROM unnest(coalesce(p_candidates, ARRAY(
                SELECT id FROM skills WHERE skill_tree_id = p_tree))) AS k(id)
        JOIN skills c ON c.id = k.id
        WHERE c.skill_tree_id = p_tree AND c.is_active
          AND NOT EXISTS (
              SELECT FROM user_skill_progress r
              WHERE r.user_id = p_user AND r.skill_id = c.id AND r.status <> 'LOCKED')
    ), ready AS MATERIALIZED (
        SELECT c.id FROM candidates c
        WHERE NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            LEFT JOIN user_skill_progress pr ON pr.user_id = p_user AND pr.skill_id = p.id
            WHERE d.skill_id = c.id AND NOT progress_satisfies(pr.status, p.is_optional))
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
    -- The names by each written row's skill (its primary key): the planner takes both CTEs
    -- for one row each, and a join of the two was a nested loop, quadratic in what unlocked.
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name)
                              ORDER BY s.id COLLATE "C"), '[]')
    INTO unlocked FROM rows JOIN skills s ON s.id = rows.skill_id;
    RETURN unlocked;
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_finish(p_prof user_profiles, p_tree text, p_skill text, p_row user_skill_progress, p_now timestamp with time zone, p_changed boolean, p_xp integer, p_minutes integer, p_activity boolean, p_unlocked jsonb, p_kind "ProgressEventKind" DEFAULT NULL::"ProgressEventKind", p_milestone boolean DEFAULT false, p_seconds numeric DEFAULT 0)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
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
    -- p_minutes: minutes added to the skill's time (the tree's too); p_seconds: the part of it
    -- measured on content (content_heartbeat), the only time hours learned count (0034).
    IF p_changed THEN
        IF p_activity THEN
            -- Learning activity today: streak in the learner's zone, last activity.
            prof.current_streak := streak_after_activity(
                prof.current_streak, prof.last_activity_at, p_now, prof.timezone);
            prof.max_streak := greatest(prof.max_streak, prof.current_streak);
            prof.last_activity_at := p_now;
        END IF;
        prof.hours_learned := prof.hours_learned + coalesce(p_seconds, 0) / 3600.0;
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
                    prof.trees_completed, milestones, prof.hours_learned) AS value
                FROM (SELECT * FROM achievements a
                      WHERE a.is_active
                        AND (rewards = 0 OR a.criteria->>'type' = 'xp_threshold')
                        AND NOT EXISTS (
                            SELECT FROM user_achievements e
                            WHERE e.user_id = p_user AND e.achievement_id = a.id)
                      OFFSET 0) a
                WHERE achievement_measure(
                      a.criteria, p_user, prof.skills_completed, prof.total_xp, prof.max_streak,
                      prof.trees_completed, milestones, prof.hours_learned)
                      >= (a.criteria->>'threshold')::numeric
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
$function$;

CREATE OR REPLACE FUNCTION public.progress_skill_state(p_user text, p_skill text, p_recorded "SkillProgressStatus")
 RETURNS "SkillProgressStatus"
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.progress_unlock_enrolled(p_tree text, p_now timestamp with time zone, p_users text[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
    -- After a tree changed: for every learner enrolled in it, each active skill now free (every
    -- active prerequisite satisfied) without a row, or with a LOCKED one, becomes AVAILABLE with
    -- its unlock time and one UNLOCK event, as progress_unlock does after an event. Only two
    -- kinds of skill can be free: those without active prerequisites, and dependents of a skill
    -- the learner completed or skipped; so the candidates come from the learners' rows, not
    -- from every learner times every skill.
    WITH learners AS MATERIALIZED (
        SELECT user_id FROM user_skill_tree_progress WHERE skill_tree_id = p_tree AND user_id = ANY (p_users)
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
$function$;

CREATE OR REPLACE FUNCTION public.progress_held_back(p_user text, p_skills text[])
 RETURNS SETOF text
 LANGUAGE sql
 STABLE
AS $function$
    -- The skills among p_skills that some active prerequisite, not satisfied, holds back (once
    -- per such prerequisite). A plain query: the planner inlines it where it is used.
    SELECT d.skill_id
    FROM skill_dependencies d
    JOIN skills p ON p.id = d.depends_on_id AND p.is_active
    LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
    WHERE d.skill_id = ANY (p_skills) AND NOT progress_satisfies(r.status, p.is_optional)
$function$;

CREATE OR REPLACE FUNCTION public.progress_enrol_learner(p_user text, p_tree text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    -- The learner holds the tree (progress_enrol): no writer changes its graph meanwhile.
    ranked boolean := EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = p_tree);
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree. The roots
    -- are the tree's stored ranks' when they are current (skill_ranks, by the tree's index: the
    -- roots alone), else the skills without an active prerequisite (only one of the two runs).
    RETURN progress_unlock(p_user, p_tree, ARRAY(
        SELECT k.skill_id FROM skill_ranks k
        WHERE ranked AND k.skill_tree_id = p_tree AND k.prerequisites = 0
        UNION
        SELECT s.id FROM skills s
        WHERE NOT ranked AND s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT d.skill_id
        FROM user_skill_progress r
        JOIN skills p ON p.id = r.skill_id
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.user_id = p_user AND r.skill_tree_id = p_tree
          AND progress_satisfies(r.status, p.is_optional)), p_now);
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_missing_prerequisites(p_user text, p_skill text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
    -- Breadth first over active prerequisites, each skill once at its nearest distance, in one
    -- recursive query. The distance is an interval of n days minus n*24 hours, which PostgreSQL
    -- compares (and hashes) as equal whatever n: UNION keeps each skill once, from the first,
    -- nearest level it is met at, while the day part still counts the level (the trick of
    -- skill_dependency_chain, in src/skilltree/db/schema/graph.sql). The loop this replaces
    -- compared every new skill with every skill seen before it: quadratic in the prerequisites.
    RETURN coalesce((
        WITH RECURSIVE reached(id, level) AS (
            SELECT p_skill, interval '0'
            UNION
            SELECT d.depends_on_id, m.level + interval '1 day' - interval '24 hours'
            FROM reached m
            JOIN skill_dependencies d ON d.skill_id = m.id
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        )
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name)
                         ORDER BY extract(day FROM m.level), p.name COLLATE "C", p.id COLLATE "C")
        FROM reached m
        JOIN skills p ON p.id = m.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
        WHERE m.id <> p_skill AND NOT progress_satisfies(r.status, p.is_optional)), '[]');
END
$function$;

CREATE OR REPLACE FUNCTION public.achievement_measure(p_criteria jsonb, p_user text, p_skills_completed integer, p_total_xp integer, p_best_streak integer, p_trees_completed integer, p_milestones integer, p_hours double precision)
 RETURNS numeric
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
    -- The learner's value of the measure an achievement's criteria name (NULL: none known).
    -- One expression, so that the planner inlines it into the query that uses it.
    SELECT CASE p_criteria->>'type'
        WHEN 'skill_completion_count' THEN p_skills_completed
        WHEN 'xp_threshold' THEN p_total_xp
        WHEN 'streak_days' THEN p_best_streak
        WHEN 'trees_completed' THEN p_trees_completed
        WHEN 'milestones_reached' THEN p_milestones
        WHEN 'hours_learned' THEN p_hours
        WHEN 'skills_in_category' THEN learner_skills_in_category(
            p_user, p_criteria->'additionalParams'->>'category')
        END::numeric
$function$;

CREATE OR REPLACE FUNCTION public.level_for_xp(p_xp integer)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
    -- Level n starts at 100·(n-1)² XP: 0, 100, 400, 900, ...
    SELECT 1 + floor(sqrt((greatest(p_xp, 0) / 100)::numeric))::integer
$function$;

CREATE OR REPLACE FUNCTION public.content_time_logged(p_user text, p_skill text, p_content jsonb, p_reported integer)
 RETURNS integer
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
    -- The whole minutes that count toward a TIME_BASED policy: for a skill with content
    -- modules, those measured on them; for one without, p_reported (the client's word).
    SELECT CASE WHEN content_has_modules(p_content)
                THEN floor(content_verified_seconds(p_user, p_skill) / 60)::integer
                ELSE p_reported END
$function$;

CREATE OR REPLACE FUNCTION public.content_has_modules(p_content jsonb)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
    -- Whether a skill's content has modules to measure time on.
    SELECT coalesce(jsonb_typeof(p_content->'modules') = 'array'
                    AND jsonb_array_length(p_content->'modules') > 0, false)
$function$;

CREATE OR REPLACE FUNCTION public.content_verified_seconds(p_user text, p_skill text)
 RETURNS numeric
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$
    -- The seconds heartbeats measured on the skill's content modules for the learner.
    SELECT coalesce(sum(seconds_spent), 0) FROM user_skill_module_progress
    WHERE user_id = p_user AND skill_id = p_skill
$function$;
GRANT EXECUTE ON FUNCTION progress_held_back(text, text[]) TO skilltree_app;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
