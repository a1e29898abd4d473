#!/usr/bin/env bash
# bench/vip: what a virtual IP costs.  Short TCP connections per second from one thread
# (bench/vip_conn.c: connect and reset, nothing else, so the connect-time rewrite is all
# that differs) and iperf3 throughput (one stream), each to a VIP and to its member's
# address directly, alternated in one run; the ratio VIP/direct (target >= 0.98).  A
# supervisor in a network namespace of the benchmark's own serves two bridged member slices
# (198.18.0.0/24); the VIP (198.19.128.1) comes through the node link as the controller
# sends it (tests/integration/vip_link.py); the clients are processes of the node, in a
# cgroup under the VIP programs' own (--vip-cgroup, never the real root).
# Medians over ROUNDS rounds of SECONDS per measurement, VIP and direct alternating which
# goes first.  Usage: bench/vip.sh [ROUNDS] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
# shellcheck source=bench_lib.sh
. "$here/bench/bench_lib.sh"
conn=$here/build/bench/acre-bench-vip-conn
rounds=${1:-10}
# The client on CPU 0 and the server on the last, in both arms: where the scheduler puts
# them otherwise moves one stream's throughput by half, whichever path it takes.
server_cpu=$(($(nproc) - 1))
secs=${2:-2}
for tool in iperf3 python3 ip nsenter; do
	command -v "$tool" >/dev/null || { echo "bench/vip: $tool is missing (make deps)"; exit 1; }
done
[ -x "$conn" ] || { echo "bench/vip: $conn is missing (make bench builds it)"; exit 1; }
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$v2" ] || { echo "bench/vip: no cgroup v2 tree"; exit 1; }
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ns=acre-bench-$tag
root=acre-bench-$tag
vipcg=$v2/$root
work=$(mktemp -d /tmp/acre-bench-vip.XXXXXX)
export ACRE_SOCKET=$work/sock
sv=
link=
cleanup() {
	set +e
	bench_stop_supervisor
	[ -n "$link" ] && kill "$link" 2>/dev/null
	# The clients' cgroup, then the VIP cgroup (the supervisor removed its own subtree).
	for d in "$vipcg/client" "$vipcg"; do rmdir "$d" 2>/dev/null; done
	for d in /sys/fs/cgroup/*/"$root"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "/sys/fs/bpf/acre/$root"
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$vipcg/client"
echo bench-token >"$work/token"
nsenter --net="/run/netns/$ns" python3 "$here/tests/integration/vip_link.py" serve 7471 \
	"$work/link.sock" 2>"$work/link.log" &
link=$!
# nsenter, not ip netns exec, which mounts a /sys of its own and hides the cgroup hierarchies.
nsenter --net="/run/netns/$ns" "$bin/acre-supervisor" --socket "$ACRE_SOCKET" \
	--state-dir "$work/state" --cgroup-root "$root/node" --vip-cgroup "$vipcg" \
	--slice-cidr 198.18.0.0/24 --bridge "acrb$tag" --prelaunch 0 --log-level warn \
	--controller 127.0.0.1:7471 --insecure --join-token-file "$work/token" \
	2>"$work/supervisor.log" &
sv=$!
for _ in $(seq 100); do "$bin/acre" slice list >/dev/null 2>&1 && break; sleep 0.05; done
"$bin/acre" slice list >/dev/null || { echo "bench/vip: the supervisor did not start"; cat "$work/supervisor.log"; exit 1; }

"$bin/acre" slice run -d --name acceptor --net bridge -- "$conn" server 8080 >/dev/null
"$bin/acre" slice run -d --name sink --net bridge -- iperf3 -s -p 5201 -A "$server_cpu" >/dev/null
acceptor=$(bench_slice_addr acceptor)
sink=$(bench_slice_addr sink)
vip=198.19.128.1
msg=$(printf '{"op":"net.vips","full":true,"set":[{"name":"bench","vip":"%s","ports":[%s,%s]}],"gone":[]}' \
	"$vip" "{\"port\":80,\"proto\":\"tcp\",\"backends\":[{\"address\":\"$acceptor\",\"port\":8080}]}" \
	"{\"port\":5201,\"proto\":\"tcp\",\"backends\":[{\"address\":\"$sink\",\"port\":5201}]}")
for _ in $(seq 100); do
	python3 "$here/tests/integration/vip_link.py" send "$work/link.sock" "$msg" >/dev/null 2>&1 && break
	sleep 0.1
done
python3 "$here/tests/integration/vip_link.py" send "$work/link.sock" "$msg" >/dev/null ||
	{ echo "bench/vip: the node refused the VIP"; cat "$work/supervisor.log"; exit 1; }

# on_node CMD...: a process of the node, in the clients' cgroup under the VIP programs.
on_node() {
	nsenter --net="/run/netns/$ns" sh -c 'echo $$ >"$1/cgroup.procs" || exit 99; shift; exec "$@"' \
		sh "$vipcg/client" "$@"
}
sleep 0.5
on_node "$conn" client "$vip" 80 0.2 >/dev/null # warm-up, and proof that the VIP answers
# One round: connections/s and throughput, each to the VIP and directly; which goes first
# alternates, so neither profits from the order.
round() {
	local first=$1
	for side in $first $([ "$first" = vip ] && echo direct || echo vip); do
		if [ "$side" = vip ]; then
			cv=$(on_node "$conn" client "$vip" 80 "$secs")
			on_node iperf3 -c "$vip" -p 5201 -t "$secs" -A 0 -J >"$work/vip.json"
		else
			cd=$(on_node "$conn" client "$acceptor" 8080 "$secs")
			on_node iperf3 -c "$sink" -p 5201 -t "$secs" -A 0 -J >"$work/direct.json"
		fi
	done
}
for r in $(seq "$rounds"); do
	round "$([ $((r % 2)) = 1 ] && echo vip || echo direct)"
	tv=$(bench_gbit "$work/vip.json")
	td=$(bench_gbit "$work/direct.json")
	echo "$cv $cd $tv $td" >>"$work/results"
	printf 'round %d: connections/s VIP %s, direct %s; throughput VIP %.2f Gbit/s, direct %.2f Gbit/s\n' \
		"$r" "$cv" "$cd" "$tv" "$td"
done
# Medians: two cores shared with everything else make single rounds noisy.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cv=$(cut -d' ' -f1 "$work/results" | median)
cd=$(cut -d' ' -f2 "$work/results" | median)
tv=$(cut -d' ' -f3 "$work/results" | median)
td=$(cut -d' ' -f4 "$work/results" | median)
printf 'median over %d rounds: connections/s VIP %.0f, direct %.0f, ratio %.3f   (target >= 0.98)\n' \
	"$rounds" "$cv" "$cd" "$(awk -v a="$cv" -v b="$cd" 'BEGIN { print a / b }')"
printf 'median over %d rounds: throughput VIP %.2f Gbit/s, direct %.2f Gbit/s, ratio %.3f   (target >= 0.98)\n' \
	"$rounds" "$tv" "$td" "$(awk -v a="$tv" -v b="$td" 'BEGIN { print a / b }')"
# A round's two runs are seconds apart: the median of the rounds' own ratios is the figure
# a busier spell of the machine disturbs least.
printf 'median of the rounds'"'"' own ratios: connections/s %.3f, throughput %.3f\n' \
	"$(awk '{ print $1 / $2 }' "$work/results" | median)" "$(awk '{ print $3 / $4 }' "$work/results" | median)"
