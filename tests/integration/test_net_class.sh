#!/bin/bash
# Bytes by destination class, as `acre slice stat -j` shows them, in a real pool: the
# controller and two supervisors in network namespaces of their own (cluster_lib.sh),
# host-gw routes between their slice subnets, and an "outside" namespace that stands for
# the world.  From slices of node 1, iperf3 to a slice of the same node lands in node, to
# a slice of node 2 and to node 2's own address in pool (the supervisor keeps the peers'
# subnets and addresses in its class trie from what the controller pushes), and to the
# outside through NAT in outside: each within what iperf3's receiver got and 5% above
# what its sender wrote, the other classes next to nothing, and the classes add up to the
# totals.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require iperf3 bpftool nsenter
t0=$(now_ms)
pool_net_ctl_args host-gw
CTL_ARGS+=(--node-timeout 2s)

log "network, certificates, controller, two supervisors, the outside"
net_setup 2
outside_setup
make_certs
start_controller
start_node 1
start_node 2
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready")] | length'; }
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "two nodes ready: $(api GET /v1/nodes | jq -c '[.nodes[] | {id, state}]')"
grep -q 'event=accounting_on' "$TEST_DIR/n1/supervisor.log" ||
	skip "eBPF accounting is off: $(grep accounting "$TEST_DIR/n1/supervisor.log")"
# The subnet node 2 took from the controller's reply, as it keeps it.
wait_for "[ -n \"\$(jq -r '.subnet_in_use // empty' '$TEST_DIR/n2/state/pool-net.json' 2>/dev/null)\" ]" 10 ||
	fail "node 2 did not keep a subnet from the controller"
S2=$(jq -r .subnet_in_use "$TEST_DIR/n2/state/pool-net.json")
wait_for "node_routes 1 | matches '^$S2 via '" 10 || fail "node 1 has no route to $S2: $(node_routes 1)"

mib=$([ "$SLOW" = 1 ] && echo 50 || echo 10)
stat_of() { node_acre 1 -j slice stat "$1" | jq -r ".[0].net$2"; }

# check NAME CLASS IPERF_JSON: CLASS's tx lies between what iperf3 received and sent * 1.05,
# the other classes carry next to nothing, and the classes add up to the totals.
check() {
	local name=$1 class=$2 json=$3 sent received tx c other f
	sent=$(jq -r .end.sum_sent.bytes "$json")
	received=$(jq -r .end.sum_received.bytes "$json")
	[[ $sent =~ ^[0-9]+$ && $received =~ ^[0-9]+$ && $received -gt 0 ]] ||
		fail "$name: iperf3's counts: sent '$sent', received '$received'"
	wait_for "[ \"\$(stat_of $name .by_class.$class.tx_bytes)\" -ge $received ]" 5
	tx=$(stat_of "$name" ".by_class.$class.tx_bytes")
	log "$name: iperf3 sent $sent, received $received; $class tx $tx"
	[ "$tx" -ge "$received" ] || fail "$name: $class tx $tx is below the $received bytes received"
	awk -v t="$tx" -v s="$sent" 'BEGIN { exit !(t <= s * 1.05) }' ||
		fail "$name: $class tx $tx is more than 5% above the $sent bytes sent"
	for c in node pool outside; do
		[ "$c" = "$class" ] && continue
		other=$(stat_of "$name" ".by_class.$c.tx_bytes")
		awk -v o="$other" -v s="$sent" 'BEGIN { exit !(o <= s * 0.01) }' ||
			fail "$name: $other bytes in $c, where $class was expected"
	done
	for f in rx_bytes tx_bytes rx_packets tx_packets; do
		[ "$(stat_of "$name" ".$f")" = "$(stat_of "$name" "| .by_class | [.[].$f] | add")" ] ||
			fail "$name: the classes' $f do not add up to the total: $(node_acre 1 -j slice stat "$name")"
	done
}

# listens NS ADDR PORT: whether something in namespace NS accepts on ADDR:PORT.
# (It connects: not for a one-off iperf3 -s -1, which that connection would end.)
listens() {
	nsenter --net="/run/netns/$1" -- python3 -c \
		"import socket; socket.create_connection(('$2', $3), 1).close()" 2>/dev/null
}

# listening NS PORT: whether namespace NS has a TCP listener on PORT.
listening() {
	nsenter --net="/run/netns/$1" -- ss -Hltn "sport = :$2" | matches .
}

# send NAME CLASS ADDR PORT: a bridged slice of node 1 sends ${mib} MiB to ADDR:PORT.
send() {
	node_acre 1 slice run --name "$1" --net bridge -- iperf3 -c "$3" -p "$4" -n "${mib}M" -J \
		>"$TEST_DIR/$1.json" || fail "iperf3 from $1 to $3: $(tail -5 "$TEST_DIR/$1.json")"
	check "$1" "$2" "$TEST_DIR/$1.json"
}

# serve_slice I NAME: an iperf3 server in a bridged slice of node I; prints its address.
serve_slice() {
	node_acre "$1" slice run -d --name "$2" --net bridge -- iperf3 -s -p 5201 >/dev/null ||
		fail "run $2 on node $1"
	local a
	a=$(node_acre "$1" -j slice show "$2" | jq -r .network.address | cut -d/ -f1)
	wait_for "listens acre-test-$RAND_ID-n$1 $a 5201" 10 || fail "iperf3 in $2 does not listen"
	printf '%s\n' "$a"
}

log "node: a slice of the same node"
send to-node node "$(serve_slice 1 srv1)" 5201

log "pool: a slice of node 2, then node 2 itself"
send to-pool pool "$(serve_slice 2 srv2)" 5201
N2_NS=acre-test-$RAND_ID-n2
spawn_bg nsenter --net="/run/netns/$N2_NS" -- iperf3 -s -B "$(node_addr 2)" -p 5202 -1
wait_for "listening $N2_NS 5202" 5 || fail "iperf3 on node 2's address does not listen"
send to-node2 pool "$(node_addr 2)" 5202

log "outside: through NAT to the outside namespace"
spawn_bg nsenter --net="/run/netns/$OUTSIDE_NS" -- iperf3 -s -B "$OUTSIDE_ADDR" -p 5203 -1
wait_for "listening $OUTSIDE_NS 5203" 5 || fail "the outside iperf3 does not listen"
send to-outside outside "$OUTSIDE_ADDR" 5203

table=$(node_acre 1 slice stat to-pool)
assert_contains "${table%%$'\n'*}" "NET-NODE  NET-POOL  NET-OUTSIDE" "slice stat's columns"
assert_contains "$table" $'\nto-pool ' "slice stat"
log "test_net_class: $(($(now_ms) - t0)) ms"
