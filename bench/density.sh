#!/usr/bin/env bash
# bench/density (and bench/stat): 1,000 detached slices running `sleep` on
# one node, accounted by eBPF.  Prints the supervisor's resident memory with
# all of them running, the time of `acre slice stat -j` over all of them, and
# the supervisor's CPU while they run idle.  Targets: RSS <= 16 MiB, stat
# <= 50 ms, CPU < 1% of a core.
# Usage: bench/density.sh [COUNT]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
count=${1:-1000}
work=$(mktemp -d /tmp/acre-bench-density.XXXXXX)
root=acre-bench-$$
export ACRE_SOCKET=$work/sock

cleanup() {
	"$bin/acre" -j slice list 2>/dev/null | python3 -c 'import json,sys; [print(s["name"]) for s in json.load(sys.stdin)]' 2>/dev/null |
		xargs -r -n 200 "$bin/acre" slice rm --force >/dev/null 2>&1 || true
	[ -n "${sv:-}" ] && kill "$sv" 2>/dev/null && wait "$sv" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$bin/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$work/state" --cgroup-root "$root" \
	2>"$work/supervisor.log" &
sv=$!
for _ in $(seq 100); do "$bin/acre" slice list >/dev/null 2>&1 && break; sleep 0.05; done

start=$(date +%s.%N)
for i in $(seq 1 "$count"); do
	"$bin/acre" slice run -d --name "d$i" -- sleep 100000 >/dev/null
done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$count" 'BEGIN { printf "launched %d detached slices in %.1f s\n", n, e - s }'

running=$("$bin/acre" -j slice list | python3 -c 'import json,sys; print(sum(s["state"]=="running" for s in json.load(sys.stdin)))')
rss_kb=$(awk '/^VmRSS/ {print $2}' /proc/$sv/status)
printf 'running slices:        %d\n' "$running"
awk -v k="$rss_kb" 'BEGIN { printf "supervisor RSS:        %.1f MiB  (target <= 16 MiB)\n", k / 1024 }'

# Warm once, then the median of 11 timed runs.
"$bin/acre" -j slice stat >/dev/null
times=()
for _ in $(seq 11); do
	t0=$(date +%s%N)
	"$bin/acre" -j slice stat >/dev/null
	t1=$(date +%s%N)
	times+=($(( (t1 - t0) / 1000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 6p)
awk -v u="$median" 'BEGIN { printf "acre slice stat -j:    %.1f ms median of 11  (target <= 50 ms)\n", u / 1000 }'
grep -q accounting_on "$work/supervisor.log" && echo "accounting:            on (eBPF counters read for every slice)" ||
	echo "accounting:            OFF: $(grep accounting_off "$work/supervisor.log")"

# CPU time (utime + stime, clock ticks) over an idle interval.
ticks() { awk '{ print $14 + $15 }' /proc/$sv/stat; }
idle=${IDLE_SECONDS:-20}
c0=$(ticks)
sleep "$idle"
c1=$(ticks)
awk -v t="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v s="$idle" \
	'BEGIN { printf "supervisor CPU, idle:  %.2f%% of a core over %d s  (target < 1%%)\n", 100 * t / hz / s, s }'
