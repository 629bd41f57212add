-- unused indexes: those no scan has used since the statistics were last reset, largest first;
-- indexes that enforce something (primary keys, unique and exclusion constraints, unique
-- indexes) are left out, as dropping them changes what the database accepts.
SELECT s.schemaname || '.' || s.indexrelname AS index,
       s.schemaname || '.' || s.relname AS "table",
       pg_relation_size(s.indexrelid) AS bytes
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0
  AND NOT i.indisunique
  AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
ORDER BY bytes DESC, index
