"""mastery that fades and is reviewed: FSRS review cards and mastery levels of completed skills

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07

Issue 14, part 6. A completed skill was completed for good; now its mastery (FAMILIAR,
PROFICIENT, MASTERED) stands on evidence and fades unless it is reviewed, on the schedule FSRS
gives (the `fsrs` package, in the API: skilltree.mastery.scheduling). docs/progress.md, "Mastery".

- `skill_mastery` (a learner table: `user_id` leads its key; row-level security lets the API's
  role read its learner's rows and write none): a learner's FSRS card of a completed skill from
  its first review on, when it is due, and its evidence points (`level` is checked against them,
  `mastery_level_for`: the level never differs from what the evidence supports). Before the first
  review the completion stands for the card (`mastery_completion_rating`, `mastery_first_days`).
- `mastery_reviews` (likewise): every review once (unique per graded attempt).
- `assessment_attempts.review`: `assessment_start` marks an attempt at a completed skill as a
  review; `assessment_attempt_view` shows it. Graded as any attempt; its pass completes nothing
  again (the engine answers an unchanged completion: no XP).
- `mastery_begin` / `mastery_record` (SECURITY DEFINER, the transaction's learner only): a review
  in two halves around the API's FSRS step, under the engine's learner lock; the record checks the
  rating itself (a graded attempt's score, or self-rated recall for a skill without a bank),
  applies the level rule, stores card and log, and calls `progress_finish` as the day's activity
  (streak, achievements).
- `achievement_measure` knows `skills_mastered` (`mastery_skills_mastered`): MASTERY achievements.
- `mastery_shown_level`: the level as a learner sees it, lowered once the review is overdue.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OBJECTS = r"""
ALTER TABLE assessment_attempts ADD COLUMN review boolean DEFAULT false NOT NULL;
COMMENT ON COLUMN assessment_attempts.review IS 'An attempt started when the skill was already completed: a mastery review (0040), which completes nothing again.';

CREATE TYPE "MasteryLevel" AS ENUM ('FAMILIAR', 'PROFICIENT', 'MASTERED');

CREATE FUNCTION mastery_level_for(p_evidence numeric, p_verified boolean)
RETURNS "MasteryLevel" LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    -- The level the evidence supports (docs/progress.md, "Mastery"): MASTERED from 2 points
    -- with verified evidence among them, PROFICIENT from 1, else FAMILIAR.
    RETURN CASE WHEN p_evidence >= 2 AND p_verified THEN 'MASTERED'
                WHEN p_evidence >= 1 THEN 'PROFICIENT'
                ELSE 'FAMILIAR' END;
END
$$;

CREATE TABLE skill_mastery (
    user_id text NOT NULL,
    skill_id text NOT NULL,
    evidence numeric(3,1) NOT NULL,
    verified boolean NOT NULL,
    level "MasteryLevel" NOT NULL,
    card jsonb NOT NULL,
    due_at timestamp with time zone NOT NULL,
    last_reviewed_at timestamp with time zone NOT NULL,
    reviews integer NOT NULL,
    lapses integer NOT NULL,
    CONSTRAINT skill_mastery_pkey PRIMARY KEY (user_id, skill_id),
    CONSTRAINT skill_mastery_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)
        ON DELETE CASCADE,
    CONSTRAINT skill_mastery_skill_id_fkey FOREIGN KEY (skill_id) REFERENCES skills(id)
        ON DELETE CASCADE,
    CONSTRAINT skill_mastery_evidence_check CHECK (evidence >= 0 AND evidence <= 10),
    CONSTRAINT skill_mastery_level_check CHECK (level = mastery_level_for(evidence, verified)),
    CONSTRAINT skill_mastery_counts_check CHECK (reviews >= 1 AND lapses >= 0 AND lapses <= reviews),
    CONSTRAINT skill_mastery_due_check CHECK (due_at > last_reviewed_at),
    CONSTRAINT skill_mastery_card_check CHECK (jsonb_typeof(card) = 'object')
);
CREATE INDEX idx_skill_mastery_due ON skill_mastery USING btree (user_id, due_at, skill_id);
COMMENT ON TABLE skill_mastery IS 'A learner''s review card of a completed skill, from its first review on (before it, the completion stands for it: mastery_completion_rating): the FSRS card (fsrs.Card.to_dict()), when the next review is due, and the evidence its level stands on. Written only by mastery_record.';

CREATE TABLE mastery_reviews (
    user_id text NOT NULL,
    id text NOT NULL,
    skill_id text NOT NULL,
    attempt_id text,
    rating smallint NOT NULL,
    score double precision,
    on_time boolean NOT NULL,
    level_before "MasteryLevel" NOT NULL,
    level_after "MasteryLevel" NOT NULL,
    due_before timestamp with time zone NOT NULL,
    due_after timestamp with time zone NOT NULL,
    reviewed_at timestamp with time zone NOT NULL,
    CONSTRAINT mastery_reviews_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT mastery_reviews_attempt_key UNIQUE (user_id, attempt_id),
    CONSTRAINT mastery_reviews_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)
        ON DELETE CASCADE,
    CONSTRAINT mastery_reviews_skill_id_fkey FOREIGN KEY (skill_id) REFERENCES skills(id)
        ON DELETE CASCADE,
    CONSTRAINT mastery_reviews_attempt_fkey FOREIGN KEY (user_id, attempt_id)
        REFERENCES assessment_attempts(user_id, id) ON DELETE CASCADE,
    CONSTRAINT mastery_reviews_rating_check CHECK (rating BETWEEN 1 AND 4),
    CONSTRAINT mastery_reviews_due_check CHECK (due_after > reviewed_at)
);
CREATE INDEX idx_mastery_reviews_skill ON mastery_reviews USING btree (user_id, skill_id, reviewed_at);
COMMENT ON TABLE mastery_reviews IS 'Each mastery review once: its FSRS rating (1 Again, 2 Hard, 3 Good, 4 Easy), the graded attempt it was (none: self-rated recall), the level and due date before and after. Written only by mastery_record.';

ALTER TABLE skill_mastery ENABLE ROW LEVEL SECURITY;
CREATE POLICY skill_mastery_policy ON skill_mastery FOR SELECT TO skilltree_app
    USING (user_id = current_setting('app.current_user_id', true));
REVOKE ALL ON skill_mastery FROM skilltree_app;
GRANT SELECT ON skill_mastery TO skilltree_app;
ALTER TABLE mastery_reviews ENABLE ROW LEVEL SECURITY;
CREATE POLICY mastery_reviews_policy ON mastery_reviews FOR SELECT TO skilltree_app
    USING (user_id = current_setting('app.current_user_id', true));
REVOKE ALL ON mastery_reviews FROM skilltree_app;
GRANT SELECT ON mastery_reviews TO skilltree_app;

CREATE FUNCTION mastery_first_days(p_rating integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    -- The days FSRS (fsrs 6, default parameters, no learning steps, no fuzz) gives a new card
    -- rated p_rating: when a completed skill is first due. skilltree.mastery.scheduling
    -- computes them with the package; tests/mastery/test_scheduling.py checks both agree.
    RETURN CASE p_rating WHEN 1 THEN 1 WHEN 2 THEN 1 WHEN 3 THEN 2 ELSE 8 END;
END
$$;

CREATE FUNCTION mastery_completion_rating(p_user text, p_method "CompletionMethod",
                                          p_score double precision, p_evidence jsonb)
RETURNS integer LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_points double precision;
    found_rubric jsonb;
    best double precision;
BEGIN
    -- How well a completion shows the skill, as the first FSRS rating of its card: 3 (Good)
    -- for verified evidence (an attempt the server graded at 80 or more; a project a reviewer
    -- approved, scoring 80% of its rubric's best or more, or without a rubric), else 2 (Hard:
    -- the learner's word, time logged, an integration's call, a lower grade).
    IF p_method = 'ASSESSMENT' AND p_evidence->'metadata'->>'attemptId' IS NOT NULL
       AND p_score >= 80 THEN
        RETURN 3;
    ELSIF p_method = 'PROJECT' THEN
        SELECT p.points, r.rubric INTO found_points, found_rubric
        FROM project_submissions p LEFT JOIN project_rubrics r ON r.skill_id = p.skill_id
        WHERE p.user_id = p_user AND p.id = p_evidence->'metadata'->>'submissionId'
          AND p.status = 'APPROVED';
        IF FOUND THEN
            IF found_rubric IS NULL THEN
                RETURN 3;
            END IF;
            best := (SELECT sum((SELECT max((l->>'points')::float8)
                                 FROM jsonb_array_elements(c->'levels') l))
                     FROM jsonb_array_elements(found_rubric->'criteria') c);
            IF best > 0 AND coalesce(found_points, 0) >= 0.8 * best THEN
                RETURN 3;
            END IF;
        END IF;
    END IF;
    RETURN 2;
END
$$;

CREATE FUNCTION mastery_shown_level(p_level "MasteryLevel", p_due timestamp with time zone,
                                    p_last timestamp with time zone,
                                    p_now timestamp with time zone)
RETURNS "MasteryLevel" LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    steps integer := 0;
    levels "MasteryLevel"[] := enum_range(NULL::"MasteryLevel");
BEGIN
    -- The level a learner sees at p_now: the level earned, one lower once its review is
    -- overdue (p_now past p_due), two lower once overdue by more than the interval it was
    -- given (p_due - p_last); never below FAMILIAR. Never silently MASTERED when overdue.
    IF p_now > p_due THEN
        steps := 1;
    END IF;
    IF p_now > p_due + (p_due - p_last) THEN
        steps := 2;
    END IF;
    RETURN levels[greatest(1, array_position(levels, p_level) - steps)];
END
$$;

CREATE FUNCTION mastery_skills_mastered(p_user text) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- The learner's skills whose last review left them MASTERED (MASTERY achievements).
    RETURN (SELECT count(*) FROM skill_mastery WHERE user_id = p_user AND level = 'MASTERED');
END
$$;

CREATE FUNCTION mastery_review_rating(p_user text, p_skill text, p_attempt text,
                                      p_recall integer)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    attempt assessment_attempts;
BEGIN
    -- A review's FSRS rating (1 Again, 2 Hard, 3 Good, 4 Easy): a skill with a question bank
    -- is reviewed by a graded review attempt (failed: 1; passed under 80: 2; under 100: 3;
    -- 100: 4), once; one without, by the learner's own rating of their recall (p_recall).
    IF p_attempt IS NULL THEN
        IF EXISTS (SELECT FROM question_banks WHERE skill_id = p_skill) THEN
            RETURN jsonb_build_object('refused', 'HasBank');
        ELSIF p_recall IS NULL OR p_recall NOT BETWEEN 1 AND 4 THEN
            RETURN jsonb_build_object('refused', 'InvalidRecall');
        END IF;
        RETURN jsonb_build_object('rating', p_recall, 'score', NULL);
    END IF;
    SELECT * INTO attempt FROM assessment_attempts WHERE user_id = p_user AND id = p_attempt;
    IF NOT FOUND OR attempt.skill_id <> p_skill OR NOT attempt.review
       OR attempt.submitted_at IS NULL THEN
        RETURN jsonb_build_object('refused', 'NotAReview');
    ELSIF EXISTS (SELECT FROM mastery_reviews WHERE user_id = p_user AND attempt_id = p_attempt)
    THEN
        RETURN jsonb_build_object('refused', 'AlreadyReviewed');
    END IF;
    RETURN jsonb_build_object('score', attempt.score, 'rating', CASE
        WHEN NOT attempt.passed THEN 1 WHEN attempt.score < 80 THEN 2
        WHEN attempt.score < 100 THEN 3 ELSE 4 END);
END
$$;

CREATE FUNCTION mastery_begin(p_user text, p_skill text, p_now timestamp with time zone,
                              p_attempt text DEFAULT NULL, p_recall integer DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
DECLARE
    skill record;
    mine user_skill_progress;
    card skill_mastery;
    rated jsonb;
    first integer;
BEGIN
    -- A review's first half: locks the learner (the engine's lock, until the transaction
    -- ends), checks the review may be made, and answers the card as it is (NULL before the
    -- first review: the completion's rating and date stand for it) and the review's rating,
    -- from which the API's FSRS scheduler computes the next card (mastery_record stores it).
    PERFORM assessment_acting_learner(p_user);
    PERFORM progress_lock_profile(p_user);
    SELECT s.name, s.is_active INTO skill FROM skills s WHERE s.id = p_skill;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    END IF;
    SELECT * INTO mine FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill;
    IF NOT FOUND OR mine.status <> 'COMPLETED' THEN
        RETURN jsonb_build_object('refused', 'NotCompleted', 'name', skill.name);
    ELSIF NOT skill.is_active THEN
        RETURN jsonb_build_object('refused', 'Inactive', 'name', skill.name);
    END IF;
    rated := mastery_review_rating(p_user, p_skill, p_attempt, p_recall);
    IF rated ? 'refused' THEN
        RETURN rated || jsonb_build_object('name', skill.name);
    END IF;
    SELECT * INTO card FROM skill_mastery WHERE user_id = p_user AND skill_id = p_skill;
    IF FOUND THEN
        RETURN jsonb_build_object('rating', rated->'rating', 'card', card.card,
                                  'dueAt', card.due_at);
    END IF;
    first := mastery_completion_rating(p_user, mine.completion_method, mine.completion_score,
                                       mine.evidence_data);
    RETURN jsonb_build_object('rating', rated->'rating', 'card', NULL,
        'completedAt', mine.completed_at, 'completionRating', first,
        'dueAt', mine.completed_at + make_interval(days => mastery_first_days(first)));
END
$$;

CREATE FUNCTION mastery_record(p_user text, p_skill text, p_now timestamp with time zone,
                               p_attempt text, p_recall integer, p_card jsonb,
                               p_due timestamp with time zone)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path TO 'public', 'pg_temp' AS $$
DECLARE
    prof user_profiles;
    mine user_skill_progress;
    card skill_mastery;
    rated jsonb;
    rating integer;
    graded boolean := p_attempt IS NOT NULL;
    first integer;
    evidence numeric;
    verified boolean;
    level_before "MasteryLevel";
    due_before timestamptz;
    on_time boolean;
    finish jsonb;
BEGIN
    -- A review's second half, in the transaction of mastery_begin: the rating again (checked
    -- here, whatever the caller says), the level rule (docs/progress.md, "Mastery"), the card
    -- p_card due at p_due as FSRS scheduled it, the review's log, and the review as the day's
    -- activity (streak, achievements: progress_finish; no XP for the skill again).
    PERFORM assessment_acting_learner(p_user);
    prof := progress_lock_profile(p_user);
    SELECT * INTO mine FROM user_skill_progress WHERE user_id = p_user AND skill_id = p_skill;
    IF NOT FOUND OR mine.status <> 'COMPLETED' THEN
        RETURN jsonb_build_object('refused', 'NotCompleted');
    END IF;
    rated := mastery_review_rating(p_user, p_skill, p_attempt, p_recall);
    IF rated ? 'refused' THEN
        RETURN rated;
    END IF;
    rating := (rated->>'rating')::integer;
    IF p_due IS NULL OR p_due <= p_now OR jsonb_typeof(p_card) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'a review schedules its card after it (due %, now %)', p_due, p_now
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO card FROM skill_mastery WHERE user_id = p_user AND skill_id = p_skill;
    IF FOUND THEN
        evidence := card.evidence;
        verified := card.verified;
        due_before := card.due_at;
    ELSE
        first := mastery_completion_rating(p_user, mine.completion_method,
                                           mine.completion_score, mine.evidence_data);
        evidence := CASE WHEN first >= 3 THEN 1 ELSE 0 END;
        verified := first >= 3;
        due_before := mine.completed_at + make_interval(days => mastery_first_days(first));
    END IF;
    level_before := mastery_level_for(evidence, verified);
    on_time := p_now >= due_before;
    -- The level rule: a lapse (Again) costs a level (MASTERED to PROFICIENT keeps its
    -- verified evidence; to FAMILIAR, none is left); Hard keeps it; Good or Easy, taken when
    -- due (not before: reviewing early moves the schedule, not the level), adds a point for a
    -- graded review, half a point for self-rated recall (weaker evidence), and a graded one is
    -- verified evidence. The level is what the points support (mastery_level_for).
    IF rating = 1 THEN
        evidence := CASE WHEN evidence >= 2 THEN 1 ELSE 0 END;
        verified := verified AND evidence >= 1;
    ELSIF rating >= 3 AND on_time THEN
        evidence := least(10, evidence + CASE WHEN graded THEN 1 ELSE 0.5 END);
        verified := verified OR graded;
    END IF;
    INSERT INTO skill_mastery AS m (user_id, skill_id, evidence, verified, level, card, due_at,
                                    last_reviewed_at, reviews, lapses)
    VALUES (p_user, p_skill, evidence, verified, mastery_level_for(evidence, verified), p_card,
            p_due, p_now, 1, CASE WHEN rating = 1 THEN 1 ELSE 0 END)
    ON CONFLICT (user_id, skill_id) DO UPDATE
    SET evidence = EXCLUDED.evidence, verified = EXCLUDED.verified, level = EXCLUDED.level,
        card = EXCLUDED.card,
        due_at = EXCLUDED.due_at, last_reviewed_at = EXCLUDED.last_reviewed_at,
        reviews = m.reviews + 1, lapses = m.lapses + EXCLUDED.lapses
    RETURNING * INTO card;
    INSERT INTO mastery_reviews (user_id, id, skill_id, attempt_id, rating, score, on_time,
                                 level_before, level_after, due_before, due_after, reviewed_at)
    VALUES (p_user, new_row_id(), p_skill, p_attempt, rating, (rated->>'score')::float8,
            on_time, level_before, card.level, due_before, p_due, p_now);
    INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, xp_delta, occurred_at,
                                 details)
    VALUES (p_user, 'ACTIVITY', mine.skill_tree_id, p_skill, 0, p_now, jsonb_build_object(
        'review', true, 'rating', rating, 'level', card.level));
    finish := progress_finish(prof, mine.skill_tree_id, p_skill, mine, p_now, true, 0, 0, true,
                              '[]', 'ACTIVITY');
    RETURN jsonb_build_object(
        'skillId', p_skill, 'rating', rating, 'score', rated->'score', 'onTime', on_time,
        'levelBefore', level_before, 'level', card.level, 'evidence', card.evidence,
        'verified', card.verified, 'dueBefore', due_before, 'dueAt', card.due_at,
        'reviewedAt', p_now, 'reviews', card.reviews, 'lapses', card.lapses,
        'xpAwarded', finish->'xpAwarded', 'achievements', finish->'achievements',
        'profile', finish->'profile');
END
$$;

REVOKE ALL ON FUNCTION mastery_begin(text, text, timestamp with time zone, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION mastery_record(text, text, timestamp with time zone, text, integer, jsonb, timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mastery_begin(text, text, timestamp with time zone, text, integer) TO skilltree_app;
GRANT EXECUTE ON FUNCTION mastery_record(text, text, timestamp with time zone, text, integer, jsonb, timestamp with time zone) TO skilltree_app;
"""

DROP_OBJECTS = """
DROP FUNCTION mastery_record(text, text, timestamp with time zone, text, integer, jsonb, timestamp with time zone);
DROP FUNCTION mastery_begin(text, text, timestamp with time zone, text, integer);
DROP FUNCTION mastery_review_rating(text, text, text, integer);
DROP FUNCTION mastery_skills_mastered(text);
DROP FUNCTION mastery_shown_level("MasteryLevel", timestamp with time zone, timestamp with time zone, timestamp with time zone);
DROP FUNCTION mastery_completion_rating(text, "CompletionMethod", double precision, jsonb);
DROP FUNCTION mastery_first_days(integer);
DROP TABLE mastery_reviews;
DROP TABLE skill_mastery;
DROP FUNCTION mastery_level_for(numeric, boolean);
DROP TYPE "MasteryLevel";
ALTER TABLE assessment_attempts DROP COLUMN review;
"""

# Written by `skilltree db new-migration` from the live schema as 0038 left it
# (db/schema/assessments.sql, db/schema/gamification.sql): edit it into what this revision installs.
UPGRADE = r"""
CREATE OR REPLACE FUNCTION public.assessment_start(p_user text, p_skill text, p_now timestamp with time zone, p_unpublished_ok boolean DEFAULT false)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
    -- An attempt at a skill already completed is a mastery review (0040): graded as any, it
    -- completes nothing again, and its grade moves the skill's review schedule and level.
    INSERT INTO assessment_attempts (user_id, id, skill_id, started_at, expires_at, questions,
                                     review)
    VALUES (p_user, new_row_id(), p_skill, p_now,
            p_now + make_interval(secs => (bank.settings->>'timeLimitSeconds')::integer), drawn,
            state = 'COMPLETED')
    RETURNING * INTO open;
    RETURN assessment_attempt_view(open, false);
END
$function$;

CREATE OR REPLACE FUNCTION public.assessment_attempt_view(p_attempt assessment_attempts, p_repeated boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
    -- An attempt as its learner sees it: its questions (never a key); once submitted, the
    -- results with explanations, the score and what the completion did.
    RETURN jsonb_build_object(
        'id', p_attempt.id, 'skillId', p_attempt.skill_id, 'startedAt', p_attempt.started_at,
        'expiresAt', p_attempt.expires_at, 'questions', p_attempt.questions,
        'submittedAt', p_attempt.submitted_at, 'score', p_attempt.score,
        'passed', p_attempt.passed, 'expired', p_attempt.expired,
        'results', p_attempt.results, 'completion', p_attempt.completion,
        'review', p_attempt.review, 'repeated', p_repeated);
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
        WHEN 'skills_mastered' THEN mastery_skills_mastered(p_user)
        WHEN 'skills_in_category' THEN learner_skills_in_category(
            p_user, p_criteria->'additionalParams'->>'category')
        END::numeric;
END
$function$;
"""

# What 0039 installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION public.assessment_start(p_user text, p_skill text, p_now timestamp with time zone, p_unpublished_ok boolean DEFAULT false)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.assessment_attempt_view(p_attempt assessment_attempts, p_repeated boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
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
"""


def upgrade() -> None:
    op.execute(OBJECTS)
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
    op.execute(DROP_OBJECTS)
