#!/usr/bin/env bash
# bench/net-bridge: slice-to-slice iperf3 throughput over acre's veths and
# bridge against a veth pair and bridge made by hand with `ip`, alternated in
# one run (target ratio >= 0.95); then the median time bridged networking
# adds to a launch, next to the same launch without it.  Everything runs in
# a network namespace of the benchmark's own, with addresses from
# 198.18.0.0/15.  Usage: bench/net-bridge.sh [ROUNDS] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
# shellcheck source=bench_lib.sh
. "$here/bench/bench_lib.sh"
rounds=${1:-5}
secs=${2:-4}
for tool in iperf3 python3 ip hyperfine; do
	command -v "$tool" >/dev/null || { echo "bench/net-bridge: $tool is missing (make deps)"; exit 1; }
done
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ns=acre-bench-$tag
work=$(mktemp -d /tmp/acre-bench-bridge.XXXXXX)
export ACRE_SOCKET=$work/sock
sv=
cleanup() {
	set +e
	bench_stop_supervisor
	[ -s "$work/iperf3.pid" ] && kill "$(cat "$work/iperf3.pid")" 2>/dev/null
	for n in "$ns" "$ns-a" "$ns-b"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
# nsenter, not ip netns exec, which mounts a /sys of its own and hides the cgroup hierarchies.
nsenter --net="/run/netns/$ns" "$bin/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$work/state" \
	--cgroup-root "acre-bench-$tag" --slice-cidr 198.18.0.0/24 --bridge "acrb$tag" \
	--log-level warn 2>"$work/supervisor.log" &
sv=$!
for _ in $(seq 100); do "$bin/acre" slice list >/dev/null 2>&1 && break; sleep 0.05; done
"$bin/acre" slice list >/dev/null || { echo "bench/net-bridge: the supervisor did not start"; cat "$work/supervisor.log"; exit 1; }

# By hand: bridge, two namespaces, a veth pair each.
ip -n "$ns" link add "hbr$tag" type bridge
ip -n "$ns" addr add 198.18.1.1/24 dev "hbr$tag"
ip -n "$ns" link set "hbr$tag" up
i=2
for side in a b; do
	ip netns add "$ns-$side"
	ip -n "$ns" link add "h$side$tag" type veth peer name eth0 netns "$ns-$side"
	ip -n "$ns" link set "h$side$tag" master "hbr$tag" up
	ip -n "$ns-$side" addr add "198.18.1.$i/24" dev eth0
	ip -n "$ns-$side" link set eth0 up
	ip -n "$ns-$side" link set lo up
	i=$((i + 1))
done
ip netns exec "$ns-a" iperf3 -s -p 5201 -D --pidfile "$work/iperf3.pid"
# By acre: a server slice.
"$bin/acre" slice run -d --name sink --net bridge -- iperf3 -s -p 5201 >/dev/null
sink=$(bench_slice_addr sink)
sleep 0.5

for r in $(seq "$rounds"); do
	"$bin/acre" slice run --rm --net bridge -- iperf3 -c "$sink" -p 5201 -t "$secs" -J >"$work/acre.json"
	ip netns exec "$ns-b" iperf3 -c 198.18.1.2 -p 5201 -t "$secs" -J >"$work/hand.json"
	a=$(bench_gbit "$work/acre.json")
	h=$(bench_gbit "$work/hand.json")
	echo "$a $h" >>"$work/results"
	printf 'round %d: acre %.2f Gbit/s, by hand %.2f Gbit/s\n' "$r" "$a" "$h"
done
awk '{ a += $1; h += $2 } END {
	printf "mean over %d rounds: acre %.2f Gbit/s, veth+bridge by hand %.2f Gbit/s\n", NR, a / NR, h / NR
	printf "ratio acre/by hand: %.3f   (target >= 0.95)\n", a / h }' "$work/results"

hyperfine -N --warmup 5 --runs 60 --export-json "$work/launch.json" \
	-n bridge "$bin/acre slice run --rm --net bridge -- /bin/true" \
	-n none "$bin/acre slice run --rm -- /bin/true" >/dev/null 2>&1
python3 - "$work/launch.json" <<'EOF'
import json, statistics, sys
res = {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(sys.argv[1]))["results"]}
print("launch median: --net bridge %.2f ms, --net none %.2f ms: bridged networking adds %.2f ms"
      % (res["bridge"], res["none"], res["bridge"] - res["none"]))
EOF
