#!/bin/bash
# Bytes by destination class, as `acre slice stat -j` shows them: one
# supervisor in a network namespace of the test's own ("node"), slices in
# 198.19.Y.0/24, and an "outside" namespace at 198.18.X.2 behind a veth.
# iperf3 from a slice to a slice of the same node lands in node, to the
# outside in outside, and, once the outside's range is put in the class
# trie as a pool peer's, in pool: each within what iperf3's receiver got
# and 5% above what its sender wrote, and the classes add up to the totals.
# The pool entry goes into the pinned trie with the real bpftool, as the
# supervisor's net_class_set puts the pool's peers there.
. "$(dirname "$0")/lib.sh"
require ip iperf3 jq bpftool nsenter python3
t0=$(now_ms)
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
node=${CGROOT#acre-}
outside=$node-out
make_netns "$node"
make_netns "$outside"
x=$((RANDOM % 200 + 20))
out_addr=198.18.$x.2
ip link add "acn$id" type veth peer name "aco$id" || fail "veth"
ip link set "acn$id" netns "$node"
ip link set "aco$id" netns "$outside"
ip -n "$node" addr add "198.18.$x.1/24" dev "acn$id"
ip -n "$outside" addr add "$out_addr/24" dev "aco$id"
ip -n "$node" link set "acn$id" up
ip -n "$outside" link set "aco$id" up

SUP_WRAP=(nsenter --net="/run/netns/$node")
start_supervisor --slice-cidr "198.19.$((RANDOM % 200 + 20)).0/24" --bridge "acrc$id"
grep -q 'event=accounting_on' "$SUP_LOG" || skip "eBPF accounting is off: $(grep accounting "$SUP_LOG")"
pins=$(sed -n 's/.*event=accounting_on pins=\([^ ]*\).*/\1/p' "$SUP_LOG" | tail -1)

mib=$([ "$SLOW" = 1 ] && echo 50 || echo 10)
stat_of() { acre -j slice stat "$1" | jq -r ".[0].net$2"; }

# check NAME CLASS IPERF_JSON: CLASS's tx lies between what iperf3 received and sent * 1.05,
# the other classes carry next to nothing, and the classes add up to the totals.
check() {
	local name=$1 class=$2 json=$3 sent received tx c other
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
			fail "$name: the classes' $f do not add up to the total: $(acre -j slice stat "$name")"
	done
}

# ---- node: a slice of the same node ---------------------------------------------------
acre slice run -d --name srv --net bridge -- iperf3 -s -p 5201 >/dev/null || fail "run srv"
srv=$(slice_field srv .network.address | cut -d/ -f1)
wait_for "nsenter --net=/run/netns/$node -- python3 -c \"import socket; socket.create_connection(('$srv', 5201), 1).close()\"" 10 ||
	fail "iperf3 in srv does not listen"
acre slice run --name to-node --net bridge -- iperf3 -c "$srv" -p 5201 -n "${mib}M" -J \
	>"$TEST_DIR/node.json" || fail "iperf3 to srv: $(tail -5 "$TEST_DIR/node.json")"
check to-node node "$TEST_DIR/node.json"

# ---- outside: through NAT to the outside namespace ---------------------------------------
outside_run() { # outside_run NAME JSON
	spawn_bg nsenter --net="/run/netns/$outside" -- iperf3 -s -B "$out_addr" -p 5202 -1 >/dev/null
	wait_for "nsenter --net=/run/netns/$outside -- ss -Hltn 'sport = :5202' | grep -q ." 5 ||
		fail "the outside iperf3 does not listen"
	acre slice run --name "$1" --net bridge -- iperf3 -c "$out_addr" -p 5202 -n "${mib}M" -J \
		>"$2" || fail "iperf3 to outside: $(tail -5 "$2")"
}
outside_run to-outside "$TEST_DIR/outside.json"
check to-outside outside "$TEST_DIR/outside.json"

# ---- pool: the outside's range classed as a peer node's -------------------------------------
# Key: prefixlen 24 (little-endian u32) and 198.18.x.0; value: class 2 (pool).
bpftool map update pinned "$pins/net_class" key hex 18 00 00 00 c6 12 "$(printf %02x "$x")" 00 \
	value hex 02 00 00 00 || fail "putting the pool peer into the trie"
outside_run to-pool "$TEST_DIR/pool.json"
check to-pool pool "$TEST_DIR/pool.json"
# The slice subnet stays node: the supervisor's own entry is still there beside ours.
bpftool -j map dump pinned "$pins/net_class" | jq -e 'length == 2' >/dev/null ||
	fail "the trie: $(bpftool -j map dump pinned "$pins/net_class")"
table=$(acre slice stat to-pool)
assert_contains "${table%%$'\n'*}" "NET-NODE  NET-POOL  NET-OUTSIDE" "slice stat's columns"
assert_contains "$table" $'\nto-pool ' "slice stat"
log "test_net_class: $(($(now_ms) - t0)) ms"
