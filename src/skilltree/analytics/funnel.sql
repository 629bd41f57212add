-- funnel: the tree `tree_id`'s learners at each stage of every active skill, ordered by position
-- (y, x, id): how many learners had the skill unlocked, started it, completed it, skipped it.
--
-- Each stage counts the learners with that event (UNLOCK, START, COMPLETE, SKIP) on the skill;
-- the progress engine records each at most once per learner and skill. Exact at any moment:
-- analytics_skill_counts holds every event up to analytics_fold_state.folded_through
-- (analytics_fold(), db/schema/analytics.sql), and the events after it, the tail, are counted here
-- through the primary key's range. Read through row-level-security-checked relations: an author
-- sees nothing of another author's tree (analytics_trees).
WITH tail AS (
    SELECT e.skill_id,
           count(*) FILTER (WHERE e.kind = 'UNLOCK') AS unlocked,
           count(*) FILTER (WHERE e.kind = 'START') AS started,
           count(*) FILTER (WHERE e.kind = 'COMPLETE') AS completed,
           count(*) FILTER (WHERE e.kind = 'SKIP') AS skipped
      FROM analytics_tree_events e
     WHERE e.id > %(folded_through)s
       AND e.skill_tree_id = %(tree_id)s
       AND e.kind IN ('UNLOCK', 'START', 'COMPLETE', 'SKIP')
     GROUP BY e.skill_id
)
SELECT s.id AS skill_id, s.key, s.name, s.is_optional, s.is_milestone, s.estimated_minutes,
       coalesce(c.unlocked, 0) + coalesce(t.unlocked, 0) AS unlocked,
       coalesce(c.started, 0) + coalesce(t.started, 0) AS started,
       coalesce(c.completed, 0) + coalesce(t.completed, 0) AS completed,
       coalesce(c.skipped, 0) + coalesce(t.skipped, 0) AS skipped
  FROM skills s
  LEFT JOIN analytics_skill_counts c ON c.skill_id = s.id
  LEFT JOIN tail t ON t.skill_id = s.id
 WHERE s.skill_tree_id = %(tree_id)s AND s.is_active
 ORDER BY s.position_y, s.position_x, s.id
