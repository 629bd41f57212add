-- time_to_complete: tree `tree_id`'s snapshot of the time to complete its skills
-- (analytics_refresh_skill_times(), db/schema/analytics.sql): for every active skill, ordered by
-- position, the learners who completed it and the 50th and 95th percentiles of the time from
-- starting it to completing it (minutes; a skill completed without being started counts 0) and of
-- the time they logged on it (time_spent_minutes), with the skill's estimated_minutes.
--
-- One statement, so the snapshot's freshness and its figures are read together. No row when the
-- tree has no snapshot yet; one row with no skill when it has no active skill. `changed`: a
-- COMPLETE or ACTIVITY event of the tree came after the snapshot's watermark (through the
-- events' primary key, from that watermark on), or completed rows were deleted since.
WITH snapshot AS MATERIALIZED (  -- the probe below once, not once per skill
    SELECT n.through_event, n.computed_at, n.checked_at,
           -- the first such event by id: ORDER BY keeps the planner on the primary key from
           -- the watermark on (it cannot know the watermark when planning, and an EXISTS here
           -- became a scan of every event)
           n.stale OR (
               SELECT e.id FROM analytics_tree_events e
                WHERE e.id > n.through_event AND e.skill_tree_id = n.skill_tree_id
                  AND e.kind IN ('COMPLETE', 'ACTIVITY')
                ORDER BY e.id LIMIT 1) IS NOT NULL AS changed
      FROM analytics_time_snapshots n
     WHERE n.skill_tree_id = %(tree_id)s AND n.computed_at IS NOT NULL
)
SELECT n.through_event, n.computed_at, n.checked_at, n.changed,
       k.skill_id, k.key, k.name, k.estimated_minutes, k.completed,
       k.p50_minutes, k.p95_minutes, k.p50_spent_minutes, k.p95_spent_minutes
  FROM snapshot n
  LEFT JOIN (
      SELECT s.id AS skill_id, s.key, s.name, s.estimated_minutes,
             coalesce(t.completed, 0) AS completed,
             t.p50_minutes, t.p95_minutes, t.p50_spent_minutes, t.p95_spent_minutes,
             s.position_y, s.position_x
        FROM skills s
        LEFT JOIN analytics_skill_times t ON t.skill_id = s.id
       WHERE s.skill_tree_id = %(tree_id)s AND s.is_active
  ) k ON true
 ORDER BY k.position_y, k.position_x, k.skill_id
