#!/bin/sh
# seqwatch package: after the files are in place (dpkg: postinst configure;
# rpm: %post, $1 = 1 on install, 2 on upgrade).
#
# Creates the seqwatch system user and /var/lib/seqwatch, owned by it.
# Never starts, restarts or enables a unit: the configuration has to be
# written first, and an upgrade is restarted when the operator says so.
set -e

case "$1" in
configure | 1 | 2) ;;
*) exit 0 ;;
esac

if ! getent group seqwatch >/dev/null; then
	groupadd --system seqwatch
fi
if ! getent passwd seqwatch >/dev/null; then
	useradd --system --gid seqwatch --home-dir /var/lib/seqwatch --no-create-home \
		--shell /usr/sbin/nologin --comment "seqwatch alerting daemon" seqwatch
fi
# The state (state.json, its locks): the service's only writable path.
# systemd also makes it (StateDirectory=seqwatch); made here, seqwatch
# run --once and seqwatch outbox work before the service ever started.
if [ ! -d /var/lib/seqwatch ]; then
	install -d -m 0700 -o seqwatch -g seqwatch /var/lib/seqwatch
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi

# dpkg passes the version configured before ("" on a first install); rpm
# passes 2 on an upgrade.
upgrade=no
if [ "$1" = 2 ] || { [ "$1" = configure ] && [ -n "$2" ]; }; then
	upgrade=yes
fi
if [ "$upgrade" = yes ]; then
	cat <<'MSG'
seqwatch upgraded. A running daemon keeps the old version until it is restarted:
  seqwatch state check --config /etc/seqwatch/seqwatch.yaml   # what the new version changes in the state
  systemctl restart seqwatch          # or: systemctl restart seqwatch.timer
MSG
else
	cat <<'MSG'
seqwatch installed; nothing is started. Next:
  edit /etc/seqwatch/seqwatch.yaml (secrets: /etc/seqwatch/seqwatch.env, mode 0600)
  seqwatch validate --config /etc/seqwatch/seqwatch.yaml
  systemctl enable --now seqwatch     # the daemon; or: systemctl enable --now seqwatch.timer
MSG
fi
exit 0
