-- Full-text hits (websearch syntax) among active skills and trees the viewer may see, filtered,
-- best first: ts_rank over the weighted documents (name A > short name, tags B > description,
-- learning objectives C), then shorter names. One row always: the total and the best score,
-- then the page's item (NULL columns when the page is empty), with its snippet marked by
-- \x02 ... \x03 (stripped from the text first, so they only ever mark matches).
WITH query AS (
    -- rank_q: the query without its negated terms (ts_rank scores a NOT as almost nothing);
    -- only_negations: nothing to look for (`-word` alone), so no hits rather than every row.
    SELECT c.config, w.tsq,
           CASE WHEN querytree(w.tsq) IN ('', 'T') THEN w.tsq
                ELSE CAST(querytree(w.tsq) AS tsquery) END AS rank_q,
           numnode(w.tsq) > 0 AND querytree(w.tsq) = 'T' AS only_negations
      FROM search_configuration c
     CROSS JOIN LATERAL websearch_to_tsquery(c.config, %(q)s) AS w(tsq)
),
{visible_trees},
hits AS MATERIALIZED (
    -- Narrow rows: every hit is ranked and counted; only the page's are dressed below.
    SELECT 'skill' AS type, s.id, s.name, ts_rank(s.search_vector, q.rank_q) AS score
      FROM query q
      JOIN skills s ON s.search_vector @@ q.tsq
      JOIN visible_trees vt ON vt.id = s.skill_tree_id
     WHERE s.is_active AND NOT q.only_negations
       AND CAST(%(type)s AS text) IS DISTINCT FROM 'tree'
       AND (CAST(%(difficulty)s AS text) IS NULL
            OR s.difficulty = CAST(%(difficulty)s AS "DifficultyLevel"))
    UNION ALL
    SELECT 'tree', t.id, t.name, ts_rank(t.search_vector, q.rank_q)
      FROM query q
      JOIN skill_trees t ON t.search_vector @@ q.tsq
      JOIN visible_trees vt ON vt.id = t.id
     WHERE NOT q.only_negations AND CAST(%(type)s AS text) IS DISTINCT FROM 'skill'
       AND (CAST(%(difficulty)s AS text) IS NULL
            OR vt.difficulty = CAST(%(difficulty)s AS "DifficultyLevel"))
),
page AS (
    SELECT * FROM hits
     ORDER BY score DESC, length(name), name, id
     LIMIT %(limit)s OFFSET %(offset)s
)
SELECT totals.total, totals.best, q.only_negations,
       p.type, p.id, p.name, vt.slug, vt.name, CAST(coalesce(s.difficulty, t.difficulty) AS text),
       vt.category, vt.tags, p.score,
       ts_headline(q.config, doc.text, q.tsq, %(headline)s) AS snippet
  FROM (SELECT count(*) AS total, coalesce(max(score), 0) AS best FROM hits) totals
  CROSS JOIN query q
  LEFT JOIN page p ON true
  LEFT JOIN skills s ON p.type = 'skill' AND s.id = p.id
  LEFT JOIN skill_trees t ON p.type = 'tree' AND t.id = p.id
  LEFT JOIN visible_trees vt ON vt.id = coalesce(s.skill_tree_id, t.id)
  LEFT JOIN LATERAL (
      SELECT translate(coalesce(nullif(concat_ws(' · ', nullif(s.description, ''),
                                           nullif(array_to_string(s.learning_objectives, ' · '), ''),
                                           nullif(t.short_description, ''),
                                           nullif(t.description, '')), ''),
                                p.name), E'\x02\x03', '') AS text
  ) doc ON true
 ORDER BY p.score DESC, length(p.name), p.name, p.id
