-- stalls: the active skills of the tree `tree_id` where learners stall most. A learner stalls
-- on a skill they started and have not completed (IN_PROGRESS); for each skill with such
-- learners: how many, the median and 90th percentile of the time from starting it to `now`, and
-- that median against the skill's estimated_minutes (NULL without an estimate), worst first,
-- `limit` skills. With the progress engine's learner-difficulty fields of those rows: how many
-- are flagged 'stuck' in struggling_indicators (over 1.5x the estimated time and 2x the expected
-- attempts), and their median engagement_score (NULL scores left out). Read from the learners'
-- rows as they are now.
--
-- One index range per skill (idx_skill_user_status: skill_id, status), so the cost follows the
-- learners in progress, not the tree's millions of rows.
SELECT s.id AS skill_id, s.key, s.name, s.estimated_minutes, x.stalled, x.median_minutes,
       x.p90_minutes, x.median_spent_minutes, x.stuck, x.median_engagement,
       x.median_minutes / nullif(s.estimated_minutes, 0) AS median_to_estimate
  FROM skills s
 CROSS JOIN LATERAL (
       SELECT count(*) AS stalled,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM %(now)s::timestamptz - p.started_at) / 60)
                  AS median_minutes,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM %(now)s::timestamptz - p.started_at) / 60)
                  AS p90_minutes,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY p.time_spent_minutes)
                  AS median_spent_minutes,
              count(*) FILTER (WHERE p.struggling_indicators -> 'flags' ? 'stuck') AS stuck,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY p.engagement_score)
                  AS median_engagement
         FROM analytics_skill_progress p
        WHERE p.skill_id = s.id AND p.status = 'IN_PROGRESS' AND p.started_at IS NOT NULL
       ) x
 WHERE s.skill_tree_id = %(tree_id)s AND s.is_active AND x.stalled > 0
 ORDER BY median_to_estimate DESC NULLS LAST, x.stalled DESC, s.id
 LIMIT %(limit)s
