#!/usr/bin/env bash
# bench/net-pool: slice to slice across two nodes, iperf3, one stream.  Two
# supervisors in network namespaces of their own on one test bridge, joined
# to a controller (the cluster harness of tests/integration/cluster_lib.sh:
# TLS, addresses in 198.18.0.0/15, pool ranges in 198.19.0.0/16).  Each
# round runs acre's path and the same path made by hand in the same two
# node namespaces, alternated:
#   host-gw: a slice on node 1 to a slice on node 2 over acre's bridges and
#            the routes the supervisors installed, against two namespaces
#            behind bridges of their own, routed by hand (`ip route`);
#   vxlan:   the same over acre's VXLAN devices (controller restarted with
#            --overlay vxlan), against a VXLAN pair made by hand (`ip link
#            add ... type vxlan`, same MTU) and routes over it.
# Prints both figures and the ratio for each (target >= 0.95).
# Usage: [NO_ACCOUNTING=1] bench/net-pool.sh [ROUNDS] [SECONDS]
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-9}
secs=${2:-4}
# The client on CPU 0 and the server on the last, in both arms: where the scheduler puts
# them otherwise moves one stream's throughput by half, whichever path it takes.
server_cpu=$(($(nproc) - 1))
ACRE_TEST_BIN=${ACRE_TEST_BIN:-$here/build/bin}
# shellcheck source=../tests/integration/cluster_lib.sh
. "$here/tests/integration/cluster_lib.sh"
cluster_init
require iperf3 bridge

CTL_ARGS=(--node-timeout 2s --lost-after 30s)
pool_net_ctl_args host-gw
net_setup 2
make_certs
start_controller
# NO_ACCOUNTING=1: supervisors without eBPF accounting, to tell the routes' cost from the
# per-packet accounting's (bytes by class) that every slice pays on node and pool traffic alike.
acct=()
[ -n "${NO_ACCOUNTING:-}" ] && acct=(--no-accounting)
start_node 1 "${acct[@]}"
start_node 2 "${acct[@]}"
N1=acre-test-$RAND_ID-n1
N2=acre-test-$RAND_ID-n2
A1=$(node_addr 1)
A2=$(node_addr 2)
subnet_of() { jq -r .subnet_in_use "$TEST_DIR/n$1/state/pool-net.json" 2>/dev/null; }
wait_for '[ -n "$(subnet_of 1)" ] && [ -n "$(subnet_of 2)" ]' 15 || fail "no subnets from the controller"
S2=$(subnet_of 2)
wait_for "ip -n $N1 route show proto 172 | matches '^$S2 '" 10 || fail "node 1 has no route to $S2"

# acre's side: an iperf3 server slice on node 2.
node_acre 2 slice run -d --net bridge --name sink -- iperf3 -s -p 5201 -A "$server_cpu" >/dev/null || fail "sink"
SINK=$(node_acre 2 -j slice show sink | jq -r .network.address | cut -d/ -f1)

# By hand: in each node's namespace, a bridge with a /24 and a namespace behind a veth.
HA=acre-test-$RAND_ID-ha
HB=acre-test-$RAND_ID-hb
hand_side() { # NODE_NS HAND_NS PREFIX
	local node=$1 ns=$2 p=$3
	ip netns add "$ns" || fail "netns $ns"
	NETNS+=("$ns")
	ip -n "$node" link add hbr0 type bridge
	ip -n "$node" addr add "$p.1/24" dev hbr0
	ip -n "$node" link set hbr0 up
	ip -n "$node" link add hv0 type veth peer name eth0 netns "$ns"
	ip -n "$node" link set hv0 master hbr0 up
	ip -n "$ns" addr add "$p.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" route add default via "$p.1"
}
hand_side "$N1" "$HA" 198.19.200
hand_side "$N2" "$HB" 198.19.201
ip -n "$N1" route add 198.19.201.0/24 via "$A2"
ip -n "$N2" route add 198.19.200.0/24 via "$A1"
spawn_bg ip netns exec "$HB" iperf3 -s -p 5201 -A "$server_cpu" >/dev/null 2>&1
sleep 0.5
wait_for "ip netns exec $HA timeout 5 iperf3 -c 198.19.201.2 -p 5201 -n 1M >/dev/null 2>&1" 5 ||
	fail "the hand-made path does not carry iperf3"

gbit() { jq -r '.end.sum_received.bits_per_second / 1e9' "$1"; }
by_hand() {
	ip netns exec "$HA" iperf3 -c 198.19.201.2 -p 5201 -t "$secs" -A 0 -J >"$TEST_DIR/hand.json" ||
		fail "iperf3 by hand"
}
measure() { # NAME
	local r a h
	: >"$TEST_DIR/results-$1"
	for r in $(seq "$rounds"); do
		# Which goes first alternates, so neither always runs on a warmer machine.
		[ $((r % 2)) = 0 ] && by_hand
		node_acre 1 slice run --rm --net bridge -- iperf3 -c "$SINK" -p 5201 -t "$secs" -A 0 -J \
			>"$TEST_DIR/acre.json" || fail "iperf3 in a slice"
		[ $((r % 2)) = 1 ] && by_hand
		a=$(gbit "$TEST_DIR/acre.json")
		h=$(gbit "$TEST_DIR/hand.json")
		echo "$a $h" >>"$TEST_DIR/results-$1"
		printf '%s round %d: acre %.2f Gbit/s, by hand %.2f Gbit/s\n' "$1" "$r" "$a" "$h"
	done
}
# The ratio of the means, and the median of each round's own ratio: a round's two runs are
# seconds apart, so a machine that is busier for a while slows both of them, and the
# median of the pairs is the figure such spells disturb least.
summary() { # NAME PEER
	awk -v n="$1" -v p="$2" '{ a += $1; h += $2; r[NR] = $1 / $2 } END {
		for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
		med = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
		printf "%s, mean over %d rounds: acre %.2f Gbit/s, %s %.2f Gbit/s\n", n, NR, a / NR, p, h / NR
		printf "%s ratio acre/by hand: %.3f of the means, %.3f median of the rounds (%.3f to %.3f)   (target >= 0.95)\n",
			n, a / h, med, r[1], r[NR] }' "$TEST_DIR/results-$1"
}

# What the per-packet accounting costs, from the kernel's own count (kernel.bpf_stats_enabled,
# set back afterwards): the time spent in net_ingress and net_egress, per packet and as a
# share of one CPU over the acre rounds.  Noise-free, unlike the throughput figures.
bpf_stats_prev=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo)
bpf_prog_time() { # prints "NS RUNS" over the programs named net_ingress and net_egress
	bpftool -j prog show 2>/dev/null | jq -r '[.[] | select(.name == "net_ingress" or .name == "net_egress")]
		| "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}
if [ -n "$bpf_stats_prev" ]; then
	# Set back however the benchmark ends (the cleanup keeps the exit status it is given).
	trap 'st=$?; sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_prev"; (exit $st); cluster_cleanup' EXIT
	sysctl -qw kernel.bpf_stats_enabled=1
fi
read -r acct_ns0 acct_runs0 < <(bpf_prog_time)
measure host-gw
read -r acct_ns1 acct_runs1 < <(bpf_prog_time)
[ -n "$bpf_stats_prev" ] && sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_prev"

# vxlan: the controller again with --overlay vxlan; by hand, a VXLAN pair with routes over it.
kill_controller
CTL_ARGS=(--node-timeout 2s --lost-after 30s)
pool_net_ctl_args vxlan
start_controller
wait_for "ip -n $N1 route show proto 172 | matches '^$S2 .* dev acre0.vx'" 20 ||
	fail "node 1 has no VXLAN route to $S2"
mtu=$(ip -n "$N1" -o link show acre0.vx | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
for side in 1 2; do
	node=acre-test-$RAND_ID-n$side
	local_addr=$A1 remote=$A2
	[ "$side" = 2 ] && local_addr=$A2 remote=$A1
	ip -n "$node" link add hvx0 type vxlan id 4242 local "$local_addr" remote "$remote" dstport 4790 nolearning
	ip -n "$node" link set hvx0 mtu "$mtu" up
	ip -n "$node" addr add "198.19.220.$side/24" dev hvx0
done
ip -n "$N1" route replace 198.19.201.0/24 via 198.19.220.2 dev hvx0
ip -n "$N2" route replace 198.19.200.0/24 via 198.19.220.1 dev hvx0
wait_for "ip netns exec $HA timeout 5 iperf3 -c 198.19.201.2 -p 5201 -n 1M >/dev/null 2>&1" 5 ||
	fail "the hand-made VXLAN pair does not carry iperf3"

measure vxlan
echo
summary host-gw "two namespaces routed by hand"
awk -v ns=$((acct_ns1 - acct_ns0)) -v runs=$((acct_runs1 - acct_runs0)) -v wall="$((rounds * secs))" 'BEGIN {
	if (runs == 0) { print "accounting programs: not run (accounting off)"; exit }
	printf "accounting programs over the host-gw acre rounds: %d runs (skbs), %.0f ns each, %.2f%% of one CPU\n",
		runs, ns / runs, ns / (wall * 1e9) * 100 }'
summary vxlan "a VXLAN pair by hand"
