#!/usr/bin/env bash
# make bench: every benchmark in bench/, each printing its figures next to a
# peer's from the same run.  None of them is a pass/fail test.
set -uo pipefail
cd "$(dirname "$0")"
status=0
for b in launch.sh density.sh net-overhead.sh net-bridge.sh net-pool.sh dns.sh vip.sh pool/run.sh; do
	[ -x "$b" ] || continue
	echo "== bench/$b"
	./"$b" || status=1
	echo
done
exit $status
