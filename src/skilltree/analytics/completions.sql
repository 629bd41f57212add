-- completions: the tree `tree_id` day by day (UTC) from `first_day` to `last_day`, every day
-- present (zero-filled): enrolments, skill completions, learners active that day (a START,
-- COMPLETE, SKIP or ACTIVITY event in the tree, as for streaks), and the running total of
-- completions over the range and their 7-day moving average (window functions).
--
-- Exact at any moment: analytics_tree_days holds every event up to the watermark
-- (analytics_fold_state.folded_through); the tail after it is counted here, a learner of the
-- tail adding to a day's active learners only when no folded event already made them active
-- in the tree that day.
WITH tail AS MATERIALIZED (
    SELECT e.id, e.user_id, e.kind, (e.occurred_at AT TIME ZONE 'UTC')::date AS day
      FROM analytics_tree_events e
     WHERE e.id > %(folded_through)s
       AND e.skill_tree_id = %(tree_id)s
       AND e.occurred_at >= %(first_day)s::timestamp AT TIME ZONE 'UTC'
       AND e.occurred_at < (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
), tail_counts AS (
    SELECT day,
           count(*) FILTER (WHERE kind = 'ENROLL') AS enrolments,
           count(*) FILTER (WHERE kind = 'COMPLETE') AS completions
      FROM tail
     GROUP BY day
), tail_active AS (
    SELECT a.day, count(*) AS active_learners
      FROM (SELECT DISTINCT day, user_id FROM tail
             WHERE kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY')) a
     WHERE NOT EXISTS (
           SELECT FROM analytics_tree_events p
            WHERE p.user_id = a.user_id
              AND p.occurred_at >= a.day::timestamp AT TIME ZONE 'UTC'
              AND p.occurred_at < (a.day + 1)::timestamp AT TIME ZONE 'UTC'
              AND p.id <= %(folded_through)s
              AND p.skill_tree_id = %(tree_id)s
              AND p.kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY'))
     GROUP BY a.day
), days AS (
    SELECT g::date AS day,
           coalesce(d.enrolments, 0) + coalesce(tc.enrolments, 0) AS enrolments,
           coalesce(d.completions, 0) + coalesce(tc.completions, 0) AS completions,
           coalesce(d.active_learners, 0) + coalesce(ta.active_learners, 0) AS active_learners
      FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') g
      LEFT JOIN analytics_tree_days d ON d.skill_tree_id = %(tree_id)s AND d.day = g::date
      LEFT JOIN tail_counts tc ON tc.day = g::date
      LEFT JOIN tail_active ta ON ta.day = g::date
)
SELECT day, enrolments, completions, active_learners,
       sum(completions) OVER (ORDER BY day) AS cumulative_completions,
       avg(completions) OVER (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)
           AS completions_7_day_average
  FROM days
 ORDER BY day
