-- sessions: the other client sessions on this database that are running a statement or idle
-- inside a transaction, with how long the statement has run and how long the session has been
-- in its state; the statement's text collapsed and cut at 200 characters.
SELECT pid,
       usename AS "user",
       nullif(application_name, '') AS application,
       state,
       extract(epoch FROM now() - query_start)::float8 AS query_seconds,
       extract(epoch FROM now() - state_change)::float8 AS state_seconds,
       extract(epoch FROM now() - xact_start)::float8 AS transaction_seconds,
       wait_event_type AS waiting_on,
       left(regexp_replace(coalesce(query, ''), '\s+', ' ', 'g'), 200) AS query
FROM pg_stat_activity
WHERE datname = current_database()
  AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
  AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
ORDER BY state_seconds DESC NULLS LAST
