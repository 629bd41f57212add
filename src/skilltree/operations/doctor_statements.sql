-- statements: the database's statements by total or mean execution time (pg_stat_statements,
-- summed since its last reset), `:order` being `total` or `mean`, the first `:top`; the text
-- with its whitespace collapsed and cut at 300 characters.
SELECT queryid::text AS queryid,
       calls,
       round(total_exec_time::numeric, 1)::float8 AS total_ms,
       round(mean_exec_time::numeric, 3)::float8 AS mean_ms,
       rows,
       left(regexp_replace(query, '\s+', ' ', 'g'), 300) AS query
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY CASE WHEN :order = 'mean' THEN mean_exec_time ELSE total_exec_time END DESC
LIMIT :top
