"""progress: no per-event cost that grows with the learner's progress

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

Three statements of every completion read every skill the learner had done before, so a completion
cost more the further the learner was (measured 250 skills into a 1,000-skill tree: 1.8 ms, 0.1 ms
and 2 x 0.02 ms of a 3.2 ms call; docs/progress.md):

- `progress_tree_requirements_met` (did the learner finish the tree?) walked the tree's required
  skills in stored order looking for one not done, and learners do them in much that order. A
  learner who has not finished a tree almost always has a required skill unlocked and not
  finished, a row of theirs: it now looks among the learner's open rows first (index on
  user_id, status) and walks the tree only when there is none (near the end, or when only
  optional skills are unlocked), as before.
- The profile's `skills_completed` was a count of the learner's COMPLETED rows, and so was the
  measure of every `skills_in_category` achievement not yet earned (`learner_skills_in_category`,
  over the learner's completed rows of every category). Both are now sums of the learner's
  enrolments' `skills_completed` (of the category's trees), which every event moves one step and
  every tree change recounts: one row per tree, not one per skill. Completions of skills made
  inactive no longer count in either (as in the enrolments, and every other figure).
  `refresh_tree_enrolments` recounts the profile's for the learners of a changed tree, as it did
  `trees_completed`, and now locks those learners' profiles first, in the order progress events
  do: a recount racing an event could write over the event's step (the enrolment's count was
  only ever stepped since, so the error would stay), and the two could deadlock. Every existing
  profile is recounted the new way (and the old way on the way down).

`progress_finish` is 0014's with that statement replaced, `progress_unlock_enrolled` 0014's for
the learners it is given; both are whole copies here, and the downgrade restores 0014's
definitions from whole copies too (migrations are frozen: none reads another).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUIREMENTS_MET = r"""
CREATE OR REPLACE FUNCTION progress_tree_requirements_met(p_user text, p_tree text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- Every required (not optional) active skill of the tree is completed or skipped.
    -- First the learner's open rows (index on user_id, status; the tree is checked on the
    -- skill, so that no plan walks the learner's rows of the tree instead): a required skill
    -- unlocked and not finished answers no at once, however much the learner has done.
    IF EXISTS (
        SELECT FROM user_skill_progress r
        JOIN skills a ON a.id = r.skill_id
        WHERE r.user_id = p_user AND r.status IN ('LOCKED', 'AVAILABLE', 'IN_PROGRESS')
          AND a.skill_tree_id = p_tree AND a.is_active AND NOT a.is_optional) THEN
        RETURN false;
    END IF;
    -- Otherwise every required active skill must have its finished row (a skill still locked
    -- has none).
    RETURN NOT EXISTS (
        SELECT FROM skills a
        WHERE a.skill_tree_id = p_tree AND a.is_active AND NOT a.is_optional
          AND NOT EXISTS (
              SELECT FROM user_skill_progress r
              WHERE r.user_id = p_user AND r.skill_id = a.id
                AND r.status IN ('COMPLETED', 'SKIPPED')));
END
$$;
"""

SKILLS_IN_CATEGORY = r"""
CREATE OR REPLACE FUNCTION learner_skills_in_category(p_user text, p_category text)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    -- The learner's completed active skills in the trees of the category with slug
    -- p_category: their enrolments' counts, one row per tree of theirs.
    RETURN (
        SELECT coalesce(sum(e.skills_completed), 0) FROM user_skill_tree_progress e
        JOIN skill_trees t ON t.id = e.skill_tree_id
        JOIN skill_categories c ON c.id = t.category_id
        WHERE e.user_id = p_user AND c.slug = p_category);
END
$$;
"""

# progress_finish: 0014's, the profile's counters from the enrolments alone.
FINISH = r"""
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

# progress_unlock_enrolled: 0014's, for the learners given (those whose profiles the refresh
# holds).
UNLOCK_ENROLLED = r"""
CREATE OR REPLACE FUNCTION progress_unlock_enrolled(p_tree text, p_now timestamptz, p_users text[])
RETURNS void
LANGUAGE plpgsql AS $$
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
$$;
"""

REFRESH = r"""
CREATE OR REPLACE FUNCTION refresh_tree_enrolments(p_tree text) RETURNS void
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
"""

# Every profile's skills_completed as 0018 counts it (and back).
RECOUNT_PROFILES = """
UPDATE user_profiles u SET skills_completed = c.completed
FROM (SELECT p.user_id, coalesce(sum(t.skills_completed), 0) AS completed
      FROM user_profiles p LEFT JOIN user_skill_tree_progress t ON t.user_id = p.user_id
      GROUP BY p.user_id) c
WHERE c.user_id = u.user_id AND u.skills_completed IS DISTINCT FROM c.completed
"""
RECOUNT_PROFILES_0014 = """
UPDATE user_profiles u SET skills_completed = c.completed
FROM (SELECT p.user_id, count(r.id) AS completed
      FROM user_profiles p
      LEFT JOIN user_skill_progress r ON r.user_id = p.user_id AND r.status = 'COMPLETED'
      GROUP BY p.user_id) c
WHERE c.user_id = u.user_id AND u.skills_completed IS DISTINCT FROM c.completed
"""


# The downgrade's: 0014's definitions, whole.
REQUIREMENTS_MET_0014 = r"""
CREATE OR REPLACE FUNCTION progress_tree_requirements_met(p_user text, p_tree text) RETURNS boolean
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
"""

SKILLS_IN_CATEGORY_0014 = r"""
CREATE OR REPLACE FUNCTION learner_skills_in_category(p_user text, p_category text) RETURNS integer
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
"""

FINISH_0014 = r"""
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
"""

REFRESH_0014 = r"""
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

UNLOCK_ENROLLED_0014 = r"""
CREATE OR REPLACE FUNCTION progress_unlock_enrolled(p_tree text, p_now timestamptz) RETURNS void
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
"""


def upgrade() -> None:
    op.execute(REQUIREMENTS_MET)
    op.execute(SKILLS_IN_CATEGORY)
    op.execute(FINISH)
    op.execute("DROP FUNCTION progress_unlock_enrolled(text, timestamptz)")
    op.execute(UNLOCK_ENROLLED)
    op.execute(REFRESH)
    op.execute(RECOUNT_PROFILES)


def downgrade() -> None:
    op.execute(REQUIREMENTS_MET_0014)
    op.execute(SKILLS_IN_CATEGORY_0014)
    op.execute(FINISH_0014)
    op.execute(REFRESH_0014)
    op.execute("DROP FUNCTION progress_unlock_enrolled(text, timestamptz, text[])")
    op.execute(UNLOCK_ENROLLED_0014)
    op.execute(RECOUNT_PROFILES_0014)
