"""assessments: question banks per skill, attempts drawn and graded by the server

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06

Issue 14, part 2. Until now an ASSESSMENT completion took the client's word for its score.

- `question_banks`: one per skill, written by its tree's author (skilltree.assessments.schemas):
  settings, the questions as learners see them, and `answer_keys` (each question's key and
  explanation). The API's role may write banks and read every column but `answer_keys`: keys
  are read only by `assessment_submit` (grading) and `assessment_bank_keys` (for the tree's
  author or an admin), both SECURITY DEFINER.
- `assessment_attempts` (a learner table: `user_id` leads its key; row-level security lets the
  API's role read its learner's rows and write none): the questions drawn for an attempt, in
  their order, options in theirs; once submitted its answers, per-question results with
  explanations, score, passed, expired, and what the completion did.
- `assessment_start(learner, skill, now, unpublished_ok)`: refuses a skill of a draft unless
  the caller says the learner may see it (`Unpublished`, as the engine), a skill without a bank
  or still locked,
  answers an attempt still open, refuses past the bank's attemptsPerDay (in any 24 hours) or
  inside its cooldownMinutes (from the end of the last attempt) with `retryAt`; else draws
  questionsPerAttempt questions in a random order, shuffles options as the bank says (an
  ordering question's always), and stores the attempt.
- `assessment_submit(learner, attempt, answers, now, unpublished_ok, folded)`: locks the learner (the
  engine's lock) and the attempt; a graded attempt answers its first grade; else grades every
  question (`assessment_answer_correct`; after the time limit every answer counts as none, and
  the attempt is expired), stores the grade, and on a pass completes the skill through
  `progress_skill_event` (ASSESSMENT, the score, evidence `assessment_score` naming the
  attempt), in the same transaction.
- `progress_skill_event` refuses an ASSESSMENT completion of a skill with a bank unless its
  evidence names a passed attempt of this learner at this skill (`AttemptRequired`): a score
  sent by a client completes nothing. The rest is 0029's; the downgrade restores 0029's text.
- Both functions act only for the transaction's learner (`assessment_acting_learner`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OBJECTS = r"""
CREATE TABLE question_banks (
    skill_id text NOT NULL,
    settings jsonb NOT NULL,
    questions jsonb NOT NULL,
    answer_keys jsonb NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT question_banks_pkey PRIMARY KEY (skill_id),
    CONSTRAINT question_banks_skill_id_fkey FOREIGN KEY (skill_id) REFERENCES skills(id)
        ON DELETE CASCADE,
    CONSTRAINT question_banks_shape_check CHECK (
        jsonb_typeof(settings) = 'object' AND jsonb_typeof(questions) = 'array'
        AND jsonb_array_length(questions) > 0 AND jsonb_typeof(answer_keys) = 'object')
);
CREATE TRIGGER question_banks_set_updated_at BEFORE UPDATE ON question_banks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TABLE question_banks IS 'An author''s questions for one skill (skilltree.assessments.schemas.QuestionBank): settings and questions as learners see them; answer_keys (keys and explanations by question id) only through the assessment_* functions.';
-- The API's role writes banks (authors) and reads everything but the answer keys.
REVOKE ALL ON question_banks FROM skilltree_app;
GRANT INSERT, UPDATE, DELETE ON question_banks TO skilltree_app;
GRANT SELECT (skill_id, settings, questions, updated_at) ON question_banks TO skilltree_app;

CREATE TABLE assessment_attempts (
    user_id text NOT NULL,
    id text NOT NULL,
    skill_id text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    questions jsonb NOT NULL,
    submitted_at timestamp with time zone,
    answers jsonb,
    results jsonb,
    score double precision,
    passed boolean,
    expired boolean,
    completion jsonb,
    CONSTRAINT assessment_attempts_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT assessment_attempts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)
        ON DELETE CASCADE,
    CONSTRAINT assessment_attempts_skill_id_fkey FOREIGN KEY (skill_id) REFERENCES skills(id)
        ON DELETE CASCADE,
    CONSTRAINT assessment_attempts_graded_once_check CHECK (
        (submitted_at IS NULL) = (score IS NULL) AND (submitted_at IS NULL) = (passed IS NULL)
        AND (submitted_at IS NULL) = (results IS NULL) AND (submitted_at IS NULL) = (expired IS NULL)),
    CONSTRAINT assessment_attempts_score_check CHECK (score BETWEEN 0 AND 100)
);
CREATE INDEX idx_assessment_attempt_user_skill ON assessment_attempts
    USING btree (user_id, skill_id, started_at);
COMMENT ON TABLE assessment_attempts IS 'A learner''s attempts at a skill''s question bank: the questions drawn (as shown), and once submitted the answers, per-question results, score. Written only by assessment_start and assessment_submit.';
ALTER TABLE assessment_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY assessment_attempts_policy ON assessment_attempts FOR SELECT TO skilltree_app
    USING (user_id = current_setting('app.current_user_id', true));
REVOKE ALL ON assessment_attempts FROM skilltree_app;
GRANT SELECT ON assessment_attempts TO skilltree_app;

CREATE FUNCTION assessment_normal_text(p_text text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    -- An answer as short-text keys are stored (skilltree.assessments.grading.normal_text):
    -- NFKC, case-folded (lower(): the API folds with Python's casefold() first), runs of
    -- white space as one space, none at the ends.
    RETURN btrim(regexp_replace(lower(normalize(p_text, NFKC)), '\s+', ' ', 'g'));
END
$$;

CREATE FUNCTION assessment_number(p_answer jsonb) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    written text;
BEGIN
    -- A numeric answer: a JSON number, or a string such as " 2 ", "1,5" (a decimal comma),
    -- "-.5" or "1e3" (an exponent of at most 3 digits); anything else is no number (NULL).
    IF jsonb_typeof(p_answer) = 'number' THEN
        RETURN (p_answer #>> '{}')::numeric;
    ELSIF jsonb_typeof(p_answer) IS DISTINCT FROM 'string' THEN
        RETURN NULL;
    END IF;
    written := replace(btrim(normalize(p_answer #>> '{}', NFKC)), ',', '.');
    IF written ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$' THEN
        RETURN written::numeric;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION assessment_answer_correct(p_kind text, p_key jsonb, p_answer jsonb)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    given text;
    number numeric;
BEGIN
    -- Whether p_answer answers a question of kind p_kind whose key is p_key
    -- (skilltree.assessments.schemas: the key of each kind). No answer is a wrong one.
    IF p_key IS NULL OR p_answer IS NULL OR jsonb_typeof(p_answer) = 'null' THEN
        RETURN false;
    END IF;
    CASE p_kind
        WHEN 'SINGLE_CHOICE' THEN
            RETURN jsonb_typeof(p_answer) = 'string' AND p_answer = p_key->'correct';
        WHEN 'MULTIPLE_CHOICE' THEN
            -- Exactly the correct options, in any order, each once.
            IF jsonb_typeof(p_answer) <> 'array' THEN
                RETURN false;
            END IF;
            RETURN jsonb_array_length(p_answer) > 0 AND (
                SELECT count(*) = count(DISTINCT a) AND bool_and(jsonb_typeof(a) = 'string')
                       AND (p_key->'correct') @> jsonb_agg(a) AND jsonb_agg(a) @> (p_key->'correct')
                FROM jsonb_array_elements(p_answer) a);
        WHEN 'NUMERIC' THEN
            number := assessment_number(p_answer);
            RETURN number IS NOT NULL AND abs(number - (p_key->>'value')::numeric)
                                          <= (p_key->>'tolerance')::numeric;
        WHEN 'SHORT_TEXT' THEN
            IF jsonb_typeof(p_answer) <> 'string' THEN
                RETURN false;
            END IF;
            given := assessment_normal_text(p_answer #>> '{}');
            IF given = '' THEN
                RETURN false;
            ELSIF p_key->'accepted' ? given THEN
                RETURN true;
            ELSIF jsonb_typeof(p_key->'pattern') = 'string' THEN
                BEGIN
                    RETURN given ~ ('^(?:' || (p_key->>'pattern') || ')$');
                EXCEPTION WHEN invalid_regular_expression THEN
                    RETURN false;
                END;
            END IF;
            RETURN false;
        WHEN 'ORDERING' THEN
            RETURN p_answer = p_key->'order';
        ELSE
            RETURN false;
    END CASE;
END
$$;

CREATE FUNCTION assessment_acting_learner(p_user text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Only the transaction's learner (app.current_user_id) starts and submits their attempts:
    -- the functions that do run as their owner, so they check it whoever calls.
    IF coalesce(current_setting('app.current_user_id', true), '') IS DISTINCT FROM p_user THEN
        RAISE EXCEPTION 'only learner % may take their assessments', p_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

CREATE FUNCTION assessment_attempt_view(p_attempt assessment_attempts, p_repeated boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- An attempt as its learner sees it: its questions (never a key); once submitted, the
    -- results with explanations, the score and what the completion did.
    RETURN jsonb_build_object(
        'id', p_attempt.id, 'skillId', p_attempt.skill_id, 'startedAt', p_attempt.started_at,
        'expiresAt', p_attempt.expires_at, 'questions', p_attempt.questions,
        'submittedAt', p_attempt.submitted_at, 'score', p_attempt.score,
        'passed', p_attempt.passed, 'expired', p_attempt.expired,
        'results', p_attempt.results, 'completion', p_attempt.completion,
        'repeated', p_repeated);
END
$$;

CREATE FUNCTION assessment_start(p_user text, p_skill text, p_now timestamp with time zone,
                                 p_unpublished_ok boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
DECLARE
    skill record;
    bank record;
    open assessment_attempts;
    last_at timestamptz;
    oldest_at timestamptz;
    taken integer;
    retry timestamptz;
    drawn jsonb;
    state "SkillProgressStatus";
BEGIN
    PERFORM assessment_acting_learner(p_user);
    -- One learner's starts and submits one at a time (the engine's lock): two starts at once
    -- cannot both pass the day's limit.
    PERFORM progress_lock_profile(p_user);
    -- A skill of a draft only for whom the caller says may see it (as the engine's events).
    SELECT t.is_published, t.created_by INTO skill
    FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = p_skill;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT skill.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', skill.created_by);
    END IF;
    SELECT b.settings, b.questions INTO bank FROM question_banks b WHERE b.skill_id = p_skill;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NoBank');
    END IF;
    state := progress_skill_state(p_user, p_skill, (
        SELECT status FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill));
    IF state = 'LOCKED' THEN
        RETURN jsonb_build_object('refused', 'SkillLocked',
                                  'missing', progress_missing_prerequisites(p_user, p_skill));
    END IF;
    -- An attempt still open (not submitted, time left) is the one to go on with.
    SELECT * INTO open FROM assessment_attempts
    WHERE user_id = p_user AND skill_id = p_skill AND submitted_at IS NULL
      AND (expires_at IS NULL OR expires_at > p_now)
    ORDER BY started_at DESC LIMIT 1;
    IF FOUND THEN
        RETURN assessment_attempt_view(open, true);
    END IF;
    -- The cooldown runs from the end of the last attempt (its submission, else its start);
    -- the day's limit counts the attempts started in the 24 hours before p_now.
    SELECT max(coalesce(submitted_at, started_at)), min(started_at), count(*)
    INTO last_at, oldest_at, taken
    FROM assessment_attempts
    WHERE user_id = p_user AND skill_id = p_skill AND started_at > p_now - interval '1 day';
    IF (bank.settings->>'attemptsPerDay') IS NOT NULL
       AND taken >= (bank.settings->>'attemptsPerDay')::integer THEN
        retry := (SELECT started_at + interval '1 day' FROM assessment_attempts
                  WHERE user_id = p_user AND skill_id = p_skill
                    AND started_at > p_now - interval '1 day'
                  ORDER BY started_at
                  OFFSET taken - (bank.settings->>'attemptsPerDay')::integer LIMIT 1);
        RETURN jsonb_build_object('refused', 'AttemptLimit', 'retryAt', retry,
                                  'limit', (bank.settings->>'attemptsPerDay')::integer);
    END IF;
    SELECT max(coalesce(submitted_at, started_at)) INTO last_at
    FROM assessment_attempts WHERE user_id = p_user AND skill_id = p_skill;
    IF coalesce((bank.settings->>'cooldownMinutes')::integer, 0) > 0 AND last_at IS NOT NULL
       AND last_at + make_interval(mins => (bank.settings->>'cooldownMinutes')::integer) > p_now
    THEN
        RETURN jsonb_build_object('refused', 'Cooldown', 'retryAt',
            last_at + make_interval(mins => (bank.settings->>'cooldownMinutes')::integer));
    END IF;
    -- The draw: questionsPerAttempt of the bank (all of them without it) in a random order,
    -- each one's options shuffled when the bank says so (an ordering question's always).
    SELECT coalesce(jsonb_agg(CASE
               WHEN q ? 'options' AND (q->>'kind' = 'ORDERING'
                                       OR coalesce((bank.settings->>'shuffleOptions')::boolean, false))
               THEN jsonb_set(q, '{options}', (SELECT jsonb_agg(o ORDER BY random())
                                                FROM jsonb_array_elements(q->'options') o))
               ELSE q END ORDER BY r), '[]')
    INTO drawn
    FROM (SELECT q, random() AS r FROM jsonb_array_elements(bank.questions) q
          ORDER BY r LIMIT (bank.settings->>'questionsPerAttempt')::integer) d;
    INSERT INTO assessment_attempts (user_id, id, skill_id, started_at, expires_at, questions)
    VALUES (p_user, new_row_id(), p_skill, p_now,
            p_now + make_interval(secs => (bank.settings->>'timeLimitSeconds')::integer), drawn)
    RETURNING * INTO open;
    RETURN assessment_attempt_view(open, false);
END
$$;

CREATE FUNCTION assessment_submit(p_user text, p_attempt text, p_answers jsonb,
                                  p_now timestamp with time zone,
                                  p_unpublished_ok boolean DEFAULT false,
                                  p_folded jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
-- p_folded: the string answers as the API normalised them (NFKC, Python's casefold(), white
-- space collapsed), by question id: short answers are graded on those when given.
DECLARE
    attempt assessment_attempts;
    skill record;
    bank record;
    question jsonb;
    key jsonb;
    given jsonb;
    right_answer boolean;
    points numeric;
    total numeric := 0;
    earned numeric := 0;
    results jsonb := '[]';
    late boolean;
BEGIN
    PERFORM assessment_acting_learner(p_user);
    PERFORM progress_lock_profile(p_user);
    -- The attempt, locked: a second submit (also one racing this one) waits, then finds it
    -- graded and answers the first result. Never a second grade.
    SELECT * INTO attempt FROM assessment_attempts
    WHERE user_id = p_user AND id = p_attempt FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF attempt.submitted_at IS NOT NULL THEN
        RETURN assessment_attempt_view(attempt, true);
    END IF;
    SELECT t.is_published, t.created_by INTO skill
    FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = attempt.skill_id;
    IF NOT skill.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', skill.created_by);
    END IF;
    SELECT b.settings, b.answer_keys INTO bank FROM question_banks b
    WHERE b.skill_id = attempt.skill_id;
    -- After the time limit every answer counts as none: graded, expired, not passed.
    late := attempt.expires_at IS NOT NULL AND p_now > attempt.expires_at;
    FOR question IN SELECT q FROM jsonb_array_elements(attempt.questions) q LOOP
        key := bank.answer_keys->(question->>'id');  -- a question deleted since: no key
        given := CASE WHEN late THEN NULL
                      WHEN question->>'kind' = 'SHORT_TEXT'
                      THEN coalesce(p_folded->(question->>'id'), p_answers->(question->>'id'))
                      ELSE p_answers->(question->>'id') END;
        right_answer := assessment_answer_correct(question->>'kind', key, given);
        points := (question->>'points')::numeric;
        total := total + points;
        earned := earned + CASE WHEN right_answer THEN points ELSE 0 END;
        results := results || jsonb_build_object(
            'questionId', question->>'id', 'correct', right_answer, 'points', points,
            'earned', CASE WHEN right_answer THEN points ELSE 0 END, 'answer', given,
            'explanation', key->'explanation');
    END LOOP;
    attempt.submitted_at := p_now;
    attempt.answers := coalesce(p_answers, '{}');
    attempt.results := results;
    attempt.expired := late;
    attempt.score := CASE WHEN total > 0 THEN round(100 * earned / total, 2) ELSE 0 END;
    attempt.passed := NOT late
        AND attempt.score >= coalesce((bank.settings->>'passingScore')::numeric, 0);
    -- The grade first: the engine completes an ASSESSMENT of a skill with a bank only for a
    -- passed attempt it can read.
    UPDATE assessment_attempts
    SET submitted_at = attempt.submitted_at, answers = attempt.answers,
        results = attempt.results, expired = attempt.expired, score = attempt.score,
        passed = attempt.passed
    WHERE user_id = p_user AND id = p_attempt;
    IF attempt.passed THEN
        -- Through the engine, with every consequence of a completion; its refusal (say the
        -- policy changed, or the skill's own mark is higher) is kept with the grade.
        attempt.completion := progress_skill_event(
            'COMPLETE', p_user, attempt.skill_id, p_now, p_unpublished_ok, 'ASSESSMENT',
            attempt.score, NULL, jsonb_build_object(
                'type', 'assessment_score', 'content', attempt.score::text,
                'metadata', jsonb_build_object('attemptId', attempt.id)));
        UPDATE assessment_attempts SET completion = attempt.completion
        WHERE user_id = p_user AND id = p_attempt;
    END IF;
    RETURN assessment_attempt_view(attempt, false);
END
$$;

CREATE FUNCTION assessment_bank_keys(p_user text, p_skill text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
BEGIN
    -- The answer keys and explanations of a skill's bank, for its tree's author or an admin
    -- (NULL for anyone else, and when there is no bank).
    RETURN (SELECT b.answer_keys FROM question_banks b
            JOIN skills s ON s.id = b.skill_id JOIN skill_trees t ON t.id = s.skill_tree_id
            JOIN users u ON u.id = p_user
            WHERE b.skill_id = p_skill
              AND (u.role = 'ADMIN' OR (u.role = 'AUTHOR' AND t.created_by = p_user)));
END
$$;
REVOKE ALL ON FUNCTION assessment_start(text, text, timestamp with time zone, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION assessment_submit(text, text, jsonb, timestamp with time zone, boolean, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION assessment_bank_keys(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION assessment_start(text, text, timestamp with time zone, boolean) TO skilltree_app;
GRANT EXECUTE ON FUNCTION assessment_submit(text, text, jsonb, timestamp with time zone, boolean, jsonb) TO skilltree_app;
GRANT EXECUTE ON FUNCTION assessment_bank_keys(text, text) TO skilltree_app;
"""

DROP_OBJECTS = """
DROP FUNCTION assessment_bank_keys(text, text);
DROP FUNCTION assessment_submit(text, text, jsonb, timestamp with time zone, boolean, jsonb);
DROP FUNCTION assessment_start(text, text, timestamp with time zone, boolean);
DROP FUNCTION assessment_attempt_view(assessment_attempts, boolean);
DROP FUNCTION assessment_acting_learner(text);
DROP FUNCTION assessment_answer_correct(text, jsonb, jsonb);
DROP FUNCTION assessment_number(jsonb);
DROP FUNCTION assessment_normal_text(text);
DROP TABLE assessment_attempts;
DROP TABLE question_banks;
"""

# Written by `skilltree db new-migration` from the live schema as 0029 left it
# (db/schema/progress.sql): edit it into what this revision installs.
UPGRADE = r"""
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
$function$;
"""

# What 0029 installed, copied from the live schema: frozen, never edited.
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
$function$;
"""


def upgrade() -> None:
    op.execute(OBJECTS)
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
    op.execute(DROP_OBJECTS)
