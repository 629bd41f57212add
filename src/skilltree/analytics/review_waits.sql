-- review_waits: every skill of the tree `tree_id` whose completion policy allows PROJECT or that
-- has project submissions, by position (y, x, id): its submissions decided (approved, changes
-- requested), the median and 90th percentile of the minutes from submission to decision, and
-- those waiting now (PENDING, claimed or not) with the median and longest minutes they have
-- waited until `now`.
--
-- project_submissions is read under its row-level security (a tree's reviewers read its
-- submissions) and only for the trees the caller may analyse (analytics_trees): a mentor, who
-- reviews, does not see the figures.
SELECT s.id AS skill_id, s.key, s.name,
       count(p.id) FILTER (WHERE p.status <> 'PENDING') AS decided,
       count(p.id) FILTER (WHERE p.status = 'APPROVED') AS approved,
       count(p.id) FILTER (WHERE p.status = 'CHANGES_REQUESTED') AS changes_requested,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.reviewed_at - p.submitted_at) / 60)
           FILTER (WHERE p.status <> 'PENDING') AS median_wait_minutes,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM p.reviewed_at - p.submitted_at) / 60)
           FILTER (WHERE p.status <> 'PENDING') AS p90_wait_minutes,
       count(p.id) FILTER (WHERE p.status = 'PENDING') AS pending,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM %(now)s::timestamptz - p.submitted_at) / 60)
           FILTER (WHERE p.status = 'PENDING') AS median_pending_minutes,
       max(extract(epoch FROM %(now)s::timestamptz - p.submitted_at) / 60)
           FILTER (WHERE p.status = 'PENDING') AS oldest_pending_minutes
  FROM skills s
  LEFT JOIN project_submissions p
         ON p.skill_id = s.id AND p.skill_tree_id = s.skill_tree_id
        AND p.skill_tree_id IN (SELECT id FROM analytics_trees)
 WHERE s.skill_tree_id = %(tree_id)s
 GROUP BY s.id
HAVING s.completion_policy ? 'PROJECT' OR count(p.id) > 0
 ORDER BY s.position_y, s.position_x, s.id
