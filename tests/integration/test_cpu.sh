#!/bin/bash
# --cpus is a CFS quota enforced by the kernel: a busy loop under
# --cpus 0.2 gets about a fifth of a core, measured from the CPU time the
# slice's cgroup accounts (acre -j slice stat cpu.usage_ns); under --cpus 1
# the same loop gets much more.  One at a time, so that they do not compete.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

loop='while :; do :; done'

# share NAME SECONDS: cores used by slice NAME over SECONDS, from cpu.usage_ns.
share() {
	local j0 j1 t0 t1 u0 u1
	j0=$(acre -j slice stat "$1") || fail "slice stat $1"
	t0=$(date +%s%N)
	sleep "$2"
	j1=$(acre -j slice stat "$1") || fail "slice stat $1"
	t1=$(date +%s%N)
	u0=$(jq -r '.[0].cpu.usage_ns' <<<"$j0")
	u1=$(jq -r '.[0].cpu.usage_ns' <<<"$j1")
	[[ $u0 =~ ^[0-9]+$ && $u1 =~ ^[0-9]+$ ]] || fail "cpu.usage_ns of $1 is not a number: '$u0' '$u1'"
	awk -v a="$u0" -v b="$u1" -v dt="$((t1 - t0))" 'BEGIN { printf "%.3f\n", (b - a) / dt }'
}

acre slice run -d --name fifth --cpus 0.2 -- sh -c "$loop" >/dev/null || fail "run --cpus 0.2"
wait_state fifth running 10
sleep 0.3 # past the first period, whose quota is spent at once
fifth=$(share fifth 3)
acre slice rm --force fifth >/dev/null || fail "rm fifth"

acre slice run -d --name whole --cpus 1 -- sh -c "$loop" >/dev/null || fail "run --cpus 1"
wait_state whole running 10
sleep 0.3
whole=$(share whole 1.5)

log "--cpus 0.2: $fifth of a core; --cpus 1: $whole of a core"
awk -v x="$fifth" 'BEGIN { exit !(x >= 0.12 && x <= 0.28) }' ||
	fail "--cpus 0.2 used $fifth of a core over 3 s, expected 0.12-0.28"
awk -v x="$whole" -v f="$fifth" 'BEGIN { exit !(x >= 0.5 && x <= 1.1 && x >= 2.5 * f) }' ||
	fail "--cpus 1 used $whole of a core, expected 0.5-1.1 (and well above $fifth)"

# The limit is also what stat says about it.
assert_eq "$(acre -j slice list | jq -r '.[] | select(.name == "whole") | .resources.cpus')" 1 \
	"resources.cpus of whole in slice list"
