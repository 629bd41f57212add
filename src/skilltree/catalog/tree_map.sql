-- tree_map: the map of the tree whose slug is the parameter `slug`, as the JSON text of
-- GET /api/v1/trees/{slug}/map (the shape of skilltree.catalog.schemas.TreeMap, without the
-- learning plan the server adds), followed by the tree's is_published and created_by, from which
-- the caller decides whether the viewer may see it (drafts: their author and admins).
--
-- The map is what draws the tree: the tree's own fields, and per active skill only what the
-- graph shows (id, name, short name, position, node size, XP, minutes, optional, milestone, and
-- its prerequisites). Skills are arrays in the order `skillFields` names, listed by position as
-- Python orders them (y, x, then the id's code points: `COLLATE "C"`), and a skill's
-- `dependencies` are the indexes of its prerequisites in that list, not their ids: a tree of
-- 10,000 skills in about a tenth of its full document. What a skill teaches comes with
-- GET /skills/{id}, when it is opened.
--
-- As in tree_document.sql, the map is only built when the caller's copy is stale: given
-- `known_id` and `known_version` (a cached map's tree id and structure_version) and the tree still
-- at that version, `map` is NULL and PostgreSQL does none of the work below.
WITH tree AS (
    SELECT t.*, c.name AS category_name, c.slug AS category_slug
      FROM skill_trees t
      JOIN skill_categories c ON c.id = t.category_id
     WHERE t.slug = %(slug)s
), wanted AS (
    SELECT t.id IS DISTINCT FROM %(known_id)s
           OR t.structure_version IS DISTINCT FROM %(known_version)s AS build
      FROM tree t
), skill AS MATERIALIZED (
    SELECT s.id, s.name, s.short_name, s.position_x, s.position_y, s.node_size, s.xp_value,
           s.estimated_minutes, s.is_optional, s.is_milestone,
           row_number() OVER (ORDER BY s.position_y, s.position_x, s.id COLLATE "C") - 1 AS rank
      FROM skills s
      JOIN tree ON s.skill_tree_id = tree.id
     WHERE s.is_active AND (SELECT build FROM wanted)
), needs AS (
    SELECT e.skill_id AS id, json_agg(p.rank ORDER BY p.rank) AS ranks
      FROM skill_dependencies e
      JOIN skill p ON p.id = e.depends_on_id
     WHERE e.skill_id = ANY (ARRAY(SELECT id FROM skill))
     GROUP BY e.skill_id
)
SELECT t.id,
       t.structure_version,
       CASE WHEN NOT (SELECT build FROM wanted) THEN NULL ELSE json_build_object(
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
    'structureVersion', t.structure_version,
    'layoutConfig', t.layout_config,
    'themeConfig', t.theme_config,
    'isPublished', t.is_published,
    'isFeatured', t.is_featured,
    'isAiGenerated', t.is_ai_generated,
    'createdBy', t.created_by,
    'category', json_build_object('id', t.category_id, 'name', t.category_name,
                                  'slug', t.category_slug),
    'skillFields', json_build_array('id', 'name', 'shortName', 'positionX', 'positionY',
                                    'nodeSize', 'xpValue', 'estimatedMinutes', 'isOptional',
                                    'isMilestone', 'dependencies'),
    'skills', coalesce(
        (SELECT json_agg(json_build_array(s.id, s.name, s.short_name, s.position_x, s.position_y,
                                          s.node_size, s.xp_value, s.estimated_minutes,
                                          s.is_optional, s.is_milestone,
                                          coalesce(needs.ranks, '[]'::json))
                         ORDER BY s.rank)
           FROM skill s
           LEFT JOIN needs ON needs.id = s.id),
        '[]'::json)
)::text END AS map,
       t.is_published,
       t.created_by
  FROM tree t
