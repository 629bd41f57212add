-- sizes: every table (with its TOAST data, not its indexes) and every index of the database's
-- own schemas, by name and kind, in bytes.
SELECT n.nspname || '.' || c.relname AS relation,
       CASE c.relkind WHEN 'i' THEN 'index' ELSE 'table' END AS kind,
       CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid)
            ELSE pg_table_size(c.oid) END AS bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'p', 'i')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY bytes DESC, relation
