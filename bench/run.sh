#!/usr/bin/env bash
# Benchmark of `seqwatch check` on PostgreSQL against its floor: the bare SQL
# that answers the same question, run by psql.
#
# Usage: bench/run.sh [ROWS ...]          (default: 10000 100000 1000000)
#
# For each history size it creates a database with Sequencer's tables
# (bench/gen prints Laravel's DDL), fills it with bench/data.sql (ROWS
# operation rows over 10,000 operation files, ~3% failed with 4-8 KB traces,
# 5 still failing, 3 in progress, 20 pending), writes a Laravel application
# directory whose .env points at it, and measures, in the same run:
#   check  seqwatch check --app DIR
#   floor  psql -f bench/floor.sql: the queries seqwatch issues, as one script
#          (the failing and running names given, which seqwatch must first
#          find out); psql also opens its own connection.
# Wall time is hyperfine's median of RUNS runs after WARMUP warm-ups (a
# date +%s%N loop when hyperfine is missing); peak memory is the largest
# maximum RSS /usr/bin/time reports over 5 runs. At the largest size it also
# runs with 100 failing operations instead of 5.
#
# Environment:
#   SEQWATCH_TEST_POSTGRES_URL  use this server (a user that may CREATE
#                               DATABASE) instead of starting a throwaway one
#   RUNS (15), WARMUP (2)       timing runs
#   FAILING_MORE (100)          failing operations for the extra run; 0 skips it
#   KEEP=1                      keep the work directory (and the server's data)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-15}
WARMUP=${WARMUP:-2}
FAILING_MORE=${FAILING_MORE:-100}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)

die() { echo "bench: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
command -v psql >/dev/null || die "psql is missing: apt-get install -y postgresql-client"
command -v jq >/dev/null || die "jq is missing: apt-get install -y jq"

WORK=$(mktemp -d /tmp/seqwatch-bench-XXXXXX)
chmod 755 "$WORK"
PGBIN=
PGDATA_DIR=
cleanup() {
	if [ -n "$PGDATA_DIR" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
	fi
	[ "${KEEP:-}" = 1 ] && echo "bench: kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

# as_pg runs a server command as the postgres user when we are root (the
# server refuses to run as root), as ourselves otherwise.
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 20000))
		ss -ltn "( sport = :$p )" | grep -q ":$p" || { echo "$p"; return; }
	done
	die "no free port"
}

if [ -n "${SEQWATCH_TEST_POSTGRES_URL:-}" ]; then
	# postgres://user:pass@host:port/db?params
	re='^postgres(ql)?://([^:@/]+)(:([^@/]*))?@([^:/?]+)(:([0-9]+))?(/[^?]*)?'
	[[ $SEQWATCH_TEST_POSTGRES_URL =~ $re ]] || die "SEQWATCH_TEST_POSTGRES_URL is not postgres://user:pass@host:port/db"
	PGUSER_=${BASH_REMATCH[2]}
	PGPASS_=${BASH_REMATCH[4]}
	PGHOST_=${BASH_REMATCH[5]}
	PGPORT_=${BASH_REMATCH[7]:-5432}
	ADMIN_DB=${BASH_REMATCH[8]#/}
	ADMIN_DB=${ADMIN_DB:-postgres}
	SERVER="external server $PGHOST_:$PGPORT_"
else
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: apt-get install -y postgresql-15, or set SEQWATCH_TEST_POSTGRES_URL"
	PGUSER_=seqwatch
	PGPASS_=pw$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	PGHOST_=127.0.0.1
	PGPORT_=$(free_port)
	ADMIN_DB=postgres
	mkdir -p "$WORK/pg/sock"
	PGDATA_DIR=$WORK/pg/data
	echo "$PGPASS_" >"$WORK/pg/pwfile"
	[ "$(id -u)" = 0 ] && chown -R postgres "$WORK/pg"
	# As check/dbtest starts its servers (password authentication, no
	# durability), but with PostgreSQL's default shared_buffers (128MB).
	as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U "$PGUSER_" --pwfile="$WORK/pg/pwfile" \
		-A scram-sha-256 -E UTF8 --locale=C --no-sync >"$WORK/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -5 "$WORK/initdb.log")"
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/pg/server.log" -w -t 60 start \
		-o "-k $WORK/pg/sock -h 127.0.0.1 -p $PGPORT_ -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c log_min_messages=warning" \
		>/dev/null || die "PostgreSQL did not start: $(tail -5 "$WORK/pg/server.log")"
	SERVER="PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') started on 127.0.0.1:$PGPORT_ (shared_buffers 128MB)"
fi
export PGHOST=$PGHOST_ PGPORT=$PGPORT_ PGUSER=$PGUSER_ PGPASSWORD=$PGPASS_
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_DB" "$@"; }

echo "bench: building seqwatch" >&2
go build -o "$WORK/seqwatch" ./cmd/seqwatch
go run ./bench/gen >"$WORK/schema.sql"

# setup ROWS FAILING: database, data, application directory. Sets DB and APP.
setup() {
	local rows=$1 failing=$2
	DB=seqwatch_bench_${rows}_f${failing}_$$
	APP=$WORK/app_${rows}_f${failing}
	psql_admin -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$DB\"" -c "CREATE DATABASE \"$DB\""
	psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$WORK/schema.sql"
	mkdir -p "$APP/database/operations" "$APP/database/migrations"
	# data.sql, then VACUUM (as autovacuum would have done on a live table,
	# and so that it does not start during the measurements), then the
	# file names.
	local t0=$SECONDS
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" \
		-c "SET bench.rows = '$rows'" -c "SET bench.failing = '$failing'" \
		-f bench/data.sql -c "VACUUM" \
		-c "SELECT kind || 's/' || name || '.php' FROM bench_files ORDER BY kind, i" >"$WORK/files.txt"
	echo "bench: $DB filled in $((SECONDS - t0))s" >&2
	local php='<?php

declare(strict_types=1);

use Cline\Sequencer\Contracts\Operation;

return new class() implements Operation
{
    public function handle(): void
    {
        //
    }
};'
	(cd "$APP/database" && while read -r f; do printf '%s\n' "$php" >"$f"; done <"$WORK/files.txt")
	cat >"$APP/.env" <<EOF
APP_NAME=SeqwatchBench
APP_ENV=production
DB_CONNECTION=pgsql
DB_HOST=$PGHOST_
DB_PORT=$PGPORT_
DB_DATABASE=$DB
DB_USERNAME=$PGUSER_
DB_PASSWORD=$PGPASS_
EOF
	# The names the floor script needs: operations whose newest run did not
	# complete (seqwatch looks closer at those only); both spellings, as
	# seqwatch asks for them.
	local q="WITH s AS (
	  SELECT DISTINCT ON (regexp_replace(name, '\\.php\$', '')) regexp_replace(name, '\\.php\$', '') AS n, completed_at IS NOT NULL AS done
	  FROM operations ORDER BY regexp_replace(name, '\\.php\$', ''), executed_at DESC)
	SELECT coalesce(string_agg(quote_literal(n) || ', ' || quote_literal(n || '.php'), ', ' ORDER BY n) FILTER (WHERE NOT done), 'NULL'),
	       coalesce(string_agg(quote_literal(n) || ', ' || quote_literal(n || '.php'), ', ' ORDER BY n) FILTER (WHERE NOT done), 'NULL'),
	       (SELECT COUNT(*) FROM operations), (SELECT COUNT(*) FROM operations WHERE failed_at IS NOT NULL),
	       (SELECT COUNT(*) FROM operation_errors),
	       pg_size_pretty(pg_total_relation_size('operations')), pg_size_pretty(pg_total_relation_size('operation_errors'))
	FROM s"
	IFS='|' read -r FAILING_IN RUNNING_IN NROWS NFAILED NERRORS OPS_SIZE ERR_SIZE < <(psql -X -At -d "$DB" -c "$q")
	echo "bench: $DB: $NROWS rows, $NFAILED failed, $NERRORS error rows; operations $OPS_SIZE, operation_errors $ERR_SIZE" >&2
}

# median_ms CMD...: median wall time in ms (3 decimals) of RUNS runs.
median_ms() {
	if command -v hyperfine >/dev/null; then
		hyperfine -N -i --style none --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORK/h.json" "$(printf '%q ' "$@")" >/dev/null 2>&1
		jq -r '.results[0].median * 1000 | . * 1000 | round / 1000' "$WORK/h.json"
	else
		local i t0 t1 times=()
		for ((i = 0; i < WARMUP; i++)); do "$@" >/dev/null 2>&1 || true; done
		for ((i = 0; i < RUNS; i++)); do
			t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
			times+=($(((t1 - t0) / 1000)))
		done
		printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.3f\n", m / 1000}'
	fi
}

# peak_mb CMD...: the largest maximum RSS over 5 runs, in MB.
peak_mb() {
	local i max=0 kb
	for ((i = 0; i < 5; i++)); do
		/usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>&1 || true
		kb=$(tail -1 "$WORK/rss")
		[ "$kb" -gt "$max" ] && max=$kb
	done
	awk -v k="$max" 'BEGIN { printf "%.1f\n", k / 1024 }'
}

ROWS_OUT=()
measure() {
	local rows=$1 failing=$2
	setup "$rows" "$failing"
	local check=("$WORK/seqwatch" check --app "$APP")
	local floor=(psql -X -q -At -o /dev/null -v ON_ERROR_STOP=1 -v "failing=$FAILING_IN" -v "running=$RUNNING_IN" -d "$DB" -f "$ROOT/bench/floor.sql")
	local line rc=0
	line=$("${check[@]}") || rc=$?
	echo "bench: check (exit $rc): ${line:0:300}" >&2
	"${floor[@]}" || die "the floor script failed"
	local c f r m
	c=$(median_ms "${check[@]}")
	f=$(median_ms "${floor[@]}")
	r=$(awk -v c="$c" -v f="$f" 'BEGIN { printf "%.2f\n", c / f }')
	m=$(peak_mb "${check[@]}")
	printf -v line '| %s | %s | %s | %s | %s | %sx | %s |' "$NROWS" "$failing" "$NFAILED" "$c" "$f" "$r" "$m"
	ROWS_OUT+=("$line")
	echo "bench: $line" >&2
	CHECK_CMD="${check[*]}"
	FLOOR_CMD="psql -X -q -At -o /dev/null -v ON_ERROR_STOP=1 -v failing=\"'name', 'name.php', ...\" -v running=\"...\" -d $DB -f bench/floor.sql"
	[ "${KEEP:-}" = 1 ] || psql_admin -c "DROP DATABASE \"$DB\""
}

for n in "${SIZES[@]}"; do
	measure "$n" 5
done
if [ "$FAILING_MORE" -gt 0 ]; then
	measure "${SIZES[-1]}" "$FAILING_MORE"
fi

echo
echo "$SERVER; $(nproc) CPUs; $(go version | awk '{print $3}'); median of $RUNS runs after $WARMUP warm-ups ($(command -v hyperfine >/dev/null && hyperfine --version || echo 'date loop'))"
echo
echo "| rows | failing ops | failed rows | check median ms | psql floor median ms | ratio | check peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS_OUT[@]}"
echo
echo "check: $CHECK_CMD"
echo "floor: $FLOOR_CMD"
