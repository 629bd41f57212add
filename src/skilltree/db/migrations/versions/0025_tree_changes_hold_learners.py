"""progress: an author's change of a tree holds its learners first; learners racing it wait

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08

Issue 12: a completion racing the deletion of a skill it unlocks deadlocked (the deletion locked
the skill, then the learners' profiles to recount them; the completion its learner's profile,
then the skill, through the foreign key of the row it unlocked); an event whose skill or tree was
deleted while it ran failed on a foreign key or found no row; and deleting a tree left its
learners' profile counters as they were. Now everything takes its locks in one order:

- An author's change of a tree (skilltree.catalog.tree_writes) first calls
  `hold_tree_learners(tree)`: the tree's row FOR UPDATE (a learner's first event in the tree
  waits: it locks the tree FOR KEY SHARE), then its learners' profiles in id order, and only then
  writes. Afterwards `refresh_tree_enrolments(tree, learners)` recounts those learners: their
  enrolments in the tree (none left when it was deleted) and every counter of their profiles,
  trees started included.
- A progress event (`progress_skill_event`, `progress_enrol`) locks its learner's profile first,
  then reads the skill or tree: it runs wholly before a change that holds its learner, or after
  it, reading what the change left. A learner not enrolled in the tree is not held by a change;
  their event locks the tree FOR KEY SHARE and reads the skill or tree again before enrolling.

The old `refresh_tree_enrolments(tree)` (0018), which locked the learners only after the change's
writes, is dropped; the downgrade restores it and the events' definitions as 0021 and 0022 left
them. (`progress_skill_event` keeps 0022's event time.)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLD = r"""
CREATE FUNCTION hold_tree_learners(p_tree text) RETURNS text[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- Before an author's change of tree p_tree writes anything: the tree (FOR UPDATE: a learner's
    -- first event in it, which locks it FOR KEY SHARE, waits for the change), then its learners'
    -- profiles in id order (waiting for their events in flight; their next events wait for the
    -- change), until the transaction ends. Returns the learners, to recount once the change is
    -- written (refresh_tree_enrolments); NULL when there is no such tree.
    PERFORM FROM skill_trees WHERE id = p_tree FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN ARRAY(
        SELECT p.user_id FROM user_profiles p
        WHERE p.user_id IN (
            SELECT user_id FROM user_skill_tree_progress WHERE skill_tree_id = p_tree)
        ORDER BY p.user_id
        FOR UPDATE OF p);
END
$$;
REVOKE ALL ON FUNCTION hold_tree_learners(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hold_tree_learners(text) TO skilltree_app;

CREATE FUNCTION refresh_tree_enrolments(p_tree text, p_users text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- After an author changed tree p_tree: its learners p_users (hold_tree_learners' answer)
    -- get what the tree now frees unlocked, their enrolments in it recounted (none left if it
    -- was deleted), and their profiles' counters summed again from all their enrolments. Their
    -- profiles are locked again, in the same order (nothing for the holder): no event of theirs
    -- can run between the sums and their writing, whoever calls this.
    PERFORM FROM user_profiles WHERE user_id = ANY (p_users) ORDER BY user_id FOR UPDATE;
    PERFORM progress_unlock_enrolled(p_tree, now(), p_users);
    PERFORM refresh_enrolments(p_tree, p_users, now());
    UPDATE user_profiles u
    SET (skills_completed, trees_started, trees_completed) = (
        SELECT coalesce(sum(t.skills_completed), 0),
               count(*) FILTER (WHERE t.status <> 'NOT_STARTED'),
               count(*) FILTER (WHERE t.status = 'COMPLETED')
        FROM user_skill_tree_progress t
        WHERE t.user_id = u.user_id)
    WHERE u.user_id = ANY (p_users);
END
$$;
REVOKE ALL ON FUNCTION refresh_tree_enrolments(text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refresh_tree_enrolments(text, text[]) TO skilltree_app;

DROP FUNCTION refresh_tree_enrolments(text);
"""

ENGINE = r"""
CREATE OR REPLACE FUNCTION progress_enrol(
    p_user text, p_slug text, p_now timestamptz, p_unpublished_ok boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    tree record;
    prof user_profiles;
BEGIN
    -- The learner first, then the tree; a learner not enrolled yet holds the tree (KEY SHARE)
    -- and reads it again: as progress_skill_event.
    prof := progress_lock_profile(p_user);
    SELECT t.id, t.is_published, t.created_by,
           EXISTS (SELECT FROM user_skill_tree_progress e
                   WHERE e.user_id = p_user AND e.skill_tree_id = t.id) AS enrolled
    INTO tree FROM skill_trees t WHERE t.slug = p_slug;
    IF FOUND AND NOT tree.enrolled THEN
        SELECT t.id, t.is_published, t.created_by, false AS enrolled
        INTO tree FROM skill_trees t WHERE t.id = tree.id FOR KEY SHARE;
    END IF;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT tree.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', tree.created_by);
    ELSIF tree.enrolled THEN
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
               s.xp_value, s.is_milestone, s.estimated_minutes, s.assessments, t.is_published,
               t.created_by,
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
$$;
"""

# The definitions this revision replaced, as 0021, 0022 (the event's time) and 0018 left them.
ENGINE_BEFORE = r"""
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

REFRESH_0018 = r"""
DROP FUNCTION refresh_tree_enrolments(text, text[]);
DROP FUNCTION hold_tree_learners(text);

CREATE FUNCTION refresh_tree_enrolments(p_tree text) RETURNS void
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
REVOKE ALL ON FUNCTION refresh_tree_enrolments(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refresh_tree_enrolments(text) TO skilltree_app;
"""


def upgrade() -> None:
    op.execute(HOLD)
    op.execute(ENGINE)


def downgrade() -> None:
    op.execute(ENGINE_BEFORE)
    op.execute(REFRESH_0018)
