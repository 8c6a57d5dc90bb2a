#!/bin/sh
# seqwatch package: before the files go (dpkg: prerm remove; rpm: %preun,
# $1 = 0 on removal, 1 on upgrade). On removal, stops and disables the
# units, so no enablement link is left pointing at a unit that is gone. On
# an upgrade, nothing: the daemon keeps running until restarted.
set -e

case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac

units="seqwatch.service seqwatch.timer seqwatch-once.service"
if command -v systemctl >/dev/null 2>&1; then
	if [ -d /run/systemd/system ]; then
		# shellcheck disable=SC2086
		systemctl stop $units >/dev/null 2>&1 || true
	fi
	# Works without a running systemd too (it only removes the links).
	# shellcheck disable=SC2086
	systemctl disable $units >/dev/null 2>&1 || true
fi
exit 0
