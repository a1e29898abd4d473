#!/bin/sh
# The packages' version, from the tree: a tag vX.Y.Z gives X.Y.Z, with
# +gitN.gHASH when N commits follow it; without a tag, common/common.h's
# ACRE_VERSION with +gitN.gHASH (N: commits in the history).  Local changes
# add .dirty.  A native package's version has no hyphen.
set -eu
cd "$(dirname "$0")/.."
hash=$(git rev-parse --short=7 HEAD)
if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
	tag=${d%%-*}
	case $d in
	*-*-g*) rest=${d#"$tag"-}; v="${tag#v}+git${rest%%-*}.g$hash" ;;
	*) v=${tag#v} ;;
	esac
else
	base=$(sed -n 's/^#define ACRE_VERSION "\(.*\)"/\1/p' common/common.h)
	v="${base:-0}+git$(git rev-list --count HEAD).g$hash"
fi
git diff --quiet HEAD 2>/dev/null || v="$v.dirty"
echo "$v"
