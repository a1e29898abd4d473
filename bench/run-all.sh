#!/usr/bin/env bash
# make bench: every benchmark in bench/, each printing its figures next to a
# peer's from the same run.  None of them is a pass/fail test.
set -uo pipefail
cd "$(dirname "$0")"
status=0
for b in launch.sh density.sh net-overhead.sh net-bridge.sh net-pool.sh dns.sh vip.sh pkg.sh pool/run.sh; do
	[ -x "$b" ] || continue
	echo "== bench/$b"
	./"$b" || status=1
	echo
done
# The apps on the simulated pool: bench/pool/run.sh again, in its apps mode.
echo "== APPS=1 bench/pool/run.sh"
APPS=1 ./pool/run.sh || status=1
exit $status
