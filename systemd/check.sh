#!/usr/bin/env bash
# Checks the systemd units in this directory:
#   - systemd-analyze verify: syntax, unknown keys, bad values, references
#     between the units (any message fails the check);
#   - systemd-analyze security --offline=true: the overall exposure score of
#     each service must be at most MAX_EXPOSURE (default 2.0; lower is
#     better, 10 is "UNSAFE").
# systemd need not be running (PID 1 may be anything): both commands only
# read unit files. If systemd-analyze is missing it is installed with
# apt-get; when that is impossible the check is skipped with exit 0 outside
# CI, and fails in CI (CI set).
#
# Usage: systemd/check.sh            (from anywhere)
# Environment: MAX_EXPOSURE=2.0, SEQWATCH_BIN=/path/to/seqwatch (otherwise
# built with go into a temporary directory, or /bin/true stands in).
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
max="${MAX_EXPOSURE:-2.0}"
services=(seqwatch.service seqwatch-once.service)
units=("${services[@]}" seqwatch.timer)

skip_or_fail() {
	echo "systemd/check.sh: $*" >&2
	if [ -n "${CI:-}" ]; then
		echo "systemd/check.sh: FAIL (CI is set, so a missing systemd-analyze is an error)" >&2
		exit 1
	fi
	echo "systemd/check.sh: skipped" >&2
	exit 0
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		skip_or_fail "systemd-analyze not found and not root, cannot apt-get install systemd"
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		skip_or_fail "systemd-analyze not found and no apt-get to install systemd with"
	fi
	echo "systemd/check.sh: installing systemd for systemd-analyze" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Keep maintainer scripts from starting services; systemd is usually
	# not PID 1 here, and its postinst copes with that.
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		made_policy=1
	fi
	rc=0
	{ apt-get update && apt-get install -y --no-install-recommends systemd; } >&2 || rc=$?
	[ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
	if [ "$rc" -ne 0 ] || ! command -v systemd-analyze >/dev/null 2>&1; then
		skip_or_fail "apt-get install systemd failed (exit $rc) or brought no systemd-analyze"
	fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# verify insists that ExecStart= names an existing executable; point the
# copies at a real seqwatch (or, without go, at /bin/true).
bin="${SEQWATCH_BIN:-}"
if [ -z "$bin" ]; then
	if command -v go >/dev/null 2>&1 && (cd "$here/.." && go build -o "$tmp/bin/seqwatch" ./cmd/seqwatch) >&2; then
		bin="$tmp/bin/seqwatch"
	else
		echo "systemd/check.sh: go build failed or go is missing; /bin/true stands in for seqwatch" >&2
		bin="$(command -v true)"
	fi
fi
mkdir -p "$tmp/units"
for u in "${units[@]}"; do
	sed "s#/usr/bin/seqwatch#$bin#g" "$here/$u" >"$tmp/units/$u"
done

fail=0
echo "+ systemd-analyze verify ${units[*]}"
out="$(cd "$tmp/units" && systemd-analyze verify "${units[@]/#/./}" 2>&1)" || fail=1
if [ -n "$out" ]; then
	# Warnings (unknown keys, unparsable values) exit 0 but are still wrong.
	printf '%s\n' "$out" >&2
	fail=1
fi
[ "$fail" -eq 0 ] && echo "verify: OK"

for s in "${services[@]}"; do
	echo "+ systemd-analyze security --offline=true $s"
	report="$(cd "$here" && systemd-analyze security --offline=true "./$s" 2>&1)" || true
	# → Overall exposure level for seqwatch.service: 1.1 OK 🙂
	score="$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\(\.[0-9]*\)\{0,1\}\).*/\1/p' | tail -n 1)"
	if [ -z "$score" ]; then
		printf '%s\n' "$report" >&2
		echo "$s: FAIL: no overall exposure level in the report" >&2
		fail=1
		continue
	fi
	if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
		echo "$s: exposure $score (max $max) OK"
	else
		printf '%s\n' "$report" | grep '✗' >&2 || true
		echo "$s: FAIL: exposure $score is above $max" >&2
		fail=1
	fi
done

if [ "$fail" -ne 0 ]; then
	echo "systemd/check.sh: FAIL" >&2
	exit 1
fi
echo "systemd/check.sh: OK"
