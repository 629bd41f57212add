-- tree_document: the tree whose slug is the parameter `slug`, as the JSON text of
-- GET /api/v1/trees/{slug} (the shape of skilltree.catalog.schemas.TreeDocument), followed by the
-- tree's is_published and created_by, from which the caller decides whether the viewer may see
-- it (drafts: their author and admins). Published or not, the work is the same.
--
-- Built in PostgreSQL so the API sends it as it comes, in one round trip: the tree's fields, its
-- category, its prerequisite tree ids, and every active skill ordered by position (y, x, id), each
-- with `dependencies` and `dependents` derived from skill_dependencies between active skills only.
-- No row when no tree has the slug.
--
-- The document is only built when the caller's copy is stale: given `known_id` and
-- `known_version` (a cached document's tree id and structure_version) and the tree still at that
-- version, `document` is NULL and PostgreSQL does none of the work below. With `build` false it
-- is never built: the caller looks for the version it is told in a shared cache (Redis) first.
--
-- With the document comes `graph`, what the server derives the learning plan and skill states
-- from (skilltree.graph.tree_graphs.TreeGraph), from the same snapshot: a JSON array with one
-- [id, name, positionY, positionX, estimatedMinutes, isOptional, xpValue, isMilestone,
-- dependencies] per active skill, ordered by position as Python orders it (y, x, then the id's
-- code points: `COLLATE "C"`), so the server takes that order as it comes (sorting narrow rows
-- costs PostgreSQL less than sorting in Python). Reading it here, in the document's round trip,
-- spares the server a second query of the whole graph when the tree has changed (and a graph
-- that could be of another version than the document).
--
-- With `user_id` (the signed-in learner; NULL otherwise), `learner_rows` lists that learner's
-- user_skill_progress rows in the tree (by skill id, so the same rows give the same text: the
-- ETag hashes it) and `tree_progress` their enrolment (NULL when not enrolled); the caller derives
-- every skill's state from them (skilltree.progress.states).
--
-- Why this shape (measured on the 1,000-skill tree of benchmarks/bench_tree_document.py): the
-- edges of all active skills are fetched in one pass through the primary-key index
-- (`skill_id = ANY (...)`, so the cost follows this tree's edges, not the whole edge table) and
-- grouped once: 25-40 percent less backend CPU than two correlated subqueries per skill. Skill
-- objects are rows of aliased columns turned into JSON by json_agg: about 20 percent cheaper than
-- a 28-pair json_build_object per skill. Timestamps are JSON's ISO 8601 with the session's
-- TimeZone offset (rendering them in UTC with to_char costs about 5 percent more).
WITH tree AS (
    SELECT t.*, c.name AS category_name, c.slug AS category_slug
      FROM skill_trees t
      JOIN skill_categories c ON c.id = t.category_id
     WHERE t.slug = %(slug)s
), active AS MATERIALIZED (
    SELECT s.id
      FROM skills s
      JOIN tree ON s.skill_tree_id = tree.id
     WHERE s.is_active
), edge AS MATERIALIZED (
    SELECT e.skill_id, e.depends_on_id
      FROM skill_dependencies e
      JOIN active prerequisite ON prerequisite.id = e.depends_on_id
     WHERE e.skill_id = ANY (ARRAY(SELECT id FROM active))
), dependencies AS (
    SELECT skill_id AS id, json_agg(depends_on_id ORDER BY depends_on_id) AS ids
      FROM edge
     GROUP BY skill_id
), dependents AS (
    SELECT depends_on_id AS id, json_agg(skill_id ORDER BY skill_id) AS ids
      FROM edge
     GROUP BY depends_on_id
)
SELECT t.id,
       t.structure_version,
       CASE WHEN NOT wanted.build THEN NULL ELSE json_build_object(
    'id', t.id,
    'categoryId', t.category_id,
    'name', t.name,
    'slug', t.slug,
    'description', t.description,
    'shortDescription', t.short_description,
    'difficulty', t.difficulty,
    'estimatedHours', t.estimated_hours,
    'prerequisites', coalesce(
        (SELECT json_agg(p.prerequisite_id ORDER BY p.prerequisite_id)
           FROM skill_tree_prerequisites p
          WHERE p.skill_tree_id = t.id),
        '[]'::json),
    'tags', t.tags,
    'version', t.version,
    'layoutConfig', t.layout_config,
    'themeConfig', t.theme_config,
    'isPublished', t.is_published,
    'isFeatured', t.is_featured,
    'isAiGenerated', t.is_ai_generated,
    'createdAt', t.created_at,
    'updatedAt', t.updated_at,
    'createdBy', t.created_by,
    'updatedBy', t.updated_by,
    'category', json_build_object('id', t.category_id, 'name', t.category_name,
                                  'slug', t.category_slug),
    'skills', coalesce(
        (SELECT json_agg(skill ORDER BY skill."positionY", skill."positionX", skill.id)
           FROM (SELECT s.id,
                        s.skill_tree_id AS "skillTreeId",
                        s.parent_skill_id AS "parentSkillId",
                        s.key,
                        s.name,
                        s.short_name AS "shortName",
                        s.description,
                        s.learning_objectives AS "learningObjectives",
                        s.skill_type AS "skillType",
                        s.difficulty,
                        s.estimated_minutes AS "estimatedMinutes",
                        s.xp_value AS "xpValue",
                        coalesce(dependencies.ids, '[]'::json) AS dependencies,
                        coalesce(dependents.ids, '[]'::json) AS dependents,
                        s.position_x AS "positionX",
                        s.position_y AS "positionY",
                        s.node_size AS "nodeSize",
                        s.content,
                        s.resources,
                        s.assessments,
                        s.completion_policy AS "completionPolicy",
                        s.is_active AS "isActive",
                        s.is_optional AS "isOptional",
                        s.is_milestone AS "isMilestone",
                        s.created_at AS "createdAt",
                        s.updated_at AS "updatedAt",
                        s.created_by AS "createdBy",
                        s.updated_by AS "updatedBy"
                   FROM skills s
                   LEFT JOIN dependencies ON dependencies.id = s.id
                   LEFT JOIN dependents ON dependents.id = s.id
                  WHERE s.skill_tree_id = t.id AND s.is_active) skill),
        '[]'::json)
)::text END AS document,
       CASE WHEN NOT wanted.build THEN NULL ELSE coalesce(
       (SELECT json_agg(json_build_array(s.id, s.name, s.position_y, s.position_x,
                                         s.estimated_minutes, s.is_optional, s.xp_value,
                                         s.is_milestone, coalesce(dependencies.ids, '[]'::json))
                        ORDER BY s.position_y, s.position_x, s.id COLLATE "C")
          FROM skills s
          LEFT JOIN dependencies ON dependencies.id = s.id
         WHERE s.skill_tree_id = t.id AND s.is_active),
       '[]'::json)::text END AS graph,
       t.is_published,
       t.created_by,
       (SELECT json_agg(json_build_object(
                   'skillId', p.skill_id,
                   'status', p.status,
                   'progressPercent', p.progress_percent,
                   'timeSpentMinutes', p.time_spent_minutes,
                   'attemptsCount', p.attempts_count,
                   'unlockedAt', p.unlocked_at,
                   'startedAt', p.started_at,
                   'completedAt', p.completed_at) ORDER BY p.skill_id)::text
          FROM user_skill_progress p
         WHERE p.user_id = %(user_id)s AND p.skill_tree_id = t.id) AS learner_rows,
       (SELECT json_build_object(
                   'status', e.status,
                   'progressPercent', e.progress_percent,
                   'skillsCompleted', e.skills_completed,
                   'totalSkills', e.total_skills,
                   'timeSpentMinutes', e.time_spent_minutes,
                   'milestonesReached', e.milestones_reached,
                   'startedAt', e.started_at,
                   'lastActivityAt', e.last_activity_at,
                   'completedAt', e.completed_at)::text
          FROM user_skill_tree_progress e
         WHERE e.user_id = %(user_id)s AND e.skill_tree_id = t.id) AS tree_progress
  FROM tree t
 CROSS JOIN LATERAL (
     SELECT %(build)s AND (t.id IS DISTINCT FROM %(known_id)s
                           OR t.structure_version IS DISTINCT FROM %(known_version)s) AS build
 ) wanted
