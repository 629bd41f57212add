-- tree_cohorts: the tree `tree_id`'s weekly enrolment cohorts (UTC weeks from Monday) of the
-- last `weeks` weeks as of `now`: a learner belongs to the week they enrolled in this tree. For
-- each cohort and each week from its own to the current one (zero-filled): the cohort's size and
-- how many of its learners were active in this tree that week (a START, COMPLETE, SKIP or
-- ACTIVITY event of the tree, as for streaks). Through analytics_enrolments and
-- analytics_tree_events: only the tree's author and admins see a row.
WITH this_week AS (
    SELECT date_trunc('week', %(now)s::timestamptz AT TIME ZONE 'UTC')::date AS week
), weeks AS (
    SELECT g::date AS week
      FROM this_week, generate_series(week - 7 * (%(weeks)s - 1), week, interval '1 week') g
), cohort AS MATERIALIZED (
    SELECT user_id, date_trunc('week', created_at AT TIME ZONE 'UTC')::date AS cohort
      FROM analytics_enrolments
     WHERE skill_tree_id = %(tree_id)s
       AND created_at >= (SELECT min(week) FROM weeks)::timestamp AT TIME ZONE 'UTC'
       AND created_at < ((SELECT week FROM this_week) + 7)::timestamp AT TIME ZONE 'UTC'
), sizes AS (
    SELECT cohort, count(*) AS learners FROM cohort GROUP BY cohort
), retained AS (
    -- one probe per learner and week (idx_progress_event_user_time), stopping at the first
    -- learning event in the tree: the cost follows the cohorts' learners
    SELECT c.cohort, w.week, count(*) AS active
      FROM cohort c
      JOIN weeks w ON w.week >= c.cohort
     CROSS JOIN LATERAL (
           SELECT FROM analytics_tree_events e
            WHERE e.user_id = c.user_id
              AND e.occurred_at >= w.week::timestamp AT TIME ZONE 'UTC'
              AND e.occurred_at < (w.week + 7)::timestamp AT TIME ZONE 'UTC'
              AND e.skill_tree_id = %(tree_id)s
              AND e.kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY')
            LIMIT 1) active
     GROUP BY c.cohort, w.week
)
SELECT cw.week AS cohort, coalesce(s.learners, 0) AS learners, aw.week,
       (aw.week - cw.week) / 7 AS weeks_after, coalesce(r.active, 0) AS active
  FROM weeks cw
  JOIN weeks aw ON aw.week >= cw.week
  LEFT JOIN sizes s ON s.cohort = cw.week
  LEFT JOIN retained r ON r.cohort = cw.week AND r.week = aw.week
 ORDER BY cw.week, aw.week
