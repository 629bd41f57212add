-- bloat: an estimate, for each table the planner has statistics for, of the space it takes
-- beyond what its live rows need: the pages its rows would fill (their average width from
-- pg_stats, plus the 24-byte row header and 4-byte line pointer, at the table's fillfactor)
-- against the pages it has. Tables that were never analyzed have no estimate. Largest waste
-- first; the first `:top`.
WITH tables AS (
    SELECT c.oid, n.nspname, c.relname, c.relpages, greatest(c.reltuples, 0) AS reltuples,
           coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(c.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
           (SELECT sum((1 - s.null_frac) * s.avg_width) FROM pg_stats s
            WHERE s.schemaname = n.nspname AND s.tablename = c.relname) AS width
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
), estimated AS (
    SELECT nspname || '.' || relname AS "table",
           relpages::bigint * current_setting('block_size')::bigint AS bytes,
           ceil(reltuples * (28 + width)
                / ((current_setting('block_size')::int - 24) * fillfactor / 100.0))::bigint
               * current_setting('block_size')::bigint AS needed
    FROM tables
    WHERE width IS NOT NULL
)
SELECT "table", bytes, greatest(bytes - needed, 0) AS wasted,
       CASE WHEN bytes > 0 THEN round(greatest(bytes - needed, 0)::numeric / bytes, 3)::float8
            ELSE 0 END AS ratio
FROM estimated
ORDER BY wasted DESC, "table"
LIMIT :top
