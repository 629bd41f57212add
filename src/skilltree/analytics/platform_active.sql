-- platform_active: learners active on the whole platform (a START, COMPLETE, SKIP or ACTIVITY
-- event in any tree, as for streaks), each counted once per period, as of `now`: each of the
-- last `days` UTC days ('day'), `weeks` weeks from Monday ('week') and `months` calendar months
-- ('month'), the current ones included, every period present (zero-filled).
--
-- Exact at any moment: analytics_platform_periods holds every event up to the watermark
-- `folded_through`; the tail after it is counted here, a learner of the tail adding to a period
-- only when no folded event already made them active in it. Admins only: the policy of
-- analytics_platform_periods and the view analytics_platform_events show nothing to others.
WITH bounds AS (
    SELECT (%(now)s::timestamptz AT TIME ZONE 'UTC')::date AS today
), periods AS (
    SELECT 'day' AS period, g::date AS first_day
      FROM bounds, generate_series(today - (%(days)s - 1), today, interval '1 day') g
    UNION ALL
    SELECT 'week', g::date
      FROM bounds,
           generate_series(date_trunc('week', today::timestamp)
                               - make_interval(weeks => %(weeks)s - 1),
                           date_trunc('week', today::timestamp), interval '1 week') g
    UNION ALL
    SELECT 'month', g::date
      FROM bounds,
           generate_series(date_trunc('month', today::timestamp)
                               - make_interval(months => %(months)s - 1),
                           date_trunc('month', today::timestamp), interval '1 month') g
), tail AS (
    SELECT DISTINCT p.period,
           analytics_period_start(p.period, (e.occurred_at AT TIME ZONE 'UTC')::date)
               AS first_day,
           e.user_id
      FROM analytics_platform_events e
     CROSS JOIN (VALUES ('day'), ('week'), ('month')) p (period)
     WHERE e.id > %(folded_through)s
       AND e.skill_tree_id IS NOT NULL
       AND e.kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY')
), tail_active AS (
    SELECT t.period, t.first_day, count(*) AS active_learners
      FROM tail t
     WHERE NOT EXISTS (
           SELECT FROM analytics_platform_events e
            WHERE e.user_id = t.user_id
              AND e.occurred_at >= t.first_day::timestamp AT TIME ZONE 'UTC'
              AND e.occurred_at < analytics_period_end(t.period, t.first_day)::timestamp
                                  AT TIME ZONE 'UTC'
              AND e.id <= %(folded_through)s
              AND e.kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY'))
     GROUP BY t.period, t.first_day
)
SELECT p.period, p.first_day, analytics_period_end(p.period, p.first_day) - 1 AS last_day,
       coalesce(f.active_learners, 0) + coalesce(t.active_learners, 0) AS active_learners
  FROM periods p
  LEFT JOIN analytics_platform_periods f ON f.period = p.period AND f.first_day = p.first_day
  LEFT JOIN tail_active t ON t.period = p.period AND t.first_day = p.first_day
 ORDER BY p.period, p.first_day
