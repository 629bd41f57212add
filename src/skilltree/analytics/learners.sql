-- learners: one page of the learners enrolled in the tree `tree_id` with their progress (the
-- percent of the tree's active skills completed, kept by the progress engine on each
-- enrolment), ordered by `sort`: 'progress' (most first), 'activity' (latest first) or
-- 'enrolled' (newest first); ties by learner id; with each learner's pace as of `now` (skills
-- completed a day since they started, a day at least). `total` repeats the number of enrolments.
-- Through analytics_enrolments: only the tree's author and admins see a row.
SELECT e.user_id, u.username, e.status, e.progress_percent, e.skills_completed,
       e.total_skills, e.time_spent_minutes, e.created_at AS enrolled_at, e.started_at,
       e.last_activity_at, e.completed_at,
       CASE WHEN e.started_at IS NOT NULL THEN
            e.skills_completed
            / greatest(extract(epoch FROM %(now)s::timestamptz - e.started_at) / 86400, 1.0)
       END::double precision AS skills_per_day,
       (SELECT count(*) FROM analytics_enrolments c WHERE c.skill_tree_id = %(tree_id)s)
           AS total
  FROM analytics_enrolments e
  JOIN users u ON u.id = e.user_id
 WHERE e.skill_tree_id = %(tree_id)s
 ORDER BY CASE WHEN %(sort)s = 'progress' THEN e.progress_percent END DESC NULLS LAST,
          CASE WHEN %(sort)s = 'activity' THEN e.last_activity_at END DESC NULLS LAST,
          CASE WHEN %(sort)s = 'enrolled' THEN e.created_at END DESC NULLS LAST,
          e.user_id
 LIMIT %(limit)s OFFSET %(offset)s
