-- Type-ahead: active skills and trees the viewer may see with a word of their name (words are
-- separated by white space) starting with the typed text, case-insensitive, every character of
-- it literal (%(start)s: the text with LIKE's wildcards escaped, then '%%'); names starting with
-- it first, then shorter names.
--
-- Names starting with it come from a range of the lower-cased names' B-trees (idx_*_name_prefix in
-- db/schema/catalog.sql; the skills' carries what is needed, so no skill row is visited). Only when
-- fewer than %(limit)s do, the names with a later word starting with it are looked for (the trigram
-- indexes), since the others would rank below every name that starts with it.
WITH {visible_trees},
starting AS (
    SELECT s.name AS text, 'skill' AS type, s.id, vt.slug AS tree_slug
      FROM skills s
      JOIN visible_trees vt ON vt.id = s.skill_tree_id
     WHERE s.is_active AND lower(s.name) LIKE lower(%(start)s)
    UNION ALL
    SELECT t.name, 'tree', t.id, t.slug
      FROM skill_trees t
      JOIN visible_trees vt ON vt.id = t.id
     WHERE lower(t.name) LIKE lower(%(start)s)
),
first AS (
    SELECT * FROM starting ORDER BY length(text), text, type DESC, id LIMIT %(limit)s
),
later_word AS (
    SELECT s.name AS text, 'skill' AS type, s.id, vt.slug AS tree_slug
      FROM skills s
      JOIN visible_trees vt ON vt.id = s.skill_tree_id
     WHERE (SELECT count(*) FROM first) < %(limit)s
       AND s.is_active AND s.name ILIKE '%% ' || %(start)s
       AND lower(s.name) NOT LIKE lower(%(start)s)
    UNION ALL
    SELECT t.name, 'tree', t.id, t.slug
      FROM skill_trees t
      JOIN visible_trees vt ON vt.id = t.id
     WHERE (SELECT count(*) FROM first) < %(limit)s
       AND t.name ILIKE '%% ' || %(start)s AND lower(t.name) NOT LIKE lower(%(start)s)
)
SELECT text, type, id, tree_slug
  FROM (SELECT *, 0 AS later FROM first
        UNION ALL
        (SELECT *, 1 FROM later_word ORDER BY length(text), text, type DESC, id
          LIMIT %(limit)s)) found
 ORDER BY later, length(text), text, type DESC, id
 LIMIT %(limit)s
