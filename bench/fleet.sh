#!/usr/bin/env bash
# The fleet benchmark (bench/fleet_test.go): one seqwatch over many cloned
# applications (100 on PostgreSQL and 100 on MariaDB of 100k rows each,
# 1,000 on SQLite of 10k rows; both shapes; state in files and in
# PostgreSQL). Reports the first tick, an unchanged tick, check --config,
# peak RSS, the most connections and what an unchanged tick writes.
#
# Usage: bench/fleet.sh
#   SEQWATCH_FLEET_DBS=pgsql,mysql,sqlite  SEQWATCH_FLEET_SHAPES=one-run-per-name,many-runs-per-name
#   SEQWATCH_FLEET_STATES=file,postgres    SEQWATCH_FLEET_APPS=100 SEQWATCH_FLEET_ROWS=100000
#   SEQWATCH_FLEET_SQLITE_APPS=1000 SEQWATCH_FLEET_SQLITE_ROWS=10000 SEQWATCH_FLEET_RUNS=3
#
# Needs the database servers the tests use (see .ci/run) and about 10 GB
# of free disk. Writes bench/fleet-results.md.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export PATH="$PATH:/usr/sbin:/sbin"
SEQWATCH_FLEET=1 SEQWATCH_FLEET_OUT=$PWD/bench/fleet-results.md \
	go test ./bench -run TestFleet -count=1 -v -timeout 4h | grep -E '^\s+fleet_test.go|^(ok|FAIL|---)'
cat bench/fleet-results.md
