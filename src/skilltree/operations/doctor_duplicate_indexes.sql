-- duplicate indexes: indexes of one table that are the same index (same access method, columns
-- or expressions, operator classes, collations and predicate), whatever their names; keeping
-- one of each set is enough. `bytes` is what the others take.
SELECT n.nspname || '.' || t.relname AS "table",
       array_agg(n.nspname || '.' || c.relname ORDER BY i.indisprimary DESC, i.indisunique DESC,
                 c.relname) AS indexes,
       (sum(pg_relation_size(c.oid)) - min(pg_relation_size(c.oid)))::bigint AS bytes
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
GROUP BY n.nspname, t.relname, c.relam, i.indkey::text, i.indclass::text,
         i.indcollation::text, coalesce(pg_get_expr(i.indexprs, i.indrelid), ''),
         coalesce(pg_get_expr(i.indpred, i.indrelid), '')
HAVING count(*) > 1
ORDER BY "table", indexes
