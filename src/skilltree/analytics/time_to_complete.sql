-- time_to_complete: for every active skill of the tree `tree_id`, ordered by position, the
-- learners who completed it and the 50th and 95th percentiles of the time from starting it to
-- completing it (minutes; a skill completed without being started counts 0) and of the time
-- they logged on it (time_spent_minutes), with the skill's estimated_minutes. Read from the
-- learners' rows as they are now.
--
-- One pass over the tree's rows grouped by skill: a third of a big tree's rows are COMPLETED,
-- too many for one index range per skill (random reads all over the table).
WITH times AS (
    SELECT p.skill_id, count(*) AS completed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.completed_at
               - coalesce(p.started_at, p.completed_at)) / 60) AS p50_minutes,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM p.completed_at
               - coalesce(p.started_at, p.completed_at)) / 60) AS p95_minutes,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY p.time_spent_minutes)
               AS p50_spent_minutes,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY p.time_spent_minutes)
               AS p95_spent_minutes
      FROM analytics_skill_progress p
     WHERE p.skill_tree_id = %(tree_id)s AND p.status = 'COMPLETED'
     GROUP BY p.skill_id
)
SELECT s.id AS skill_id, s.key, s.name, s.estimated_minutes,
       coalesce(t.completed, 0) AS completed,
       t.p50_minutes, t.p95_minutes, t.p50_spent_minutes, t.p95_spent_minutes
  FROM skills s
  LEFT JOIN times t ON t.skill_id = s.id
 WHERE s.skill_tree_id = %(tree_id)s AND s.is_active
 ORDER BY s.position_y, s.position_x, s.id
