#!/usr/bin/env bash
# bench/net-overhead: iperf3 throughput over loopback from a slice whose
# traffic the eBPF accounting counts, and from one it does not (a second
# supervisor started with --no-accounting), alternated in one run.  iperf3's
# own counters are the measure.  Prints both and the ratio (target >= 0.97).
# Usage: [ACRE_TEST_BIN=DIR] bench/net-overhead.sh [ROUNDS] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${ACRE_TEST_BIN:-$here/build/bin}
rounds=${1:-5}
secs=${2:-4}
for tool in iperf3 python3; do
	command -v "$tool" >/dev/null || { echo "bench/net-overhead: $tool is missing (make deps)"; exit 1; }
done
work=$(mktemp -d /tmp/acre-bench-net.XXXXXX)
pids=()
cleanup() {
	set +e # a supervisor already gone must not stop the rest of the cleanup
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

start() { # name, extra supervisor flags...
	local name=$1
	shift
	"$bin/acre-supervisor" --socket "$work/$name.sock" --state-dir "$work/$name" \
		--cgroup-root "acre-bench-$name-$$" --prelaunch 0 --log-level warn "$@" \
		2>"$work/$name.log" &
	pids+=($!)
	for _ in $(seq 100); do
		"$bin/acre" --socket "$work/$name.sock" slice list >/dev/null 2>&1 && return
		sleep 0.05
	done
	echo "bench/net-overhead: supervisor $name did not start"; cat "$work/$name.log"; exit 1
}
start accounted
start plain --no-accounting
grep -q accounting_off "$work/accounted.log" && { cat "$work/accounted.log"; exit 1; }

port=$((20000 + RANDOM % 10000))
iperf3 -s -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
pids+=($!)
sleep 0.3

run() { # supervisor name -> bits per second received by the server
	"$bin/acre" --socket "$work/$1.sock" slice run --rm --net host -- \
		iperf3 -c 127.0.0.1 -p "$port" -t "$secs" -J >"$work/out.json"
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' \
		"$work/out.json"
}
for r in $(seq "$rounds"); do
	a=$(run accounted)
	p=$(run plain)
	echo "$a $p" >>"$work/results"
	awk -v r="$r" -v a="$a" -v p="$p" 'BEGIN { printf "round %d: accounted %.2f Gbit/s, unaccounted %.2f Gbit/s\n", r, a / 1e9, p / 1e9 }'
done
awk '{ a += $1; p += $2 } END {
	printf "mean over %d rounds: accounted %.2f Gbit/s, unaccounted %.2f Gbit/s\n", NR, a / NR / 1e9, p / NR / 1e9
	printf "ratio accounted/unaccounted: %.3f   (target >= 0.97)\n", a / p }' "$work/results"
