-- Type-ahead: active skills and trees the viewer may see with a word of their name (words are
-- separated by white space) starting with the typed text, case-insensitive, every character of
-- it literal (LIKE's wildcards escaped); names starting with it first, then shorter names. Both
-- patterns give the trigram indexes on the names word-start trigrams, selective from two
-- characters on.
WITH pattern AS (
    SELECT replace(replace(replace(CAST(%(q)s AS text), '\', '\\'), '%%', '\%%'), '_', '\_')
           || '%%' AS start
),
{visible_trees},
hits AS (
    SELECT s.name AS text, 'skill' AS type, s.id, vt.slug AS tree_slug
      FROM skills s
      JOIN visible_trees vt ON vt.id = s.skill_tree_id
     WHERE s.is_active
       AND (s.name ILIKE (SELECT start FROM pattern)
            OR s.name ILIKE '%% ' || (SELECT start FROM pattern))
    UNION ALL
    SELECT t.name, 'tree', t.id, t.slug
      FROM skill_trees t
      JOIN visible_trees vt ON vt.id = t.id
     WHERE t.name ILIKE (SELECT start FROM pattern)
        OR t.name ILIKE '%% ' || (SELECT start FROM pattern)
)
SELECT text, type, id, tree_slug
  FROM hits
 ORDER BY text ILIKE (SELECT start FROM pattern) DESC, length(text), text, type DESC, id
 LIMIT %(limit)s
