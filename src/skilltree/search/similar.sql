-- Names close to the query text (pg_trgm word similarity: the query against the most similar
-- stretch of the name, at least pg_trgm.word_similarity_threshold, which the caller sets for its
-- transaction) among active skills and trees the viewer may see, filtered, that the full-text
-- query does not match; most similar first, at most %(limit)s. The snippet as in fulltext.sql.
WITH query AS (
    SELECT c.config, websearch_to_tsquery(c.config, %(q)s) AS tsq FROM search_configuration c
),
{visible_trees},
hits AS (
    SELECT 'skill' AS type, s.id, s.name, vt.slug AS tree_slug, vt.name AS tree_name,
           CAST(s.difficulty AS text) AS difficulty, vt.category, vt.tags,
           word_similarity(%(q)s, s.name) AS score
      FROM query q
      JOIN skills s ON %(q)s <%% s.name AND NOT s.search_vector @@ q.tsq
      JOIN visible_trees vt ON vt.id = s.skill_tree_id
     WHERE s.is_active
       AND CAST(%(type)s AS text) IS DISTINCT FROM 'tree'
       AND (CAST(%(difficulty)s AS text) IS NULL
            OR s.difficulty = CAST(%(difficulty)s AS "DifficultyLevel"))
    UNION ALL
    SELECT 'tree', t.id, t.name, t.slug, t.name, CAST(vt.difficulty AS text), vt.category,
           vt.tags, word_similarity(%(q)s, t.name)
      FROM query q
      JOIN skill_trees t ON %(q)s <%% t.name AND NOT t.search_vector @@ q.tsq
      JOIN visible_trees vt ON vt.id = t.id
     WHERE CAST(%(type)s AS text) IS DISTINCT FROM 'skill'
       AND (CAST(%(difficulty)s AS text) IS NULL
            OR vt.difficulty = CAST(%(difficulty)s AS "DifficultyLevel"))
),
best AS (
    SELECT * FROM hits
     ORDER BY score DESC, strict_word_similarity(%(q)s, name) DESC, length(name), name, id
     LIMIT %(limit)s
)
SELECT p.type, p.id, p.name, p.tree_slug, p.tree_name, p.difficulty, p.category, p.tags, p.score,
       ts_headline(q.config, doc.text, q.tsq, %(headline)s) AS snippet
  FROM best p
  CROSS JOIN query q
  LEFT JOIN skills s ON p.type = 'skill' AND s.id = p.id
  LEFT JOIN skill_trees t ON p.type = 'tree' AND t.id = p.id
  CROSS JOIN LATERAL (
      SELECT translate(coalesce(nullif(concat_ws(' · ', nullif(s.description, ''),
                                           nullif(array_to_string(s.learning_objectives, ' · '), ''),
                                           nullif(t.short_description, ''),
                                           nullif(t.description, '')), ''),
                                p.name), E'\x02\x03', '') AS text
  ) doc
 ORDER BY p.score DESC, strict_word_similarity(%(q)s, p.name) DESC, length(p.name), p.name, p.id
