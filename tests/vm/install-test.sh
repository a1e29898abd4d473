#!/bin/bash
# make vm-install-test: the Debian packages on a booted Debian 12 guest.
# Builds (or reuses) the guest tree with debootstrap under build/vm-debian,
# boots it under qemu (TCG) with systemd as PID 1 and pure cgroup v2
# (tests/vm/run.sh --root), and runs tests/vm/install-guest.sh there on the
# packages of DEBDIR: install, join, a slice, reinstall, restart,
# daemon-reload, purge.  Prints each step's output and time.
#
# Usage: tests/vm/install-test.sh DEBDIR
# Exit status: 0 passed, 1 failed, 77 skipped (no qemu, debootstrap, root or
# Debian archive here), or run.sh's (124 timeout, 125 no status, 123 lockup).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
DEBS=${1:?usage: tests/vm/install-test.sh DEBDIR}
IMAGE=$ROOT/build/vm-debian
start=$SECONDS

mapfile -t debs < <(ls "$DEBS"/acre_*.deb "$DEBS"/acre-supervisor_*.deb "$DEBS"/acre-controller_*.deb 2>/dev/null)
if [ "${#debs[@]}" != 3 ]; then
	echo "vm-install-test: expected the three packages in $DEBS (make deb), found ${#debs[@]}" >&2
	exit 1
fi

"$HERE/build-debian-image.sh" "$IMAGE" "${debs[@]}"
rc=$?
[ "$rc" = 0 ] || exit "$rc"
echo "-- guest image: $((SECONDS - start)) s"

files=()
for d in "${debs[@]}" "$HERE/install-guest.sh"; do
	files+=(--file "$d")
done
vm_start=$SECONDS
"$HERE/run.sh" --timeout 420 --memory 1024 --root "$IMAGE/rootfs" "${files[@]}" -- bash install-guest.sh
rc=$?
echo "-- guest boot and test: $((SECONDS - vm_start)) s (TCG)"
echo "vm-install-test: $([ "$rc" = 0 ] && echo passed || echo "failed ($rc)") in $((SECONDS - start)) s"
exit "$rc"
