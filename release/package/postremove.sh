#!/bin/sh
# seqwatch package: after the files are gone (dpkg: postrm remove, purge,
# upgrade, ...; rpm: %postun, $1 = 0 on removal, 1 on upgrade).
#
# Removal keeps the configuration (/etc/seqwatch), the state
# (/var/lib/seqwatch) and the seqwatch user, so that installing the
# package again goes on where it stopped. dpkg --purge also removes those:
# the state directory, /etc/seqwatch (seqwatch.yaml, seqwatch.env,
# credentials) and the user and group. rpm has no purge; rpm -e keeps them.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi

if [ "$1" = purge ]; then
	rm -rf /var/lib/seqwatch /etc/seqwatch
	# A failure here is reported, not fatal: a purge that stopped halfway
	# would leave dpkg with a package it can neither keep nor remove.
	if getent passwd seqwatch >/dev/null; then
		userdel seqwatch || echo "seqwatch: could not remove the user seqwatch (userdel seqwatch)" >&2
	fi
	if getent group seqwatch >/dev/null; then
		groupdel seqwatch || echo "seqwatch: could not remove the group seqwatch (groupdel seqwatch)" >&2
	fi
fi
exit 0
