#!/bin/sh
# pgBackRest's point-in-time recovery, end to end, on a throwaway cluster: what
# docs/operations.md#pgbackrest shows, run as it is (tests/operations/test_pgbackrest.py runs it
# when pgBackRest is installed). Run it as the user that owns PostgreSQL's files (postgres):
#
#   sh docs/pgbackrest-round-trip.sh WORKDIR PORT [PGBIN]
#
# WORKDIR is created, and deleted first if it holds an earlier run; PGBIN defaults to Debian's
# PostgreSQL 15. It initdbs a cluster archiving through pgBackRest, creates the stanza, takes a
# full backup, writes learner progress, deletes one learner's, restores the cluster to the moment
# before the delete (--type=time) and checks every row is back. The last line says "restored".
set -eu

WORK=$1
PORT=$2
PGBIN=${3:-/usr/lib/postgresql/15/bin}
PGDATA=$WORK/pgdata
CONF=$WORK/pgbackrest.conf
STANZA=skilltree
export PGHOST=$WORK PGPORT=$PORT PGUSER=postgres PGDATABASE=skilltree

rm -rf "$WORK"
mkdir -p "$WORK/repo" "$WORK/log" "$WORK/lock" "$WORK/spool"

# The repository: where pgBackRest keeps backups and archived WAL (repo1-path: put it on
# another machine or object storage in production, e.g. repo1-type=s3). Two full backups kept;
# WAL older than the oldest kept is expired with it.
cat >"$CONF" <<EOF
[global]
repo1-path=$WORK/repo
repo1-retention-full=2
log-path=$WORK/log
lock-path=$WORK/lock
spool-path=$WORK/spool
start-fast=y
log-level-console=warn

[$STANZA]
pg1-path=$PGDATA
pg1-port=$PORT
pg1-socket-path=$WORK
EOF

"$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=utf8 >/dev/null
cat >>"$PGDATA/postgresql.auto.conf" <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$WORK'
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config=$CONF --stanza=$STANZA archive-push %p'
EOF
"$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/server.log" -w start >/dev/null

echo "== stanza-create, check"
pgbackrest --config="$CONF" --stanza=$STANZA stanza-create
pgbackrest --config="$CONF" --stanza=$STANZA check

"$PGBIN/psql" -q -d postgres -c "CREATE DATABASE skilltree"
"$PGBIN/psql" -q -v ON_ERROR_STOP=1 <<'EOF'
CREATE TABLE user_skill_progress (
  user_id text, skill_id text, status text, completed_at timestamptz,
  PRIMARY KEY (user_id, skill_id));
INSERT INTO user_skill_progress
SELECT 'learner-' || u, 'skill-' || s, 'COMPLETED', now() FROM generate_series(1, 100) u,
  generate_series(1, 50) s;
EOF

echo "== backup --type=full"
pgbackrest --config="$CONF" --stanza=$STANZA --type=full backup
pgbackrest --config="$CONF" --stanza=$STANZA info | sed -n '1,12p'
SET=$(pgbackrest --config="$CONF" --stanza=$STANZA info | sed -n 's/^ *full backup: //p' | tail -1)

# After the backup: more progress, then the moment, then the mistake.
"$PGBIN/psql" -q -c "UPDATE user_skill_progress SET status = 'REVIEWED' WHERE skill_id = 'skill-1'"
BEFORE=$("$PGBIN/psql" -Atc "SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY user_id, skill_id)) FROM user_skill_progress t")
TARGET=$("$PGBIN/psql" -Atc "SELECT clock_timestamp()")
"$PGBIN/psql" -q -c "DELETE FROM user_skill_progress WHERE user_id = 'learner-7'"
echo "== before the delete: $BEFORE (rows, md5); target $TARGET; deleted learner-7's 50 rows"
# The WAL up to now into the repository (archive_timeout does this on a busy server).
"$PGBIN/psql" -Atc "SELECT pg_walfile_name(pg_switch_wal())" >/dev/null
pgbackrest --config="$CONF" --stanza=$STANZA check

# --set names the backup to start from: pgBackRest picks the newest one that stopped before the
# target by itself, to the second, and here the target is within the backup's last second.
echo "== restore --set=$SET --type=time --target='$TARGET'"
"$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
pgbackrest --config="$CONF" --stanza=$STANZA --delta --set="$SET" --type=time "--target=$TARGET" \
  --target-action=promote restore
"$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/server.log" -w start >/dev/null
until [ "$("$PGBIN/psql" -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do sleep 0.1; done

AFTER=$("$PGBIN/psql" -Atc "SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY user_id, skill_id)) FROM user_skill_progress t")
echo "== after the restore: $AFTER (rows, md5); timeline $("$PGBIN/psql" -Atc 'SELECT timeline_id FROM pg_control_checkpoint()')"
"$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
if [ "$AFTER" = "$BEFORE" ]; then echo restored; else echo "NOT restored: $AFTER" >&2; exit 1; fi
