#!/usr/bin/env bash
# Simulates a long run of the daemon in-process (one tick a simulated
# minute on the sample application, reminders every 6 hours) and prints the
# live heap and RSS at the start and the end, plus the cost of an unchanged
# tick. Usage: bench/soak.sh [TICKS]   (default 1440 = 24 hours)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
ticks=${1:-1440}
SEQWATCH_SOAK_TICKS=$ticks go test -count=1 -run 'TestSoakMemoryStaysFlat' -v ./cmd/seqwatch/ | grep -E 'after|PASS|FAIL'
go test -count=1 -run XXX -bench 'BenchmarkTickUnchanged' -benchmem ./cmd/seqwatch/ | grep -E 'Benchmark|cpu'
