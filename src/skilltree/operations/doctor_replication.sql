-- replication: on a primary, each streaming replica with its state and how far behind its
-- replay is (seconds and bytes of WAL); on a replica, how long ago it replayed the last
-- transaction it received (`role` says which).
SELECT 'primary' AS role,
       coalesce(nullif(application_name, ''), client_addr::text, pid::text) AS replica,
       state,
       extract(epoch FROM replay_lag)::float8 AS lag_seconds,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS lag_bytes
FROM pg_stat_replication
WHERE NOT pg_is_in_recovery()
UNION ALL
SELECT 'replica', 'this server', 'replaying',
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8, NULL
WHERE pg_is_in_recovery()
ORDER BY replica
