#!/bin/bash
# make deb: builds the acre, acre-supervisor and acre-controller packages
# with dpkg-buildpackage from a copy of the tree in OUTDIR/src (so the build
# never writes into the checkout's debian/), versioned from the tree, then
# runs lintian on them.  The .deb files land in OUTDIR.
#
# Usage: debian/build-packages.sh OUTDIR
# Exit status: 0 when the packages are built and lintian reports no error.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
OUT=${1:?usage: debian/build-packages.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
cd "$ROOT"

for tool in dpkg-buildpackage dh lintian git; do
	command -v "$tool" >/dev/null || {
		echo "deb: no $tool (make deps installs it)" >&2
		exit 1
	}
done

version=$(debian/version.sh)
src=$OUT/src/acre-$version
rm -rf "$OUT/src" "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo
mkdir -p "$src"

# Tracked and new (not ignored) files, as they are in the work tree: what
# `make` would build here, without build/.
git ls-files -z --cached --others --exclude-standard |
	grep -zv '^build/' |
	tar --null --files-from=- --ignore-failed-read -cf - |
	tar -xf - -C "$src"

# The changelog carries the version; it is made here, never committed.
cat >"$src/debian/changelog" <<CHANGELOG
acre ($version) unstable; urgency=medium

  * Built from $(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD 2>/dev/null || echo ' with local changes').

 -- acre maintainers <acre@localhost.invalid>  $(date -R)
CHANGELOG

start=$SECONDS
echo "deb: building acre $version in $src"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 || {
	tail -40 "$OUT/build.log" >&2
	echo "deb: dpkg-buildpackage failed (the whole log: $OUT/build.log)" >&2
	exit 1
}
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/
echo "deb: built in $((SECONDS - start)) s:"
for d in "$OUT"/*.deb; do
	printf '  %s  %s\n' "$(basename "$d")" "$(dpkg-deb -f "$d" Depends)"
done

echo "deb: lintian"
lintian --fail-on error "$OUT"/*.changes
echo "deb: lintian: no error"
