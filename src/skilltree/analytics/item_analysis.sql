-- item_analysis: every question of the skill `skill_id`'s bank, in the bank's order, with how
-- the skill's graded attempts answered it. No row when the skill has no bank.
--
-- An attempt counts once graded and not expired (an expired attempt answered nothing: every
-- question of it graded wrong would say nothing about the questions). For each question:
-- - attempts: the counted attempts that drew it; correct: those that answered it right;
-- - difficulty: correct / attempts (the share answered right; NULL when no attempt drew it);
-- - discrimination: the point-biserial correlation (Pearson's r, PostgreSQL's corr()) between the
--   question's score (1 right, 0 wrong) and the attempt's rest score: the share of the points of
--   the attempt's other questions that it earned. The rest score leaves the question out of the
--   total it is compared with (the "corrected" item-total correlation); as a share, attempts that
--   drew different questions compare. NULL when it is undefined: fewer than two attempts, a
--   question everyone answered right (or wrong), rest scores all equal, or attempts of this one
--   question only (no rest).
-- bank_attempts repeats on every row: the counted attempts at the bank (each attempt's first
-- result counted, so the attempts are read once).
--
-- Read through analytics_assessment_attempts: an author sees nothing of another author's tree.
-- One pass over the skill's attempts, each attempt's results expanded twice (its totals, then
-- each answer), grouped by question in a hash, no sort.
WITH answers AS (
    SELECT r.value->>'questionId' AS question_id,
           (r.value->>'correct')::boolean AS correct,
           r.ordinality = 1 AS first_result,
           (t.earned - (r.value->>'earned')::float8)
               / nullif(t.points - (r.value->>'points')::float8, 0) AS rest
      FROM analytics_assessment_attempts a
     CROSS JOIN LATERAL (
           SELECT sum((x->>'earned')::float8) AS earned, sum((x->>'points')::float8) AS points
             FROM jsonb_array_elements(a.results) x
           ) t
     CROSS JOIN LATERAL jsonb_array_elements(a.results) WITH ORDINALITY r
     WHERE a.skill_id = %(skill_id)s AND a.submitted_at IS NOT NULL AND NOT a.expired
), items AS (
    SELECT question_id,
           count(*) AS attempts,
           count(*) FILTER (WHERE correct) AS correct,
           corr(correct::int, rest) AS discrimination,
           count(*) FILTER (WHERE first_result) AS first_results
      FROM answers
     GROUP BY question_id
)
SELECT q.value->>'id' AS question_id, q.value->>'kind' AS kind, q.value->>'prompt' AS prompt,
       (q.value->>'points')::float8 AS points,
       coalesce(i.attempts, 0) AS attempts,
       coalesce(i.correct, 0) AS correct,
       i.correct::float8 / nullif(i.attempts, 0) AS difficulty,
       i.discrimination,
       (SELECT coalesce(sum(first_results), 0) FROM items)::bigint AS bank_attempts
  FROM question_banks b
 CROSS JOIN LATERAL jsonb_array_elements(b.questions) WITH ORDINALITY q
  LEFT JOIN items i ON i.question_id = q.value->>'id'
 WHERE b.skill_id = %(skill_id)s
 ORDER BY q.ordinality
