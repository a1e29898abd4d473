#!/bin/bash
# The Debian 12 guest of tests/vm/install-test.sh: a root tree made with
# debootstrap (minbase, systemd as init) that carries the runtime
# dependencies of the given packages, so that `dpkg -i` needs no network in
# the guest.  tests/vm/run.sh --root boots it over 9p under a tmpfs overlay:
# the tree itself never changes once built.
#
# Usage: tests/vm/build-debian-image.sh OUTDIR PACKAGE.deb...
# The tree is OUTDIR/rootfs; it is rebuilt only when missing or when the
# list of packages it must carry changed (OUTDIR/rootfs.stamp).  Exits 77
# (skipped) when debootstrap, root or the Debian archive is missing.
set -euo pipefail

OUT=${1:?usage: build-debian-image.sh OUTDIR PACKAGE.deb...}
shift
SUITE=bookworm

skip() {
	echo "debian image: $* (skipped)" >&2
	exit 77
}

[ "$(id -u)" = 0 ] || skip "debootstrap needs root"
command -v debootstrap >/dev/null || skip "no debootstrap (Debian: apt-get install debootstrap)"

# The machine's own Debian mirror, from its apt sources (deb822 or one-line).
mirror() {
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n 's/^URIs:[[:space:]]*\(http[^ ]*\/debian\/\{0,1\}\)[[:space:]]*$/\1/p' | head -1)
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\(http[^ ]*\/debian\/\{0,1\}\)[[:space:]].*/\2/p' |
		head -1)
	echo "${m:-http://deb.debian.org/debian}"
}

# What the guest needs besides debootstrap's minbase: systemd as PID 1, kmod
# (the kernel loads nf_tables, veth and bridge through modprobe), and
# every package the .debs depend on (versions dropped; the first of each
# alternative), so that they install offline.
packages() {
	local d
	{
		echo systemd systemd-sysv kmod
		for d in "$@"; do
			dpkg-deb -f "$d" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g'
		done
	} | tr ' ' '\n' | grep . | sort -u | tr '\n' ' '
}

PKGS=$(packages "$@")
MIRROR=$(mirror)
STAMP="$SUITE $MIRROR $PKGS $(sha256sum "$0" | cut -c1-16)"
if [ -x "$OUT/rootfs/lib/systemd/systemd" ] && [ "$(cat "$OUT/rootfs.stamp" 2>/dev/null)" = "$STAMP" ]; then
	echo "debian image: $OUT/rootfs is current"
	exit 0
fi

mkdir -p "$OUT"
rm -rf "$OUT/rootfs" "$OUT/rootfs.new" "$OUT/rootfs.stamp"
start=$SECONDS
echo "debian image: debootstrap $SUITE from $MIRROR with: $PKGS"
include=$(echo "$PKGS" | tr -s ' ' ',' | sed 's/,$//')
if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$OUT/rootfs.new" "$MIRROR" \
	>"$OUT/debootstrap.log" 2>&1; then
	tail -20 "$OUT/debootstrap.log" >&2
	if grep -q 'Failed getting release file\|Couldn.t download\|Temporary failure' "$OUT/debootstrap.log"; then
		rm -rf "$OUT/rootfs.new"
		skip "the Debian archive $MIRROR is unreachable"
	fi
	echo "debian image: debootstrap failed ($OUT/debootstrap.log)" >&2
	exit 1
fi

R=$OUT/rootfs.new
echo acre-guest >"$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 acre-guest\n::1 localhost\n' >"$R/etc/hosts"
: >"$R/etc/fstab"
# The guest has no network: no resolver of the build machine's either.
echo "# the acre test guest has no network" >"$R/etc/resolv.conf"
# Nothing that waits on a terminal, a network or a timer in a test guest.
for u in getty@tty1.service serial-getty@ttyS0.service serial-getty@ttyS1.service \
	apt-daily.timer apt-daily-upgrade.timer systemd-networkd-wait-online.service \
	systemd-timesyncd.service; do
	ln -sf /dev/null "$R/etc/systemd/system/$u"
done
# The package lists are not needed offline; keep the tree small.
rm -rf "$R"/var/cache/apt/archives/*.deb
mv "$R" "$OUT/rootfs"
echo "$STAMP" >"$OUT/rootfs.stamp"
echo "debian image: built in $((SECONDS - start)) s ($(du -sh "$OUT/rootfs" | cut -f1))"
