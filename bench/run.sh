#!/usr/bin/env bash
# The read-cost benchmark (bench/bench_test.go): generates both shapes of
# history (one run per name, many runs per name) at each size on
# PostgreSQL, MariaDB and SQLite, and times seqwatch against the bare-SQL
# floor and sequencer:status's query pattern in PHP, in the same run.
#
# Usage: bench/run.sh [SIZES]     (default 100000,1000000)
#   SEQWATCH_BENCH_DBS=pgsql,mysql,sqlite  SEQWATCH_BENCH_RUNS=10
#
# Needs hyperfine, time, psql, mariadb-client, sqlite3, php-cli with
# php-pgsql, php-mysql and php-sqlite3 (apt-get install them), and the
# database servers the tests use (see .ci/run). Writes bench/results.md.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="$PATH:/usr/sbin:/sbin"
SEQWATCH_BENCH=${1:-100000,1000000} SEQWATCH_BENCH_OUT=$PWD/bench/results.md \
	go test ./bench -run TestBenchmark -count=1 -v -timeout 4h | grep -E '^\s+bench_test.go|^(ok|FAIL|---)'
cat bench/results.md
