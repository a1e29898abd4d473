#!/usr/bin/env bash
# No global symbol defined twice in one binary's modules.  A static archive
# pulls only the members a binary uses, so a second definition can hide in
# a member that happens not to be pulled today and break the link the day
# it is; this looks at every object of every module a binary is built from,
# not only at what the linker took.
#
# Usage: tests/check-symbols.sh BINARY: OBJ... [-- BINARY: OBJ...]...
# Prints each duplicate with the objects that define it; exits 1 if any.
set -uo pipefail

status=0
check() {
	local bin=$1
	shift
	[ $# -gt 0 ] || { echo "check-symbols: $bin: no objects (build first)"; status=1; return; }
	local dups
	# Strong definitions only: weak ones (W, V) may be overridden by design.
	dups=$(for o in "$@"; do
		nm -g --defined-only "$o" | awk -v o="$o" 'NF == 3 && $2 !~ /^[wWvV]$/ { print $3, o }'
	done | sort | awk '
		$1 == prev { if (!shown) { printf "%s: %s", $1, prevobj; shown = 1 } printf " %s", $2; next }
		{ if (shown) print ""; prev = $1; prevobj = $2; shown = 0 }
		END { if (shown) print "" }')
	if [ -n "$dups" ]; then
		echo "check-symbols: $bin defines these global symbols more than once:"
		echo "$dups" | sed 's/^/    /'
		status=1
	else
		echo "check-symbols: $bin: $# objects, no symbol defined twice"
	fi
}

bin=
objs=()
for a in "$@"; do
	case $a in
	--) [ -n "$bin" ] && check "$bin" "${objs[@]}"; bin=; objs=() ;;
	*:) bin=${a%:} ;;
	*) objs+=("$a") ;;
	esac
done
[ -n "$bin" ] && check "$bin" "${objs[@]}"
exit $status
