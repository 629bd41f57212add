-- hardest_questions: the questions of the tree `tree_id`'s banks that learners fail most: of the
-- questions drawn by at least `min_attempts` graded, unexpired attempts (counted as in
-- item_analysis.sql), the `limit` with the largest share answered wrong, then the most attempts.
-- Only questions still in their bank (a question deleted since cannot be fixed); the skill's
-- inactive or not, as its bank is.
--
-- Read through analytics_assessment_attempts: an author sees nothing of another author's tree.
WITH items AS (
    SELECT a.skill_id, r.value->>'questionId' AS question_id,
           count(*) AS attempts,
           count(*) FILTER (WHERE NOT (r.value->>'correct')::boolean) AS failed
      FROM skills s
      JOIN analytics_assessment_attempts a ON a.skill_id = s.id
     CROSS JOIN LATERAL jsonb_array_elements(a.results) r
     WHERE s.skill_tree_id = %(tree_id)s AND a.submitted_at IS NOT NULL AND NOT a.expired
     GROUP BY a.skill_id, r.value->>'questionId'
    HAVING count(*) >= %(min_attempts)s
)
SELECT i.skill_id, s.key AS skill_key, s.name AS skill_name, i.question_id,
       q.value->>'kind' AS kind, q.value->>'prompt' AS prompt,
       i.attempts, i.failed, i.failed::float8 / i.attempts AS failure_rate
  FROM items i
  JOIN skills s ON s.id = i.skill_id
  JOIN question_banks b ON b.skill_id = i.skill_id
 CROSS JOIN LATERAL jsonb_array_elements(b.questions) q
 WHERE q.value->>'id' = i.question_id
 ORDER BY failure_rate DESC, i.attempts DESC, i.skill_id, i.question_id
 LIMIT %(limit)s
