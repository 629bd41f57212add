"""learner keys include the user: primary keys (user_id, id), no ON UPDATE CASCADE to users

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07

Issue 18 (a Citus cluster distributes every learner table by its user column): blockers 5 and 6.
A distributed table's primary key and unique constraints must contain its distribution column,
and a foreign key on it may not cascade updates. So, with the single-node behaviour unchanged:

- `user_skill_tree_progress`, `user_skill_progress`, `user_achievements`, `user_sessions`: the
  primary key is (user_id, id), not (id). Ids stay cuid2s, unique in practice; every reader and
  writer already knows the learner, and the engine's updates by id now name it too (its four
  `WHERE ... id = ...`: `progress_finish`, `progress_skill_event`, `content_heartbeat`,
  `refresh_enrolments`), so each still reaches its row through the key.
- `user_sessions`: `UNIQUE (token_hash)` becomes a plain index (the sign-in looks a session up
  by its token's hash before it knows the user). A token is 32 random bytes: two sessions with
  one SHA-256 is not a case to guard, and a cluster could not guard it without the user.
- `progress_events`: the primary key is (user_id, occurred_at, id), which also serves each
  learner's activity feed in time order, so `idx_progress_event_user_time` goes; the analytics
  fold walks events by id through `idx_progress_event_id` (id), the old key's other use. Still
  partitionable by month (occurred_at is in the key); as many indexes as before.
- The seven foreign keys to `users` that cascaded updates (`ON UPDATE CASCADE`) no longer do:
  a user's id never changes (cuid2, no API or CLI changes it), so the clause only cost the
  distribution. Deleting a user still deletes their rows.

Rebuilding five primary keys rewrites their indexes under an exclusive lock: on a large
database run it in a maintenance window (docs/operations.md).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The learner tables' keys (this revision's own change; the functions follow in UPGRADE).
_LEARNER_TABLES = (
    "user_skill_tree_progress",
    "user_skill_progress",
    "user_achievements",
    "user_sessions",
)
_CASCADING_FKS = (
    "idempotency_keys",
    "user_profiles",
    "user_sessions",
    "user_achievements",
    "progress_events",
    "user_skill_progress",
    "user_skill_tree_progress",
)


def _keys(*, with_user: bool) -> str:
    key = "(user_id, id)" if with_user else "(id)"
    cascade = "" if with_user else " ON UPDATE CASCADE"
    statements = [
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, "
        f"ADD CONSTRAINT {table}_pkey PRIMARY KEY {key};"
        for table in _LEARNER_TABLES
    ]
    statements += [
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_user_id_fkey, "
        f"ADD CONSTRAINT {table}_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)"
        f"{cascade} ON DELETE CASCADE;"
        for table in _CASCADING_FKS
    ]
    if with_user:
        statements += [
            "ALTER TABLE user_sessions DROP CONSTRAINT user_sessions_token_hash_key;",
            "CREATE INDEX idx_user_session_token ON user_sessions (token_hash);",
            "ALTER TABLE progress_events DROP CONSTRAINT progress_events_pkey, "
            "ADD CONSTRAINT progress_events_pkey PRIMARY KEY (user_id, occurred_at, id);",
            "DROP INDEX idx_progress_event_user_time;",
            "CREATE INDEX idx_progress_event_id ON progress_events (id);",
        ]
    else:
        statements += [
            "DROP INDEX idx_user_session_token;",
            "ALTER TABLE user_sessions ADD CONSTRAINT user_sessions_token_hash_key "
            "UNIQUE (token_hash);",
            "DROP INDEX idx_progress_event_id;",
            "ALTER TABLE progress_events DROP CONSTRAINT progress_events_pkey, "
            "ADD CONSTRAINT progress_events_pkey PRIMARY KEY (id, occurred_at);",
            "CREATE INDEX idx_progress_event_user_time ON progress_events (user_id, occurred_at);",
        ]
    return "\n".join(statements)


# Written by `skilltree db new-migration` from the live schema as 0042 left it
# (db/schema/progress.sql, db/schema/content.sql): edit it into what this revision installs.
UPGRADE = r"""
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
            WHERE user_id = p_user AND id = tree.id
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
    WHERE r.user_id = p_user AND r.id = mine.id
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

CREATE OR REPLACE FUNCTION public.content_heartbeat(p_user text, p_skill text, p_module text, p_now timestamp with time zone, p_unpublished_ok boolean, p_max_gap_seconds integer, p_time_factor numeric)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
DECLARE
    prof user_profiles;
    skill jsonb;
    module jsonb;
    mine user_skill_progress;
    beat user_skill_module_progress;
    cap numeric;
    added numeric := 0;
    verified numeric;
    minutes integer := 0;
    required integer;
    started jsonb;
    progress jsonb;
    completion jsonb;
BEGIN
    -- (content_find_module, below, checks that p_user is the transaction's learner)
    IF p_max_gap_seconds IS NULL OR p_max_gap_seconds < 0
          OR p_time_factor IS NULL OR p_time_factor < 0 THEN
        RAISE EXCEPTION 'heartbeat bounds must be given and not negative'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The learner first (one heartbeat or event of theirs at a time: racing heartbeats wait
    -- and then see the first's last heartbeat), then the skill, as every event.
    prof := progress_lock_profile(p_user);
    skill := content_find_module(p_user, p_skill, p_module, p_unpublished_ok);
    IF skill ? 'refused' THEN
        RETURN skill;
    END IF;
    module := skill->'module';
    -- Opening a skill's content starts it: through the engine (enrolment, unlock, START event,
    -- streak), refused as a start is (SkillLocked with what is missing).
    SELECT * INTO mine FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill;
    IF mine.status IS NULL OR mine.status NOT IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED') THEN
        started := progress_skill_event('START', p_user, p_skill, p_now, p_unpublished_ok);
        IF started ? 'refused' THEN
            RETURN started;
        END IF;
        SELECT * INTO STRICT mine FROM user_skill_progress
        WHERE user_id = p_user AND skill_id = p_skill;
        SELECT * INTO STRICT prof FROM user_profiles WHERE user_id = p_user;
    END IF;
    -- The module's time: what passed since its last heartbeat (nothing for a heartbeat older
    -- than it), at most p_max_gap_seconds, and never past its cap.
    cap := floor(p_time_factor * (module->>'estimatedMinutes')::numeric * 60);
    SELECT * INTO beat FROM user_skill_module_progress
    WHERE user_id = p_user AND skill_id = p_skill AND module_id = p_module FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO user_skill_module_progress (
            user_id, skill_id, module_id, opened_at, last_heartbeat_at, heartbeats)
        VALUES (p_user, p_skill, p_module, p_now, p_now, 1)
        RETURNING * INTO beat;
    ELSE
        added := least(greatest(0, extract(epoch FROM p_now - beat.last_heartbeat_at)),
                       p_max_gap_seconds, greatest(0, cap - beat.seconds_spent));
        UPDATE user_skill_module_progress
        SET seconds_spent = seconds_spent + added,
            last_heartbeat_at = greatest(last_heartbeat_at, p_now),
            heartbeats = heartbeats + 1
        WHERE user_id = p_user AND skill_id = p_skill AND module_id = p_module
        RETURNING * INTO beat;
    END IF;
    verified := content_verified_seconds(p_user, p_skill);
    IF added > 0 THEN
        -- The skill's minutes (and the tree's) grow by the whole minutes its measured time
        -- crossed; hours learned by the seconds (progress_finish).
        minutes := floor(verified / 60)::integer - floor((verified - added) / 60)::integer;
        IF minutes > 0 THEN
            UPDATE user_skill_progress r
            SET time_spent_minutes = mine.time_spent_minutes + minutes,
                struggling_indicators = d.indicators, engagement_score = d.engagement
            FROM learner_difficulty(mine.time_spent_minutes + minutes, mine.attempts_count,
                                    (skill->>'estimatedMinutes')::integer, mine.status) d
            WHERE r.user_id = p_user AND r.id = mine.id
            RETURNING r.* INTO mine;
        END IF;
    END IF;
    progress := progress_finish(prof, skill->>'treeId', p_skill, mine, p_now, added > 0, 0, minutes,
                                false, '[]', NULL, false, added);
    -- A TIME_BASED skill whose measured minutes reach its policy's is completed by them.
    required := (skill->'policy'->'TIME_BASED'->>'minutes')::integer;
    IF required IS NOT NULL AND mine.status <> 'COMPLETED' AND floor(verified / 60) >= required THEN
        completion := progress_skill_event(
            'COMPLETE', p_user, p_skill, p_now, p_unpublished_ok, 'TIME_BASED', NULL, NULL,
            jsonb_build_object(
                'type', 'text',
                'content', format('%s minutes measured on the skill''s content',
                                  floor(verified / 60)),
                'metadata', jsonb_build_object('verifiedMinutes', floor(verified / 60))));
    END IF;
    RETURN jsonb_build_object(
        'module', content_module_view(beat, cap),
        'addedSeconds', added,
        'verifiedSeconds', verified,
        'progress', progress,
        'completion', completion);
END
$function$;

CREATE OR REPLACE FUNCTION public.refresh_enrolments(p_tree text, p_users text[], p_now timestamp with time zone)
 RETURNS text[]
 LANGUAGE plpgsql
AS $function$
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
        WHERE e.user_id = learner.user_id AND e.id = learner.id
        RETURNING e.user_id
    )
    SELECT array_agg(user_id) INTO users FROM refreshed;
    RETURN users;
END
$function$;
"""

# What 0042 installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
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

CREATE OR REPLACE FUNCTION public.content_heartbeat(p_user text, p_skill text, p_module text, p_now timestamp with time zone, p_unpublished_ok boolean, p_max_gap_seconds integer, p_time_factor numeric)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
DECLARE
    prof user_profiles;
    skill jsonb;
    module jsonb;
    mine user_skill_progress;
    beat user_skill_module_progress;
    cap numeric;
    added numeric := 0;
    verified numeric;
    minutes integer := 0;
    required integer;
    started jsonb;
    progress jsonb;
    completion jsonb;
BEGIN
    -- (content_find_module, below, checks that p_user is the transaction's learner)
    IF p_max_gap_seconds IS NULL OR p_max_gap_seconds < 0
          OR p_time_factor IS NULL OR p_time_factor < 0 THEN
        RAISE EXCEPTION 'heartbeat bounds must be given and not negative'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The learner first (one heartbeat or event of theirs at a time: racing heartbeats wait
    -- and then see the first's last heartbeat), then the skill, as every event.
    prof := progress_lock_profile(p_user);
    skill := content_find_module(p_user, p_skill, p_module, p_unpublished_ok);
    IF skill ? 'refused' THEN
        RETURN skill;
    END IF;
    module := skill->'module';
    -- Opening a skill's content starts it: through the engine (enrolment, unlock, START event,
    -- streak), refused as a start is (SkillLocked with what is missing).
    SELECT * INTO mine FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill;
    IF mine.status IS NULL OR mine.status NOT IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED') THEN
        started := progress_skill_event('START', p_user, p_skill, p_now, p_unpublished_ok);
        IF started ? 'refused' THEN
            RETURN started;
        END IF;
        SELECT * INTO STRICT mine FROM user_skill_progress
        WHERE user_id = p_user AND skill_id = p_skill;
        SELECT * INTO STRICT prof FROM user_profiles WHERE user_id = p_user;
    END IF;
    -- The module's time: what passed since its last heartbeat (nothing for a heartbeat older
    -- than it), at most p_max_gap_seconds, and never past its cap.
    cap := floor(p_time_factor * (module->>'estimatedMinutes')::numeric * 60);
    SELECT * INTO beat FROM user_skill_module_progress
    WHERE user_id = p_user AND skill_id = p_skill AND module_id = p_module FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO user_skill_module_progress (
            user_id, skill_id, module_id, opened_at, last_heartbeat_at, heartbeats)
        VALUES (p_user, p_skill, p_module, p_now, p_now, 1)
        RETURNING * INTO beat;
    ELSE
        added := least(greatest(0, extract(epoch FROM p_now - beat.last_heartbeat_at)),
                       p_max_gap_seconds, greatest(0, cap - beat.seconds_spent));
        UPDATE user_skill_module_progress
        SET seconds_spent = seconds_spent + added,
            last_heartbeat_at = greatest(last_heartbeat_at, p_now),
            heartbeats = heartbeats + 1
        WHERE user_id = p_user AND skill_id = p_skill AND module_id = p_module
        RETURNING * INTO beat;
    END IF;
    verified := content_verified_seconds(p_user, p_skill);
    IF added > 0 THEN
        -- The skill's minutes (and the tree's) grow by the whole minutes its measured time
        -- crossed; hours learned by the seconds (progress_finish).
        minutes := floor(verified / 60)::integer - floor((verified - added) / 60)::integer;
        IF minutes > 0 THEN
            UPDATE user_skill_progress r
            SET time_spent_minutes = mine.time_spent_minutes + minutes,
                struggling_indicators = d.indicators, engagement_score = d.engagement
            FROM learner_difficulty(mine.time_spent_minutes + minutes, mine.attempts_count,
                                    (skill->>'estimatedMinutes')::integer, mine.status) d
            WHERE r.id = mine.id
            RETURNING r.* INTO mine;
        END IF;
    END IF;
    progress := progress_finish(prof, skill->>'treeId', p_skill, mine, p_now, added > 0, 0, minutes,
                                false, '[]', NULL, false, added);
    -- A TIME_BASED skill whose measured minutes reach its policy's is completed by them.
    required := (skill->'policy'->'TIME_BASED'->>'minutes')::integer;
    IF required IS NOT NULL AND mine.status <> 'COMPLETED' AND floor(verified / 60) >= required THEN
        completion := progress_skill_event(
            'COMPLETE', p_user, p_skill, p_now, p_unpublished_ok, 'TIME_BASED', NULL, NULL,
            jsonb_build_object(
                'type', 'text',
                'content', format('%s minutes measured on the skill''s content',
                                  floor(verified / 60)),
                'metadata', jsonb_build_object('verifiedMinutes', floor(verified / 60))));
    END IF;
    RETURN jsonb_build_object(
        'module', content_module_view(beat, cap),
        'addedSeconds', added,
        'verifiedSeconds', verified,
        'progress', progress,
        'completion', completion);
END
$function$;

CREATE OR REPLACE FUNCTION public.refresh_enrolments(p_tree text, p_users text[], p_now timestamp with time zone)
 RETURNS text[]
 LANGUAGE plpgsql
AS $function$
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
$function$;
"""


def upgrade() -> None:
    op.execute(_keys(with_user=True))
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
    op.execute(_keys(with_user=False))
