-- calendar: the learner `user_id`'s last `days` days, each day present (zero-filled), as days of
-- their time zone `zone` (UTC when PostgreSQL does not know it, as for streaks), ending with the
-- day `now` falls on there: whether they were active (a START, COMPLETE, SKIP or ACTIVITY
-- event, as for streaks), how many such events, and the XP they earned (every event's
-- xp_delta: skills and achievements). `zone` repeats the zone used. Runs as the learner:
-- row-level security shows their own events only.
WITH bounds AS (
    SELECT z.zone, (%(now)s::timestamptz AT TIME ZONE z.zone)::date AS today
      FROM (SELECT analytics_zone(%(zone)s) AS zone) z
), per_day AS (
    SELECT (e.occurred_at AT TIME ZONE b.zone)::date AS day,
           count(*) FILTER (WHERE e.kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY')) AS events,
           sum(e.xp_delta) AS xp
      FROM progress_events e, bounds b
     WHERE e.user_id = %(user_id)s
       AND e.occurred_at >= (b.today - (%(days)s - 1))::timestamp AT TIME ZONE b.zone
       AND e.occurred_at < (b.today + 1)::timestamp AT TIME ZONE b.zone
     GROUP BY 1
)
SELECT b.zone, g::date AS day, coalesce(p.events, 0) > 0 AS active,
       coalesce(p.events, 0) AS events, coalesce(p.xp, 0) AS xp
  FROM bounds b
 CROSS JOIN generate_series(b.today - (%(days)s - 1), b.today, interval '1 day') g
  LEFT JOIN per_day p ON p.day = g::date
 ORDER BY g
