"""project reviews: submissions of PROJECT skills reviewed by people, with rubrics and mentors

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07

Issue 14, part 3. Until now a PROJECT completion was the learner's own word.

- `tree_mentors`: the reviewers a tree's author names for it (besides the author and admins).
  The API's role reads and writes them (the API checks the author's rights, as for the catalog).
- `project_rubrics`: one per skill, written by its tree's author (skilltree.reviews.schemas.Rubric):
  criteria, each with levels (points) and the minimum an approval needs.
- `project_submissions` (a learner table: `user_id` leads its key and its unique indexes; row-level
  security lets the API's role read its learner's rows and the rows of the trees that user
  reviews, `project_reviewed_trees`, and write none): a learner's work (text, links), its place
  in the review queue (`claimable_at`: when a reviewer may claim it, moved past the end of each
  claim, so an abandoned claim returns to the queue by itself) and the one decision on it. At
  most one PENDING and one APPROVED submission per learner and skill (unique partial indexes);
  a resubmission after changes are asked is a new row, the next `round`.
- `project_submit(learner, skill, content, now, unpublished_ok)`: refuses a skill whose policy
  has no PROJECT (`MethodNotAllowed`), a locked or completed skill, a second pending submission;
  else stores the submission, PENDING.
- `project_claim(reviewer, now, newest, claim_minutes)`: the oldest (or newest) claimable
  submission of the trees the reviewer reviews (not their own), `FOR UPDATE SKIP LOCKED`, so two
  reviewers claiming at once never get the same one, claimed for `claim_minutes`; its
  transaction commits without waiting for the WAL flush (a claim lost in a crash only returns
  the submission to the queue).
- `project_decide(reviewer, submission, approve, scores, feedback, now)`: locks the learner (the
  engine's lock) and the submission; only the reviewer holding its claim decides; the scores
  must fit the rubric (`project_score_problems`; an approval scores every criterion at its
  minimum); an approval completes the skill through `progress_skill_event` (PROJECT, evidence
  naming the submission and the reviewer), in the same transaction; an engine refusal leaves the
  submission waiting. A decision made again by the same reviewer answers the first one.
- `progress_skill_event` refuses a PROJECT completion whose evidence names no approved submission
  of this learner at this skill (`ReviewRequired`): a direct POST /skills/{id}/complete by PROJECT
  completes nothing. The rest is as 0037 left it; the downgrade restores that text.
- The functions act only for the transaction's user (`project_acting_user`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OBJECTS = r"""
CREATE TABLE tree_mentors (
    skill_tree_id text NOT NULL,
    mentor_id text NOT NULL,
    added_by text,
    added_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tree_mentors_pkey PRIMARY KEY (skill_tree_id, mentor_id),
    CONSTRAINT tree_mentors_skill_tree_id_fkey FOREIGN KEY (skill_tree_id)
        REFERENCES skill_trees(id) ON DELETE CASCADE,
    CONSTRAINT tree_mentors_mentor_id_fkey FOREIGN KEY (mentor_id) REFERENCES users(id)
        ON DELETE CASCADE,
    CONSTRAINT tree_mentors_added_by_fkey FOREIGN KEY (added_by) REFERENCES users(id)
        ON DELETE SET NULL
);
CREATE INDEX idx_tree_mentors_mentor ON tree_mentors USING btree (mentor_id);
COMMENT ON TABLE tree_mentors IS 'The mentors a tree''s author names: they review the tree''s project submissions, with the author and admins.';
REVOKE ALL ON tree_mentors FROM skilltree_app;
GRANT SELECT, INSERT, DELETE ON tree_mentors TO skilltree_app;

CREATE TABLE project_rubrics (
    skill_id text NOT NULL,
    rubric jsonb NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT project_rubrics_pkey PRIMARY KEY (skill_id),
    CONSTRAINT project_rubrics_skill_id_fkey FOREIGN KEY (skill_id) REFERENCES skills(id)
        ON DELETE CASCADE,
    CONSTRAINT project_rubrics_shape_check CHECK (
        jsonb_typeof(rubric->'criteria') = 'array' AND jsonb_array_length(rubric->'criteria') > 0)
);
CREATE TRIGGER project_rubrics_set_updated_at BEFORE UPDATE ON project_rubrics
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TABLE project_rubrics IS 'An author''s rubric for one PROJECT skill (skilltree.reviews.schemas.Rubric): criteria with levels (points) and the minimum an approval needs.';
REVOKE ALL ON project_rubrics FROM skilltree_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON project_rubrics TO skilltree_app;

CREATE TABLE project_submissions (
    user_id text NOT NULL,
    id text NOT NULL,
    skill_id text NOT NULL,
    skill_tree_id text NOT NULL,
    round integer NOT NULL,
    status text NOT NULL,
    content jsonb NOT NULL,
    submitted_at timestamp with time zone NOT NULL,
    claimable_at timestamp with time zone NOT NULL,
    claimed_by text,
    claimed_at timestamp with time zone,
    reviewed_by text,
    reviewed_at timestamp with time zone,
    feedback text,
    scores jsonb,
    points double precision,
    completion jsonb,
    CONSTRAINT project_submissions_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT project_submissions_round_key UNIQUE (user_id, skill_id, round),
    CONSTRAINT project_submissions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)
        ON DELETE CASCADE,
    CONSTRAINT project_submissions_skill_tree_fkey FOREIGN KEY (skill_id, skill_tree_id)
        REFERENCES skills(id, skill_tree_id) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT project_submissions_claimed_by_fkey FOREIGN KEY (claimed_by) REFERENCES users(id)
        ON DELETE SET NULL,
    CONSTRAINT project_submissions_reviewed_by_fkey FOREIGN KEY (reviewed_by)
        REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT project_submissions_status_check CHECK (
        status IN ('PENDING', 'APPROVED', 'CHANGES_REQUESTED')),
    CONSTRAINT project_submissions_decided_once_check CHECK (
        (status = 'PENDING') = (reviewed_at IS NULL)
        AND (status <> 'CHANGES_REQUESTED' OR feedback IS NOT NULL)),
    CONSTRAINT project_submissions_shape_check CHECK (
        jsonb_typeof(content) = 'object' AND round >= 1)
);
CREATE UNIQUE INDEX project_submissions_one_pending ON project_submissions
    USING btree (user_id, skill_id) WHERE status = 'PENDING';
CREATE UNIQUE INDEX project_submissions_one_approved ON project_submissions
    USING btree (user_id, skill_id) WHERE status = 'APPROVED';
-- The queue: pending submissions in the order they wait, with when each may be claimed, so a
-- claim skips the ones claimed by others inside the index.
CREATE INDEX idx_project_submissions_queue ON project_submissions
    USING btree (submitted_at, id, claimable_at) WHERE status = 'PENDING';
CREATE INDEX idx_project_submissions_tree_queue ON project_submissions
    USING btree (skill_tree_id, submitted_at, id, claimable_at) WHERE status = 'PENDING';
CREATE INDEX idx_project_submissions_id ON project_submissions USING btree (id);
COMMENT ON TABLE project_submissions IS 'Learners'' project submissions and the one review each gets: PENDING in the queue (claimable_at: when a reviewer may claim it), then APPROVED or CHANGES_REQUESTED. Written only by project_submit, project_claim and project_decide.';

CREATE FUNCTION project_reviewed_trees(p_user text) RETURNS text[]
LANGUAGE sql STABLE AS $$
    -- The trees whose submissions p_user reviews: NULL for every tree (an admin); else the
    -- trees they wrote as an author and those whose author named them a mentor ('{}': none).
    SELECT CASE WHEN u.role = 'ADMIN' THEN NULL ELSE ARRAY(
               SELECT t.id FROM skill_trees t WHERE u.role = 'AUTHOR' AND t.created_by = u.id
               UNION
               SELECT m.skill_tree_id FROM tree_mentors m WHERE m.mentor_id = u.id) END
    FROM (SELECT) one LEFT JOIN users u ON u.id = p_user AND u.is_active
$$;

ALTER TABLE project_submissions ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_submissions_policy ON project_submissions FOR SELECT TO skilltree_app
    USING (user_id = current_setting('app.current_user_id', true)
           OR coalesce(skill_tree_id = ANY ((SELECT project_reviewed_trees(
                                                 current_setting('app.current_user_id', true))
                                             )::text[]),
                       true));
REVOKE ALL ON project_submissions FROM skilltree_app;
GRANT SELECT ON project_submissions TO skilltree_app;

CREATE FUNCTION project_acting_user(p_user text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Only the transaction's user (app.current_user_id) submits or reviews as themselves: the
    -- functions that do run as their owner, so they check it whoever calls.
    IF coalesce(current_setting('app.current_user_id', true), '') IS DISTINCT FROM p_user THEN
        RAISE EXCEPTION 'only user % may submit or review as themselves', p_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

CREATE FUNCTION project_submission_view(p_row project_submissions, p_repeated boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- A submission as its learner and its reviewers see it.
    RETURN jsonb_build_object(
        'id', p_row.id, 'userId', p_row.user_id, 'skillId', p_row.skill_id,
        'skillTreeId', p_row.skill_tree_id, 'round', p_row.round, 'status', p_row.status,
        'text', p_row.content->'text', 'links', coalesce(p_row.content->'links', '[]'),
        'submittedAt', p_row.submitted_at, 'claimedBy', p_row.claimed_by,
        'claimedAt', p_row.claimed_at,
        'claimExpiresAt', CASE WHEN p_row.claimed_by IS NOT NULL AND p_row.status = 'PENDING'
                               THEN p_row.claimable_at END,
        'reviewedBy', p_row.reviewed_by, 'reviewedAt', p_row.reviewed_at,
        'feedback', p_row.feedback, 'scores', p_row.scores, 'points', p_row.points,
        'completion', p_row.completion, 'repeated', p_repeated);
END
$$;

CREATE FUNCTION project_submit(p_user text, p_skill text, p_content jsonb,
                               p_now timestamp with time zone,
                               p_unpublished_ok boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
DECLARE
    skill record;
    state "SkillProgressStatus";
    pending text;
    made project_submissions;
BEGIN
    PERFORM project_acting_user(p_user);
    -- One learner's submissions and events one at a time (the engine's lock).
    PERFORM progress_lock_profile(p_user);
    SELECT s.id, s.name, s.skill_tree_id AS tree_id, s.is_active,
           s.completion_policy AS policy, t.is_published, t.created_by
    INTO skill FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = p_skill;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT skill.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', skill.created_by);
    ELSIF NOT skill.is_active THEN
        RETURN jsonb_build_object('refused', 'Inactive', 'name', skill.name);
    ELSIF NOT coalesce(skill.policy ? 'PROJECT', false) THEN
        RETURN jsonb_build_object('refused', 'MethodNotAllowed', 'name', skill.name,
            'method', 'PROJECT',
            'allowed', (SELECT jsonb_agg(m ORDER BY m)
                        FROM unnest(enum_range(NULL::"CompletionMethod")) m
                        WHERE skill.policy ? m::text));
    END IF;
    state := progress_skill_state(p_user, p_skill, (
        SELECT status FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill));
    IF state = 'LOCKED' THEN
        RETURN jsonb_build_object('refused', 'SkillLocked', 'name', skill.name,
                                  'missing', progress_missing_prerequisites(p_user, p_skill));
    ELSIF state = 'COMPLETED' THEN
        RETURN jsonb_build_object('refused', 'AlreadyCompleted', 'name', skill.name);
    END IF;
    SELECT id INTO pending FROM project_submissions
    WHERE user_id = p_user AND skill_id = p_skill AND status IN ('PENDING', 'APPROVED');
    IF FOUND THEN
        RETURN jsonb_build_object('refused', 'SubmissionPending', 'name', skill.name,
                                  'submissionId', pending);
    END IF;
    INSERT INTO project_submissions (user_id, id, skill_id, skill_tree_id, round, status,
                                     content, submitted_at, claimable_at)
    VALUES (p_user, new_row_id(), p_skill, skill.tree_id,
            1 + coalesce((SELECT max(round) FROM project_submissions
                          WHERE user_id = p_user AND skill_id = p_skill), 0),
            'PENDING', p_content, p_now, p_now)
    RETURNING * INTO made;
    RETURN project_submission_view(made, false);
END
$$;

CREATE FUNCTION project_claim(p_reviewer text, p_now timestamp with time zone,
                              p_newest boolean, p_claim_minutes integer)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
DECLARE
    trees text[];
    claimed project_submissions;
BEGIN
    PERFORM project_acting_user(p_reviewer);
    trees := project_reviewed_trees(p_reviewer);
    IF trees = '{}' THEN
        RETURN jsonb_build_object('refused', 'NotAReviewer');
    END IF;
    -- The first submission of the queue that may be claimed (never claimed, or its claim
    -- over) and that no other claim in flight has locked: SKIP LOCKED passes over those, so
    -- reviewers claiming at once each get another one and none waits for another.
    IF trees IS NULL AND NOT p_newest THEN
        SELECT * INTO claimed FROM project_submissions
        WHERE status = 'PENDING' AND claimable_at <= p_now AND user_id <> p_reviewer
        ORDER BY submitted_at, id LIMIT 1 FOR UPDATE SKIP LOCKED;
    ELSIF trees IS NULL THEN
        SELECT * INTO claimed FROM project_submissions
        WHERE status = 'PENDING' AND claimable_at <= p_now AND user_id <> p_reviewer
        ORDER BY submitted_at DESC, id DESC LIMIT 1 FOR UPDATE SKIP LOCKED;
    ELSIF NOT p_newest THEN
        SELECT * INTO claimed FROM project_submissions
        WHERE status = 'PENDING' AND claimable_at <= p_now AND user_id <> p_reviewer
          AND skill_tree_id = ANY (trees)
        ORDER BY submitted_at, id LIMIT 1 FOR UPDATE SKIP LOCKED;
    ELSE
        SELECT * INTO claimed FROM project_submissions
        WHERE status = 'PENDING' AND claimable_at <= p_now AND user_id <> p_reviewer
          AND skill_tree_id = ANY (trees)
        ORDER BY submitted_at DESC, id DESC LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'QueueEmpty');
    END IF;
    UPDATE project_submissions
    SET claimed_by = p_reviewer, claimed_at = p_now,
        claimable_at = p_now + make_interval(mins => p_claim_minutes)
    WHERE user_id = claimed.user_id AND id = claimed.id
    RETURNING * INTO claimed;
    -- A claim is a lease: one lost in a crash only returns the submission to the queue (its
    -- reviewer's decision is then refused, and they claim again). So the transaction's commit
    -- does not wait for the WAL to reach the disk (half a claim's time on a busy disk).
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN project_submission_view(claimed, false);
END
$$;

CREATE FUNCTION project_score_problems(p_rubric jsonb, p_scores jsonb, p_approve boolean)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    problems jsonb := '[]';
    criterion jsonb;
    score jsonb;
    name text;
BEGIN
    -- What is wrong with a review's scores for a rubric, as [{criterionId, problem}] ([]:
    -- nothing): each score names a criterion and is the points of one of its levels; an
    -- approval scores every criterion, each at its minimum or above. Without a rubric, no score.
    FOR name IN SELECT k FROM jsonb_object_keys(coalesce(p_scores, '{}')) k ORDER BY k LOOP
        IF p_rubric IS NULL OR NOT EXISTS (
            SELECT FROM jsonb_array_elements(p_rubric->'criteria') c WHERE c->>'id' = name) THEN
            problems := problems || jsonb_build_object('criterionId', name,
                                                       'problem', 'no such criterion');
        END IF;
    END LOOP;
    FOR criterion IN SELECT c FROM jsonb_array_elements(coalesce(p_rubric->'criteria', '[]')) c
    LOOP
        score := p_scores->(criterion->>'id');
        IF score IS NULL OR jsonb_typeof(score) = 'null' THEN
            IF p_approve THEN
                problems := problems || jsonb_build_object('criterionId', criterion->>'id',
                    'problem', 'a score is needed to approve');
            END IF;
        ELSIF jsonb_typeof(score) <> 'number' OR NOT EXISTS (
            SELECT FROM jsonb_array_elements(criterion->'levels') l WHERE l->'points' = score)
        THEN
            problems := problems || jsonb_build_object('criterionId', criterion->>'id',
                'problem', 'not the points of one of its levels');
        ELSIF p_approve AND score::numeric < coalesce((criterion->>'minimum')::numeric, 0) THEN
            problems := problems || jsonb_build_object('criterionId', criterion->>'id',
                'problem', 'below the minimum ' || (criterion->>'minimum') || ' to approve');
        END IF;
    END LOOP;
    RETURN problems;
END
$$;

CREATE FUNCTION project_decide(p_reviewer text, p_submission text, p_approve boolean,
                               p_scores jsonb, p_feedback text, p_now timestamp with time zone)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
DECLARE
    trees text[];
    learner text;
    sub project_submissions;
    problems jsonb;
    outcome jsonb;
BEGIN
    PERFORM project_acting_user(p_reviewer);
    trees := project_reviewed_trees(p_reviewer);
    SELECT user_id INTO learner FROM project_submissions
    WHERE id = p_submission AND user_id <> p_reviewer
      AND (trees IS NULL OR skill_tree_id = ANY (trees));
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    END IF;
    -- The learner first (the engine's lock, taken as the learner would: they alone may act
    -- for themselves), then the submission: a second decision, also one racing this one,
    -- waits, then finds it decided.
    PERFORM set_config('app.current_user_id', learner, true);
    PERFORM progress_lock_profile(learner);
    PERFORM set_config('app.current_user_id', p_reviewer, true);
    SELECT * INTO sub FROM project_submissions
    WHERE user_id = learner AND id = p_submission FOR UPDATE;
    IF sub.status <> 'PENDING' THEN
        IF sub.reviewed_by = p_reviewer AND (sub.status = 'APPROVED') = p_approve THEN
            RETURN project_submission_view(sub, true);
        END IF;
        RETURN jsonb_build_object('refused', 'AlreadyReviewed', 'status', sub.status);
    ELSIF sub.claimed_by IS DISTINCT FROM p_reviewer THEN
        RETURN jsonb_build_object('refused', 'NotClaimed',
                                  'claimedByOther', sub.claimed_by IS NOT NULL);
    END IF;
    problems := project_score_problems(
        (SELECT r.rubric FROM project_rubrics r WHERE r.skill_id = sub.skill_id),
        coalesce(p_scores, '{}'), p_approve);
    IF jsonb_array_length(problems) > 0 THEN
        RETURN jsonb_build_object('refused', 'InvalidScores', 'problems', problems);
    END IF;
    UPDATE project_submissions
    SET status = CASE WHEN p_approve THEN 'APPROVED' ELSE 'CHANGES_REQUESTED' END,
        reviewed_by = p_reviewer, reviewed_at = p_now, feedback = p_feedback,
        scores = coalesce(p_scores, '{}'),
        points = (SELECT sum(value::text::float8) FROM jsonb_each(coalesce(p_scores, '{}')))
    WHERE user_id = learner AND id = p_submission
    RETURNING * INTO sub;
    IF p_approve THEN
        -- Through the engine, as the learner, with every consequence of a completion; the
        -- evidence names the submission and the reviewer.
        PERFORM set_config('app.current_user_id', learner, true);
        outcome := progress_skill_event(
            'COMPLETE', learner, sub.skill_id, p_now, true, 'PROJECT', NULL, NULL,
            jsonb_build_object(
                'type', 'text', 'content', 'Project approved by a reviewer',
                'metadata', jsonb_build_object('submissionId', sub.id, 'reviewerId', p_reviewer,
                                               'round', sub.round, 'points', sub.points)));
        PERFORM set_config('app.current_user_id', p_reviewer, true);
        IF outcome ? 'refused' THEN
            -- Refused (the policy no longer has PROJECT, the skill is inactive or locked now):
            -- no decision is kept, the submission waits as it did.
            UPDATE project_submissions
            SET status = 'PENDING', reviewed_by = NULL, reviewed_at = NULL, feedback = NULL,
                scores = NULL, points = NULL
            WHERE user_id = learner AND id = p_submission;
            RETURN jsonb_build_object('refused', 'CompletionRefused', 'completion', outcome);
        END IF;
        UPDATE project_submissions SET completion = outcome
        WHERE user_id = learner AND id = p_submission
        RETURNING * INTO sub;
    END IF;
    RETURN project_submission_view(sub, false);
END
$$;
REVOKE ALL ON FUNCTION project_submit(text, text, jsonb, timestamp with time zone, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION project_claim(text, timestamp with time zone, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION project_decide(text, text, boolean, jsonb, text, timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION project_submit(text, text, jsonb, timestamp with time zone, boolean) TO skilltree_app;
GRANT EXECUTE ON FUNCTION project_claim(text, timestamp with time zone, boolean, integer) TO skilltree_app;
GRANT EXECUTE ON FUNCTION project_decide(text, text, boolean, jsonb, text, timestamp with time zone) TO skilltree_app;
"""

DROP_OBJECTS = """
DROP FUNCTION project_decide(text, text, boolean, jsonb, text, timestamp with time zone);
DROP FUNCTION project_score_problems(jsonb, jsonb, boolean);
DROP FUNCTION project_claim(text, timestamp with time zone, boolean, integer);
DROP FUNCTION project_submit(text, text, jsonb, timestamp with time zone, boolean);
DROP FUNCTION project_submission_view(project_submissions, boolean);
DROP FUNCTION project_acting_user(text);
DROP TABLE project_submissions;
DROP FUNCTION project_reviewed_trees(text);
DROP TABLE project_rubrics;
DROP TABLE tree_mentors;
"""

# Written from the live schema as 0037 left it (db/schema/progress.sql), with the PROJECT
# refusal added after the ASSESSMENT one.
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
"""

# What 0037 installed (0034 last changed it), copied from the live schema: frozen.
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
"""


def upgrade() -> None:
    op.execute(OBJECTS)
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
    op.execute(DROP_OBJECTS)
