#!/usr/bin/env bash
# Tests the release as an operator meets it, on this Debian machine, as root:
#   - release/build.sh for linux/amd64 (TEST_PLATFORMS to add others): the
#     archive's contents, a static binary stamped with the version,
#     SHA256SUMS, and every relative link of the shipped README and docs/
#     resolving inside the archive (internal/docs' TestShippedDocsLinksResolve);
#   - the .rpm, listed and inspected with rpm -qp, and installed into a
#     scratch root (rpm --root): its binary reports the package's version;
#   - the .deb installed with dpkg -i: seqwatch version is the package's,
#     the seqwatch user, /var/lib/seqwatch, the file modes, the conffile,
#     nothing enabled or started, the units installed as systemd/ has them
#     (no build-time rewrite), each path and the user they name present,
#     systemd-analyze verify and security on them, the README's links in
#     /usr/share/doc/seqwatch, seqwatch demo and one daemon tick as the
#     service's user;
#   - an upgrade (dpkg -i --force-confold, as an unattended upgrade does) to
#     a second build whose packaged seqwatch.yaml changed: the operator's
#     edited copy is kept, the state file is untouched and still current;
#   - dpkg -r keeps configuration, state and user; dpkg -P leaves nothing.
#
# It refuses to run where a seqwatch package or user already exists (it
# would replace or delete them), and purges its own package on any exit.
# A missing tool fails the test when CI is set, and skips it otherwise.
#
# Usage: release/test.sh        (from anywhere; as root)
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
root="$(cd "$here/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/sbin:/sbin"

skip_or_fail() {
	echo "release/test.sh: $*" >&2
	if [ -n "${CI:-}" ]; then
		echo "release/test.sh: FAIL (CI is set: nothing may be skipped)" >&2
		exit 1
	fi
	echo "release/test.sh: skipped" >&2
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip_or_fail "needs root (it installs and purges the .deb)"
for tool in go git dpkg dpkg-deb dpkg-query rpm systemd-analyze runuser getent tar sha256sum readelf cmp diff; do
	command -v "$tool" >/dev/null 2>&1 || skip_or_fail "$tool not found (rpm, systemd and binutils are Debian packages)"
done
if dpkg-query -W -f='${Status}' seqwatch 2>/dev/null | grep -qv 'not-installed'; then
	echo "release/test.sh: a seqwatch package is installed here; the test would replace and purge it" >&2
	exit 1
fi
if getent passwd seqwatch >/dev/null || getent group seqwatch >/dev/null || [ -e /var/lib/seqwatch ] || [ -e /etc/seqwatch ]; then
	echo "release/test.sh: a seqwatch user, group, /var/lib/seqwatch or /etc/seqwatch exists here; the test would delete it" >&2
	exit 1
fi

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL - $*" >&2
}
# check DESCRIPTION COMMAND...: runs COMMAND, and counts it.
check() {
	local what="$1"
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
# must DESCRIPTION COMMAND...: as check, but stops the test on failure.
must() {
	local what="$1"
	shift
	if "$@"; then
		ok "$what"
	else
		bad "$what"
		finish
	fi
}
finish() {
	echo "release: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
# equals WHAT GOT WANT
equals() {
	if [ "$2" = "$3" ]; then return 0; fi
	printf '%s: got\n%s\nwant\n%s\n' "$1" "$2" "$3" >&2
	return 1
}
# contains TEXT WANT...
contains() {
	local text="$1"
	shift
	for w in "$@"; do
		if [[ "$text" != *"$w"* ]]; then
			printf 'lacks %q in:\n%s\n' "$w" "$text" >&2
			return 1
		fi
	done
}

# pkgversion VERSION: the packages' version of a seqwatch version, as
# release/build.sh makes it for a tag (v1.0.0-ci.1 -> 1.0.0~ci.1).
pkgversion() {
	local v="${1#v}"
	echo "${v/-/\~}"
}

tmp="$(mktemp -d)"
# The seqwatch user reads the demo application and the tick's
# configuration in here.
chmod 0755 "$tmp"
installed=0
cleanup() {
	if [ "$installed" -eq 1 ]; then
		dpkg -P seqwatch >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

v1=v1.0.0-ci.1
v2=v1.0.0-ci.2
platforms="linux/amd64 ${TEST_PLATFORMS:-}"

# The link check of internal/docs, built once, run on each shipped tree:
# links <dir> checks README.md and docs/*.md under dir.
echo "+ go test -c ./internal/docs"
(cd "$root" && go test -c -o "$tmp/docs.test" ./internal/docs) >"$tmp/docs-build.log" 2>&1 ||
	{ cat "$tmp/docs-build.log" >&2; echo "release/test.sh: cannot build internal/docs' tests" >&2; exit 1; }
links() {
	local out rc=0
	out="$(cd "$tmp" && SEQWATCH_SHIPPED_DOCS="$1" "$tmp/docs.test" -test.run '^TestShippedDocsLinksResolve$' -test.v -test.count=1 2>&1)" || rc=$?
	[ "$rc" -eq 0 ] && [[ "$out" == *"--- PASS: TestShippedDocsLinksResolve"* ]] && return 0
	printf '%s\n' "$out" >&2
	return 1
}
# The documentation as the repository has it, one path a line: what the
# archives carry in docs/ and the packages in /usr/share/doc/seqwatch/docs.
docfiles="$(cd "$root" && ls docs | sort)"

# --- the release build ---------------------------------------------------------
echo "+ release/build.sh $tmp/v1 $v1 (PLATFORMS=$platforms)"
rc=0
PLATFORMS="$platforms" "$here/build.sh" "$tmp/v1" "$v1" >"$tmp/build1.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || cat "$tmp/build1.log" >&2
must "build.sh builds $v1" test "$rc" -eq 0

cd "$tmp/v1"
deb=seqwatch_1.0.0~ci.1-1_amd64.deb
rpmf=seqwatch-1.0.0~ci.1-1.x86_64.rpm
arc=seqwatch_1.0.0-ci.1_linux_amd64
files="$(ls | sort | tr '\n' ' ')"
want=""
for p in $platforms; do want="$want seqwatch_1.0.0-ci.1_${p%/*}_${p#*/}.tar.gz"; done
for p in $platforms; do
	case "$p" in
	linux/amd64) want="$want $deb $rpmf" ;;
	linux/arm64) want="$want seqwatch_1.0.0~ci.1-1_arm64.deb seqwatch-1.0.0~ci.1-1.aarch64.rpm" ;;
	esac
done
want="$(echo "$want SHA256SUMS" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')"
check "OUTDIR holds the archives, the packages and SHA256SUMS" equals "OUTDIR" "$files" "$want"
check "SHA256SUMS verifies" sha256sum --quiet -c SHA256SUMS
check "SHA256SUMS lists every other file" equals "SHA256SUMS" "$(awk '{print $2}' SHA256SUMS | sort | tr '\n' ' ')" "$(ls | grep -vx SHA256SUMS | sort | tr '\n' ' ')"

listing="$(tar -tzvf "$arc.tar.gz" | awk '{print $1, $2, $6}')"
check "the archive holds the binary, README, LICENSE, the example, docs/ and the units" equals "archive listing" "$listing" \
	"drwxr-xr-x 0/0 $arc/
-rw-r--r-- 0/0 $arc/LICENSE
-rw-r--r-- 0/0 $arc/README.md
drwxr-xr-x 0/0 $arc/docs/
$(printf -- "-rw-r--r-- 0/0 $arc/docs/%s\n" $docfiles)
-rwxr-xr-x 0/0 $arc/seqwatch
-rw-r--r-- 0/0 $arc/seqwatch.yaml
drwxr-xr-x 0/0 $arc/systemd/
-rw-r--r-- 0/0 $arc/systemd/seqwatch-once.service
-rw-r--r-- 0/0 $arc/systemd/seqwatch.service
-rw-r--r-- 0/0 $arc/systemd/seqwatch.timer"
mkdir "$tmp/arc" && tar -xzf "$arc.tar.gz" -C "$tmp/arc"
check "the archive's docs/ is the repository's" diff -r "$root/docs" "$tmp/arc/$arc/docs"
same=1
for f in README.md LICENSE seqwatch.yaml systemd/seqwatch.service systemd/seqwatch-once.service systemd/seqwatch.timer; do
	cmp -s "$root/$f" "$tmp/arc/$arc/$f" || { echo "$f differs from the repository's" >&2; same=0; }
done
check "the archive's README, LICENSE, example and units are the repository's" test "$same" -eq 1
# Every archive (darwin's too, which has no systemd/): a reader who
# unpacked it follows the README's links without the source.
for a in seqwatch_1.0.0-ci.1_*.tar.gz; do
	d="$tmp/arc/${a%.tar.gz}"
	[ -d "$d" ] || { mkdir -p "$tmp/arc" && tar -xzf "$a" -C "$tmp/arc"; }
	check "$a: every relative link of README.md and docs/ resolves inside it" links "$d"
done
bin="$tmp/arc/$arc/seqwatch"
check "the binary is static (no program interpreter)" bash -c "! readelf -l '$bin' | grep -qi interp"
buildinfo="$(go version -m "$bin")"
check "the binary was built with CGO_ENABLED=0 and -trimpath" contains "$buildinfo" "CGO_ENABLED=0" "-trimpath=true"
commit="$(git -C "$root" rev-parse HEAD)"
check "seqwatch version says $v1 and the commit" contains "$("$bin" version)" "seqwatch $v1
  commit:                 $commit"
check "seqwatch version --json says $v1" contains "$("$bin" version --json)" "\"version\": \"$v1\"" "\"commit\": \"$commit\""

# --- the .rpm ------------------------------------------------------------------
check "rpm -qlp lists the package's files" equals "rpm -qlp" "$(rpm -qlp "$rpmf" 2>/dev/null)" \
	"/etc/seqwatch/seqwatch.yaml
/usr/bin/seqwatch
/usr/lib/systemd/system/seqwatch-once.service
/usr/lib/systemd/system/seqwatch.service
/usr/lib/systemd/system/seqwatch.timer
/usr/share/doc/seqwatch/README.md
/usr/share/doc/seqwatch/copyright
$(printf '/usr/share/doc/seqwatch/docs/%s\n' $docfiles)
/usr/share/doc/seqwatch/seqwatch.yaml"
check "rpm: seqwatch.yaml is %config(noreplace)" equals "rpm config files" \
	"$(rpm -qp --queryformat '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpmf" 2>/dev/null | grep ' c')" "/etc/seqwatch/seqwatch.yaml cn"
check "rpm: version 1.0.0~ci.1, MIT, for x86_64" equals "rpm header" \
	"$(rpm -qp --queryformat '%{NAME} %{VERSION} %{RELEASE} %{LICENSE} %{ARCH}' "$rpmf" 2>/dev/null)" "seqwatch 1.0.0~ci.1 1 MIT x86_64"
# The .deb's maintainer scripts are tested below by installing it; the
# .rpm must run the very same ones.
same=1
for t in POSTIN:postinstall PREUN:preremove POSTUN:postremove; do
	rpm -qp --queryformat "%{${t%%:*}}" "$rpmf" 2>/dev/null | cmp -s - "$here/package/${t#*:}.sh" ||
		{ echo "the .rpm's ${t%%:*} scriptlet is not release/package/${t#*:}.sh" >&2; same=0; }
done
check "rpm: %post, %preun and %postun are the .deb's scripts" test "$same" -eq 1
check "rpm: the binary is mode 0755" equals "rpm modes" \
	"$(rpm -qp --queryformat '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILENAMES}\n]' "$rpmf" 2>/dev/null | grep /usr/bin/seqwatch)" "-rwxr-xr-x root /usr/bin/seqwatch"
# The .rpm's files, unpacked into a scratch root by rpm itself (no
# scriptlets, no dependencies: only what the package carries).
rpmroot="$tmp/rpmroot"
rc=0
{ rpm --root "$rpmroot" --initdb && rpm --root "$rpmroot" -i --nodeps --noscripts --nosignature --ignorearch "$tmp/v1/$rpmf"; } >"$tmp/rpm.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || cat "$tmp/rpm.log" >&2
check "rpm -i --root unpacks the .rpm" test "$rc" -eq 0
check "rpm: its seqwatch version says $v1, the .rpm's version $(rpm -qp --queryformat '%{VERSION}' "$rpmf" 2>/dev/null)" equals "the .rpm's seqwatch version" \
	"$(pkgversion "$("$rpmroot/usr/bin/seqwatch" version 2>&1 | head -n 1 | sed 's/^seqwatch //')")" "$(rpm -qp --queryformat '%{VERSION}' "$rpmf" 2>/dev/null)"
check "rpm: its units are the repository's" diff -r -x '*.sh' "$root/systemd" "$rpmroot/usr/lib/systemd/system"
check "rpm: every relative link of /usr/share/doc/seqwatch resolves inside it" links "$rpmroot/usr/share/doc/seqwatch"

# --- dpkg -i ---------------------------------------------------------------------
check ".deb: seqwatch.yaml is its only conffile" equals "conffiles" "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" "/etc/seqwatch/seqwatch.yaml"
wants_before="$(find /etc/systemd -name 'seqwatch*' 2>/dev/null | sort)"
echo "+ dpkg -i $deb"
installed=1
rc=0
dpkg -i "$deb" </dev/null >"$tmp/install.log" 2>&1 || rc=$?
cat "$tmp/install.log"
must "dpkg -i installs it" test "$rc" -eq 0
check "postinst says how to start it" contains "$(cat "$tmp/install.log")" "nothing is started" "systemctl enable --now seqwatch"
check "nothing was enabled" equals "links under /etc/systemd" "$(find /etc/systemd -name 'seqwatch*' 2>/dev/null | sort)" "$wants_before"
check "seqwatch version (on PATH) says $v1" equals "seqwatch version" "$(seqwatch version | head -n 1)" "seqwatch $v1"
check "which is the installed package's version ($(dpkg-query -W -f='${Version}' seqwatch))" equals "dpkg version" \
	"$(dpkg-query -W -f='${Version}' seqwatch)" "$(pkgversion "$(seqwatch version | head -n 1 | sed 's/^seqwatch //')")-1"
check "it is /usr/bin/seqwatch" equals "command -v seqwatch" "$(command -v seqwatch)" "/usr/bin/seqwatch"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd seqwatch) || true
check "a seqwatch system user (uid below 1000), home /var/lib/seqwatch, no login shell" \
	bash -c "[ -n '$uid' ] && [ '$uid' -lt 1000 ] && [ '$home' = /var/lib/seqwatch ] && [ '$shell' = /usr/sbin/nologin ]"
check "its group is seqwatch" equals "group" "$(getent group "$gid" | cut -d: -f1)" "seqwatch"
check "/var/lib/seqwatch is seqwatch's, mode 0700" equals "state dir" "$(stat -c '%a %U:%G' /var/lib/seqwatch)" "700 seqwatch:seqwatch"
check "file modes and owners" equals "modes" "$(stat -c '%a %U:%G %n' /usr/bin/seqwatch /etc/seqwatch /etc/seqwatch/seqwatch.yaml \
	/usr/lib/systemd/system/seqwatch.service /usr/lib/systemd/system/seqwatch-once.service /usr/lib/systemd/system/seqwatch.timer \
	/usr/share/doc/seqwatch /usr/share/doc/seqwatch/README.md /usr/share/doc/seqwatch/docs)" \
	"755 root:root /usr/bin/seqwatch
755 root:root /etc/seqwatch
644 root:root /etc/seqwatch/seqwatch.yaml
644 root:root /usr/lib/systemd/system/seqwatch.service
644 root:root /usr/lib/systemd/system/seqwatch-once.service
644 root:root /usr/lib/systemd/system/seqwatch.timer
755 root:root /usr/share/doc/seqwatch
644 root:root /usr/share/doc/seqwatch/README.md
755 root:root /usr/share/doc/seqwatch/docs"
check "/usr/share/doc/seqwatch/docs is the repository's docs/" diff -r "$root/docs" /usr/share/doc/seqwatch/docs
check "every relative link of the installed README and docs/ resolves in /usr/share/doc/seqwatch" links /usr/share/doc/seqwatch
check "dpkg records /etc/seqwatch/seqwatch.yaml as a conffile" contains "$(dpkg-query -W -f='${Conffiles}' seqwatch)" "/etc/seqwatch/seqwatch.yaml"
check "the conffile is the commented example" cmp -s /etc/seqwatch/seqwatch.yaml "$root/seqwatch.yaml"
check "the config passes seqwatch validate, but for the secrets left to fill in" bash -c \
	"out=\$(seqwatch validate --config /etc/seqwatch/seqwatch.yaml 2>&1); [[ \$out == *SLACK_WEBHOOK_URL* ]] && [[ \$out != *panic* ]]"

units=(seqwatch.service seqwatch-once.service seqwatch.timer)
rc=0
out="$(cd / && systemd-analyze verify "${units[@]/#//usr/lib/systemd/system/}" 2>&1)" || rc=$?
# Warnings (unknown keys, a missing ExecStart= binary) exit 0 but are wrong.
[ -z "$out" ] || { printf '%s\n' "$out" >&2; rc=1; }
check "systemd-analyze verify of the installed units (drop-ins included) says nothing" test "$rc" -eq 0
same=1
for u in "${units[@]}"; do
	cmp -s "$root/systemd/$u" "/usr/lib/systemd/system/$u" || { echo "/usr/lib/systemd/system/$u differs from systemd/$u" >&2; same=0; }
done
check "the installed units are systemd/'s as they are, with no drop-in" bash -c \
	"[ '$same' -eq 1 ] && ! ls -d /usr/lib/systemd/system/seqwatch*.d >/dev/null 2>&1"
pkgfiles="$(dpkg -L seqwatch)"
for s in seqwatch.service seqwatch-once.service; do
	# The unit as systemd reads it (drop-ins included: none from the
	# package), the last assignment of each key winning.
	effective="$(cd / && systemd-analyze cat-config "systemd/system/$s" 2>/dev/null |
		awk -F= '/^(ExecStart|DynamicUser|User|Group|StateDirectory)=/ { v[$1] = $0 } END { print v["ExecStart"]; print v["DynamicUser"]; print v["User"]; print v["Group"]; print v["StateDirectory"] }')"
	check "$s runs /usr/bin/seqwatch on /etc/seqwatch/seqwatch.yaml as seqwatch, state in /var/lib/seqwatch" contains "$effective" \
		"ExecStart=/usr/bin/seqwatch run " "--config /etc/seqwatch/seqwatch.yaml" "

User=seqwatch
Group=seqwatch
StateDirectory=seqwatch"
	# What systemd needs at start, from the unit itself: the program and
	# the configuration file belong to the package, the user and group
	# exist, the state directory is the user's, and the user can read the
	# configuration and run the program.
	exec_start="$(sed -n 's/^ExecStart=//p' "/usr/lib/systemd/system/$s")"
	prog="${exec_start%% *}"
	conf="$(sed -n 's/.*--config \([^ ]*\).*/\1/p' <<<"$exec_start")"
	user="$(sed -n 's/^User=//p' "/usr/lib/systemd/system/$s")"
	group="$(sed -n 's/^Group=//p' "/usr/lib/systemd/system/$s")"
	state="/var/lib/$(sed -n 's/^StateDirectory=//p' "/usr/lib/systemd/system/$s")"
	check "$s: $prog and $conf are the package's, user $user and group $group exist, $state is theirs" bash -c \
		"grep -qx '$prog' <<<'$pkgfiles' && grep -qx '$conf' <<<'$pkgfiles' && getent passwd '$user' >/dev/null && getent group '$group' >/dev/null &&
		[ \"\$(stat -c %U:%G '$state')\" = '$user:$group' ]"
	check "$s: $user can read $conf and run $prog" runuser -u "$user" -- bash -c "[ -r '$conf' ] && '$prog' version >/dev/null"
	report="$(cd / && systemd-analyze security --offline=true "$s" 2>&1 || true)"
	score="$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -n 1)"
	check "$s as installed scores ${score:-?} (at most 2.0)" awk -v s="${score:-99}" 'BEGIN { exit !(s + 0 <= 2.0) }'
done

# The installed binary, as the service's user: the demo, then one tick of
# the daemon with its state where the unit keeps it.
demo="$(cd /tmp && runuser -u seqwatch -- /usr/bin/seqwatch demo 2>&1)" && demo_rc=0 || demo_rc=$?
check "seqwatch demo runs as the seqwatch user (exit $demo_rc)" contains "$demo" "=== one tick of seqwatch run" "=== Next: point seqwatch at your application ==="
check "seqwatch demo exited 0" test "$demo_rc" -eq 0
app="$tmp/app"
mkdir -p "$app" && chown seqwatch: "$app"
runuser -u seqwatch -- /usr/bin/seqwatch demo --keep "$app/shop" >/dev/null 2>&1 || true
cat >"$tmp/tick.yaml" <<EOF
app: $app/shop
name: shop
state:
  path: /var/lib/seqwatch/state.json
channels:
  - name: console
    console: {}
EOF
chmod 0644 "$tmp/tick.yaml"
tick_rc=0
runuser -u seqwatch -- /usr/bin/seqwatch run --once --config "$tmp/tick.yaml" >"$tmp/tick.log" 2>&1 || tick_rc=$?
check "one tick of the installed daemon as seqwatch (exit $tick_rc)" test "$tick_rc" -eq 0
check "its state file is seqwatch's, mode 0600" equals "state file" "$(stat -c '%a %U' /var/lib/seqwatch/state.json 2>&1)" "600 seqwatch"
cp /var/lib/seqwatch/state.json "$tmp/state.before"

# The operator edits the configuration and enables the daemon (systemctl
# enable only makes links, with or without a running systemd).
echo "# the operator's own line" >>/etc/seqwatch/seqwatch.yaml
cp /etc/seqwatch/seqwatch.yaml "$tmp/operator.yaml"
systemctl enable seqwatch.service >/dev/null 2>&1 || true
link=/etc/systemd/system/multi-user.target.wants/seqwatch.service
check "systemctl enable seqwatch works on the installed unit" test -L "$link"

# --- the upgrade -------------------------------------------------------------------
# A second build, from a copy of the source whose example changed: the
# package's conffile differs from the one installed, as in a real release.
mkdir "$tmp/src"
tar -C "$root" --exclude=./.git -cf - . | tar -C "$tmp/src" -xf -
echo "# changed in $v2" >>"$tmp/src/seqwatch.yaml"
echo "+ release/build.sh $tmp/v2 $v2 (from a copy of the source with a changed seqwatch.yaml)"
rc=0
PLATFORMS=linux/amd64 SOURCE_DATE_EPOCH="$(git -C "$root" log -1 --format=%ct)" \
	"$tmp/src/release/build.sh" "$tmp/v2" "$v2" >"$tmp/build2.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || cat "$tmp/build2.log" >&2
must "build.sh builds $v2 outside a git checkout" test "$rc" -eq 0
deb2="$tmp/v2/seqwatch_1.0.0~ci.2-1_amd64.deb"
echo "+ dpkg -i --force-confold $deb2"
rc=0
dpkg -i --force-confold "$deb2" </dev/null >"$tmp/upgrade.log" 2>&1 || rc=$?
cat "$tmp/upgrade.log"
must "dpkg -i --force-confold upgrades it" test "$rc" -eq 0
check "postinst says the running daemon needs a restart" contains "$(cat "$tmp/upgrade.log")" "seqwatch upgraded" "seqwatch state check" "systemctl restart seqwatch"
check "seqwatch version says $v2" equals "seqwatch version" "$(seqwatch version | head -n 1)" "seqwatch $v2"
check "which is the upgraded package's version ($(dpkg-query -W -f='${Version}' seqwatch))" equals "dpkg version" \
	"$(dpkg-query -W -f='${Version}' seqwatch)" "$(pkgversion "$(seqwatch version | head -n 1 | sed 's/^seqwatch //')")-1"
check "dpkg kept the operator's seqwatch.yaml" cmp -s /etc/seqwatch/seqwatch.yaml "$tmp/operator.yaml"
check "and put the package's new one beside it (.dpkg-dist)" contains "$(cat /etc/seqwatch/seqwatch.yaml.dpkg-dist 2>&1)" "# changed in $v2"
check "the upgrade kept the user" equals "uid" "$(id -u seqwatch)" "$uid"
check "the upgrade kept the state file" cmp -s /var/lib/seqwatch/state.json "$tmp/state.before"
check "seqwatch state check: the state is current" contains "$(seqwatch state check --config "$tmp/tick.yaml" 2>&1)" \
	"shop: state file /var/lib/seqwatch/state.json: version 1, current: nothing to change"
check "the upgrade left the operator's enablement as it was" equals "links under /etc/systemd" \
	"$(find /etc/systemd -name 'seqwatch*' 2>/dev/null | sort)" "$(printf '%s\n%s\n' "$wants_before" "$link" | grep . | sort)"

# --- removal and purge -------------------------------------------------------------
must "dpkg -r removes it" bash -c "dpkg -r seqwatch </dev/null >/dev/null 2>&1"
check "removal took the binary and the units" bash -c "[ ! -e /usr/bin/seqwatch ] && ! ls /usr/lib/systemd/system/seqwatch* >/dev/null 2>&1"
check "removal disabled the units (no link left to a unit that is gone)" bash -c "[ ! -e '$link' ] && [ ! -L '$link' ]"
check "removal kept the configuration, the state and the user" bash -c \
	"[ -f /etc/seqwatch/seqwatch.yaml ] && [ -f /var/lib/seqwatch/state.json ] && getent passwd seqwatch >/dev/null"
must "dpkg -P purges it" bash -c "dpkg -P seqwatch </dev/null >/dev/null 2>&1"
installed=0
check "purge removed the user and the group" bash -c "! getent passwd seqwatch >/dev/null && ! getent group seqwatch >/dev/null"
left=""
for p in /etc/seqwatch /var/lib/seqwatch /usr/bin/seqwatch /usr/share/doc/seqwatch /usr/lib/systemd/system/seqwatch.service \
	/usr/lib/systemd/system/seqwatch-once.service /usr/lib/systemd/system/seqwatch.timer; do
	[ -e "$p" ] && left="$left $p"
done
left="$left$(find /etc/systemd /var/lib/systemd -name 'seqwatch*' 2>/dev/null | tr '\n' ' ')"
check "purge left nothing behind" equals "left behind" "${left# }" ""
check "dpkg knows no seqwatch any more" bash -c "! dpkg-query -W seqwatch >/dev/null 2>&1"

finish
