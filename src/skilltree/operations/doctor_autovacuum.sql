-- autovacuum: each table's dead rows against the count at which autovacuum sets out to vacuum
-- it (autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor x its rows; the server's
-- settings, tables' own ones left out), when it was last vacuumed and analyzed, and the age of
-- its oldest unfrozen transaction id; most overdue first.
SELECT s.schemaname || '.' || s.relname AS "table",
       s.n_live_tup AS live_rows,
       s.n_dead_tup AS dead_rows,
       (current_setting('autovacuum_vacuum_threshold')::float8
        + current_setting('autovacuum_vacuum_scale_factor')::float8
          * greatest(c.reltuples, 0))::bigint AS vacuum_at,
       greatest(s.last_autovacuum, s.last_vacuum) AS last_vacuum,
       greatest(s.last_autoanalyze, s.last_analyze) AS last_analyze,
       age(c.relfrozenxid)::bigint AS xid_age
FROM pg_stat_user_tables s
JOIN pg_class c ON c.oid = s.relid
ORDER BY s.n_dead_tup::float8 / nullif(current_setting('autovacuum_vacuum_threshold')::float8
         + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0), 0)
         DESC NULLS LAST, "table"
