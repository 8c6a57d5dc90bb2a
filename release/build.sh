#!/usr/bin/env bash
# Builds a seqwatch release into OUTDIR:
#   - static binaries (CGO_ENABLED=0, -trimpath) with the version, commit
#     and date stamped in (seqwatch version prints them), one .tar.gz per
#     platform: seqwatch_VERSION_OS_ARCH.tar.gz holding the binary,
#     README.md, LICENSE, seqwatch.yaml (the commented example), docs/
#     (what the README links to) and, for Linux, the systemd units;
#   - for each Linux platform a .deb and an .rpm (nfpm, release/nfpm.yaml):
#     /usr/bin/seqwatch, the units of systemd/ as they are in
#     /usr/lib/systemd/system (they name /usr/bin/seqwatch and the seqwatch
#     user), the example as the conffile /etc/seqwatch/seqwatch.yaml, the
#     README, docs/, the example and the license in /usr/share/doc/seqwatch,
#     and maintainer scripts that create the user and /var/lib/seqwatch and
#     never start anything;
#   - SHA256SUMS of all of them (sha256sum -c SHA256SUMS checks them).
#
# Usage: release/build.sh OUTDIR [VERSION]
#   OUTDIR   a new or empty directory
#   VERSION  vMAJOR.MINOR.PATCH[-PRERELEASE], usually the tag being released;
#            default: git describe (v1.2.3, v1.2.3-4-gabc1234 after it,
#            -dirty with uncommitted changes; v0.0.0-N-gHASH before any tag)
# Environment:
#   PLATFORMS         default "linux/amd64 linux/arm64 darwin/arm64 darwin/amd64"
#   SOURCE_DATE_EPOCH the build date stamped in and given to every file of
#                     the archives and packages (default: the commit's
#                     time, so the same commit builds the same bytes)
#
# nfpm is a Go tool pinned in release/go.mod (built from the Go module
# proxy), which keeps it out of the main module's dependencies.
# Runs on Linux (GNU tar, date and sha256sum).
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
root="$(cd "$here/.." && pwd)"

fail() {
	echo "release/build.sh: $*" >&2
	exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || fail "usage: release/build.sh OUTDIR [VERSION]"
out="$1"
version="${2:-}"
platforms="${PLATFORMS:-linux/amd64 linux/arm64 darwin/arm64 darwin/amd64}"

for tool in go tar gzip sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool not found"
done

mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -n "$(ls -A "$out")" ]; then
	fail "$out is not empty: give a new directory (SHA256SUMS must list only this build)"
fi

cd "$root"
# Outside a git checkout (a source archive) VERSION and SOURCE_DATE_EPOCH
# must be given, and the commit is left unknown.
if ! commit="$(git rev-parse HEAD 2>/dev/null)"; then
	commit=""
	[ -n "$version" ] && [ -n "${SOURCE_DATE_EPOCH:-}" ] ||
		fail "$root is not a git checkout: give VERSION and set SOURCE_DATE_EPOCH"
fi
if [ -z "$version" ]; then
	version="$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null)" ||
		version="v0.0.0-$(git rev-list --count HEAD)-g$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD -- || echo -dirty)"
fi
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] ||
	fail "version $version is not vMAJOR.MINOR.PATCH[-PRERELEASE] (such as v1.2.3 or v1.3.0-rc.1)"
epoch="${SOURCE_DATE_EPOCH:-}"
[ -n "$epoch" ] || epoch="$(git log -1 --format=%ct HEAD)"
[[ "$epoch" =~ ^[0-9]+$ ]] || fail "SOURCE_DATE_EPOCH=$epoch is not a number of seconds"
date="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"

# The packages' version: dpkg and rpm order 1.2.3~rc.1 before 1.2.3 and
# 1.2.3+4.gabc1234 after it; a hyphen would mean a package revision.
pkgver="${version#v}"
if [[ "$pkgver" =~ ^(.*)-([0-9]+)-g([0-9a-f]+)(-dirty)?$ ]]; then
	pkgver="${BASH_REMATCH[1]}+${BASH_REMATCH[2]}.g${BASH_REMATCH[3]}${BASH_REMATCH[4]:+.dirty}"
elif [[ "$pkgver" == *-dirty ]]; then
	pkgver="${pkgver%-dirty}+dirty"
fi
pkgver="${pkgver/-/\~}"
pkgver="${pkgver//-/.}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "release/build.sh: seqwatch $version (packages $pkgver), commit ${commit:-unknown}, date $date"
nfpm="$tmp/nfpm"
case " $platforms " in
*" linux/"*)
	echo "+ go build nfpm (the version release/go.mod pins)"
	(cd "$here" && go build -o "$nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm)
	;;
esac
ldflags="-s -w -X main.version=$version -X main.commit=$commit -X main.date=$date"

# tarball DIR NAME: OUTDIR/NAME.tar.gz of DIR/NAME, the same bytes for the
# same files (sorted, owned by root, dated SOURCE_DATE_EPOCH, gzip without
# a time stamp).
tarball() {
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
		--mode='u+rwX,go+rX,go-w' -C "$1" -cf - "$2" | gzip -n -9 >"$out/$2.tar.gz"
}

for platform in $platforms; do
	os="${platform%/*}"
	arch="${platform#*/}"
	case "$platform" in
	linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64) ;;
	*) fail "unknown platform $platform (linux/amd64, linux/arm64, darwin/amd64, darwin/arm64)" ;;
	esac
	echo "+ go build $os/$arch"
	bin="$tmp/bin/${os}_$arch/seqwatch"
	CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -buildvcs=false \
		-ldflags "$ldflags" -o "$bin" ./cmd/seqwatch

	name="seqwatch_${version#v}_${os}_$arch"
	dir="$tmp/archive/$name"
	mkdir -p "$dir"
	install -m 0755 "$bin" "$dir/seqwatch"
	install -m 0644 README.md LICENSE seqwatch.yaml "$dir/"
	# docs/ as it is: the README's links point into it (release/test.sh
	# checks that each resolves in the archive and in the package).
	install -d -m 0755 "$dir/docs"
	install -m 0644 docs/* "$dir/docs/"
	if [ "$os" = linux ]; then
		mkdir -p "$dir/systemd"
		install -m 0644 systemd/seqwatch.service systemd/seqwatch-once.service systemd/seqwatch.timer "$dir/systemd/"
	fi
	tarball "$tmp/archive" "$name"

	[ "$os" = linux ] || continue
	stage="$tmp/stage/$arch"
	mkdir -p "$stage/systemd" "$stage/package" "$stage/docs"
	install -m 0755 "$bin" "$stage/seqwatch"
	install -m 0644 README.md LICENSE seqwatch.yaml "$stage/"
	install -m 0644 docs/* "$stage/docs/"
	# The units as they are in systemd/: they already name /usr/bin/seqwatch
	# and the seqwatch user that postinstall.sh creates.
	install -m 0644 systemd/seqwatch.service systemd/seqwatch-once.service systemd/seqwatch.timer "$stage/systemd/"
	install -m 0755 "$here/package/postinstall.sh" "$here/package/preremove.sh" "$here/package/postremove.sh" "$stage/package/"
	for packager in deb rpm; do
		echo "+ nfpm package --packager $packager ($arch)"
		(cd "$stage" && PKG_ARCH="$arch" PKG_VERSION="$pkgver" SOURCE_DATE_EPOCH="$epoch" \
			"$nfpm" package --config "$here/nfpm.yaml" --packager "$packager" --target "$out/") >&2
	done
done

(cd "$out" && sha256sum -- * >SHA256SUMS)
echo "release/build.sh: wrote $out:"
(cd "$out" && ls -l)
