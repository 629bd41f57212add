-- assessment_outcomes: every skill of the tree `tree_id` with a question bank, by position
-- (y, x, id): its graded attempts (expired ones included: an attempt out of time is a failed
-- one), how many passed and the pass rate (NULL without attempts); the learners who took it and
-- who passed it; and the attempts each learner needed to pass (their graded attempts up to and
-- including their first pass): the median over the learners who passed, and the distribution
-- as [{attempts, learners}] in ascending attempts.
--
-- Read through analytics_assessment_attempts: an author sees nothing of another author's tree.
WITH graded AS (
    SELECT a.skill_id, a.user_id, a.submitted_at, a.passed,
           min(a.submitted_at) FILTER (WHERE a.passed)
               OVER (PARTITION BY a.skill_id, a.user_id) AS first_pass
      FROM skills s
      JOIN analytics_assessment_attempts a ON a.skill_id = s.id
     WHERE s.skill_tree_id = %(tree_id)s AND a.submitted_at IS NOT NULL
), learners AS (
    SELECT skill_id, user_id, count(*) AS attempts, count(*) FILTER (WHERE passed) AS passes,
           count(*) FILTER (WHERE submitted_at <= first_pass) AS to_pass
      FROM graded
     GROUP BY skill_id, user_id
), skills_taken AS (
    SELECT skill_id, sum(attempts)::bigint AS attempts, sum(passes)::bigint AS passed,
           count(*) AS learners,
           count(*) FILTER (WHERE passes > 0) AS learners_passed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY to_pass) FILTER (WHERE passes > 0)
               AS median_attempts_to_pass
      FROM learners
     GROUP BY skill_id
), distributions AS (
    SELECT skill_id, jsonb_agg(jsonb_build_object('attempts', to_pass, 'learners', learners)
                               ORDER BY to_pass) AS attempts_to_pass
      FROM (SELECT skill_id, to_pass, count(*) AS learners
              FROM learners WHERE passes > 0 GROUP BY skill_id, to_pass) d
     GROUP BY skill_id
)
SELECT s.id AS skill_id, s.key, s.name,
       coalesce(t.attempts, 0) AS attempts, coalesce(t.passed, 0) AS passed,
       t.passed::float8 / nullif(t.attempts, 0) AS pass_rate,
       coalesce(t.learners, 0) AS learners, coalesce(t.learners_passed, 0) AS learners_passed,
       t.median_attempts_to_pass,
       coalesce(d.attempts_to_pass, '[]') AS attempts_to_pass
  FROM skills s
  JOIN question_banks b ON b.skill_id = s.id
  LEFT JOIN skills_taken t ON t.skill_id = s.id
  LEFT JOIN distributions d ON d.skill_id = s.id
 WHERE s.skill_tree_id = %(tree_id)s
 ORDER BY s.position_y, s.position_x, s.id
