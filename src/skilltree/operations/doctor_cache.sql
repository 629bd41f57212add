-- cache: the share of this database's block reads since its statistics were last reset that
-- PostgreSQL's shared buffers served (blocks found / blocks wanted), with the counts.
SELECT blks_hit AS hits,
       blks_read AS reads,
       CASE WHEN blks_hit + blks_read > 0
            THEN round(blks_hit::numeric / (blks_hit + blks_read), 4)::float8 END AS ratio,
       stats_reset
FROM pg_stat_database
WHERE datname = current_database()
