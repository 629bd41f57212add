-- pace: the learner `user_id`'s pace in the tree `tree_id` as of `now` (skills completed per day
-- since their enrolment started, a day at least), their progress, and the tree's median pace
-- over every enrolment (analytics_median_pace: an aggregate only, NULL under 5 enrolments).
-- No row when the learner is not enrolled. Runs as the learner: row-level security shows their
-- own enrolment only.
SELECT e.skills_completed, e.total_skills, e.progress_percent, e.started_at,
       CASE WHEN e.started_at IS NOT NULL THEN
            e.skills_completed
            / greatest(extract(epoch FROM %(now)s::timestamptz - e.started_at) / 86400, 1.0)
       END::double precision AS skills_per_day,
       analytics_median_pace(%(tree_id)s, %(now)s::timestamptz) AS median_skills_per_day
  FROM user_skill_tree_progress e
 WHERE e.user_id = %(user_id)s AND e.skill_tree_id = %(tree_id)s
