"""skills.completion_policy: each skill says how it may be completed, and the engine holds to it

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-10

Issue 14, part 1. Until now any completion method completed any skill: a loop of
`POST /skills/{id}/complete` with `{}` (MANUAL) farmed XP, levels, streaks and achievements from a
tree whose skills need assessments. From here on:

- `skills.completion_policy` (jsonb, NOT NULL) names the methods that may complete the skill,
  each with its parameters: `{"ASSESSMENT": {"passingScore": 80}, "TIME_BASED": {"minutes": 90}}`
  (skilltree.documents.CompletionPolicy). `completion_policy_is_valid()` is its CHECK: an object
  naming at least one CompletionMethod; ASSESSMENT takes an optional passingScore (0..100),
  TIME_BASED a whole number of minutes (1..100000), the others nothing yet.
- A skill written without a policy (a NULL: left out of an INSERT, or set to NULL) gets the
  default, by the trigger `skills_completion_policy_default`: ASSESSMENT when the skill has
  assessments, else MANUAL. Every existing skill gets that default now, so trees keep working
  and a skill with assessments is no longer completed by a self-report (docs/spec-deviations.md).
  updated_at is left as it was; the trees' structure_version moves (their documents show the
  policy).
- `progress_skill_event` refuses a COMPLETE by a method the policy leaves out
  (`{"refused": "MethodNotAllowed", "allowed": [...]}`, before writing anything); an ASSESSMENT
  score must also reach the policy's passingScore; a TIME_BASED completion needs the policy's
  minutes logged on the skill (`NotEnoughTime`). The rest of the function is 0026's, with its
  settings; the downgrade restores 0026's text.
- The triggers `user_skill_progress_method_allowed_*` refuse, for any writer, a row that becomes
  COMPLETED (or changes its method) with a method its skill's policy does not allow, as the
  constraint `user_skill_progress_method_allowed` (check_violation, the allowed methods as JSON in
  DETAIL): also an author's change of the policy that lands while an event runs. Rows completed
  before a policy changed are kept. The trigger only reads `skills`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = r"""
CREATE FUNCTION completion_policy_is_valid(p_policy jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
-- Whether p_policy is a completion policy (skilltree.documents.CompletionPolicy): an object
-- naming at least one CompletionMethod, each with an object of its own parameters: ASSESSMENT
-- {passingScore?: 0..100}, TIME_BASED {minutes: a whole number in 1..100000}, the others {}.
DECLARE
    method text;
    parameters jsonb;
BEGIN
    IF jsonb_typeof(p_policy) IS DISTINCT FROM 'object' OR p_policy = '{}' THEN
        RETURN false;
    END IF;
    FOR method, parameters IN SELECT key, value FROM jsonb_each(p_policy) LOOP
        IF jsonb_typeof(parameters) <> 'object' THEN
            RETURN false;
        END IF;
        CASE method
            WHEN 'MANUAL', 'PROJECT', 'EXTERNAL' THEN
                IF parameters <> '{}' THEN
                    RETURN false;
                END IF;
            WHEN 'ASSESSMENT' THEN
                IF parameters - 'passingScore' <> '{}' THEN
                    RETURN false;
                ELSIF parameters ? 'passingScore' THEN
                    IF jsonb_typeof(parameters->'passingScore') <> 'number' THEN
                        RETURN false;
                    ELSIF (parameters->>'passingScore')::numeric NOT BETWEEN 0 AND 100 THEN
                        RETURN false;
                    END IF;
                END IF;
            WHEN 'TIME_BASED' THEN
                IF parameters - 'minutes' <> '{}' OR NOT parameters ? 'minutes' THEN
                    RETURN false;
                ELSIF jsonb_typeof(parameters->'minutes') <> 'number' THEN
                    RETURN false;
                ELSIF parameters->>'minutes' !~ '^[0-9]+$' THEN  -- not 1.5, nor 60.0
                    RETURN false;
                ELSIF (parameters->>'minutes')::numeric NOT BETWEEN 1 AND 100000 THEN
                    RETURN false;
                END IF;
            ELSE
                RETURN false;  -- not a CompletionMethod
        END CASE;
    END LOOP;
    RETURN true;
END
$$;

CREATE FUNCTION skills_default_completion_policy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A skill written without a completion policy gets the default: ASSESSMENT when it has
    -- assessments (a passing score is the way through), else MANUAL (the spec's self-report).
    -- (Also skilltree.documents.default_completion_policy, and the backfill below.)
    NEW.completion_policy :=
        CASE WHEN coalesce(jsonb_typeof(NEW.assessments) = 'array' AND NEW.assessments <> '[]',
                           false)
             THEN '{"ASSESSMENT": {}}'::jsonb ELSE '{"MANUAL": {}}'::jsonb END;
    RETURN NEW;
END
$$;

ALTER TABLE skills ADD COLUMN completion_policy jsonb;
-- Every existing skill gets the default; its content did not change, so updated_at stays.
ALTER TABLE skills DISABLE TRIGGER skills_set_updated_at;
UPDATE skills SET completion_policy =
    CASE WHEN coalesce(jsonb_typeof(assessments) = 'array' AND assessments <> '[]', false)
         THEN '{"ASSESSMENT": {}}'::jsonb ELSE '{"MANUAL": {}}'::jsonb END;
ALTER TABLE skills ENABLE TRIGGER skills_set_updated_at;
ALTER TABLE skills ALTER COLUMN completion_policy SET NOT NULL;
ALTER TABLE skills ADD CONSTRAINT skills_completion_policy_valid_check
    CHECK (completion_policy_is_valid(completion_policy));
CREATE TRIGGER skills_completion_policy_default
    BEFORE INSERT OR UPDATE OF completion_policy ON skills
    FOR EACH ROW WHEN (NEW.completion_policy IS NULL)
    EXECUTE FUNCTION skills_default_completion_policy();

CREATE FUNCTION user_skill_progress_method_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    policy jsonb;
BEGIN
    -- A COMPLETED row names a method its skill's completion policy allows, whoever writes it.
    -- The engine refuses such a completion first (with the allowed methods); this stops any
    -- other writer, and a policy changed by its author while an event was running.
    SELECT completion_policy INTO policy FROM skills WHERE id = NEW.skill_id;
    IF FOUND AND NOT coalesce(policy ? NEW.completion_method::text, false) THEN
        RAISE EXCEPTION 'skill % cannot be completed by %', NEW.skill_id,
                        coalesce(NEW.completion_method::text, 'no method')
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'user_skill_progress_method_allowed',
                  TABLE = 'user_skill_progress',
                  DETAIL = jsonb_build_object(
                      'method', NEW.completion_method,
                      'allowed', (SELECT jsonb_agg(m ORDER BY m)
                                  FROM unnest(enum_range(NULL::"CompletionMethod")) m
                                  WHERE policy ? m::text))::text;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER user_skill_progress_method_allowed_insert
    BEFORE INSERT ON user_skill_progress
    FOR EACH ROW WHEN (NEW.status = 'COMPLETED')
    EXECUTE FUNCTION user_skill_progress_method_allowed();
CREATE TRIGGER user_skill_progress_method_allowed_update
    BEFORE UPDATE OF status, completion_method, skill_id ON user_skill_progress
    FOR EACH ROW WHEN (NEW.status = 'COMPLETED' AND (OLD.status <> 'COMPLETED'
                       OR OLD.completion_method IS DISTINCT FROM NEW.completion_method
                       OR OLD.skill_id <> NEW.skill_id))
    EXECUTE FUNCTION user_skill_progress_method_allowed();
"""

DROP_POLICY = """
DROP TRIGGER user_skill_progress_method_allowed_update ON user_skill_progress;
DROP TRIGGER user_skill_progress_method_allowed_insert ON user_skill_progress;
DROP FUNCTION user_skill_progress_method_allowed();
DROP TRIGGER skills_completion_policy_default ON skills;
ALTER TABLE skills DROP COLUMN completion_policy;
DROP FUNCTION skills_default_completion_policy();
DROP FUNCTION completion_policy_is_valid(jsonb);
"""

UPGRADE = r"""
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
               s.xp_value, s.is_milestone, s.estimated_minutes, s.assessments,
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
    -- TIME_BASED (0029): the time logged on the skill, with this completion's, must reach the
    -- policy's minutes (a completed skill is answered as it is, below).
    ELSIF p_kind = 'COMPLETE' AND p_method = 'TIME_BASED' AND state <> 'COMPLETED'
          AND coalesce(mine.time_spent_minutes, 0) + minutes
              < (skill.policy->'TIME_BASED'->>'minutes')::integer THEN
        RETURN jsonb_build_object('refused', 'NotEnoughTime', 'name', skill.name,
            'required', (skill.policy->'TIME_BASED'->>'minutes')::integer,
            'logged', coalesce(mine.time_spent_minutes, 0) + minutes);
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

# 0026's, as it was.
DOWNGRADE = r"""
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


def upgrade() -> None:
    op.execute(POLICY)
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
    op.execute(DROP_POLICY)
