#!/usr/bin/env bash
# Slices on different nodes reach each other by address, through the routes
# the supervisors install from the controller's net.peers.  Nodes 1, 2 and
# 3 share segment A (with the controller), node 4 is on segment B behind a
# router namespace.  With host-gw, a slice on node 1 reaches a slice on
# node 2 (its own address arriving: no NAT inside the pool), each node holds
# a route (proto 172) to every other reachable node's subnet via its
# address, forwarding is on and logged, and node 4 (not on node 1's
# segment) is refused with a clear error; a pool slice's address reaches
# the controller; `kill -9` of a supervisor and a restart keeps its routes
# (the kernel's, reconciled, not duplicated) and its subnet (from the state
# directory, before the controller answers).  The controller then restarts
# with --overlay vxlan (subnets stay): every node gets a VXLAN device (MTU
# less 50) with forwarding and neighbour entries for the others, and a
# slice on node 1 reaches a slice on node 4 across the router.  Node 3,
# started alone meanwhile, keeps serving its bridged slice's address from
# its own --slice-cidr and takes the pool's subnet when that slice ends.
# Node 4 leaves (kill -9, then down) while node 2's supervisor is down too:
# node 1 removes its route and entries when told, node 2 when it restarts
# and reconciles the full table with what its kernel kept.  A clean stop keeps the routes while slices are left and
# removes them (and the VXLAN device) with none.  Names come from DNS's own
# test; here, addresses.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require bridge ss
"$ACRE_BIN/acre-controller" --help 2>&1 | matches -- --pool-cidr ||
	skip "this acre-controller has no pool networking (--pool-cidr)"
T0=$(now_ms)

log "bad node flags are refused, naming them"
for bad in "--node-address 198.18.5" "--node-address 0.0.0.0" "--net-capacity fast" "--net-capacity 0"; do
	# shellcheck disable=SC2086 # the flag and its value
	out=$("$ACRE_BIN/acre-supervisor" $bad 2>&1) && fail "acre-supervisor $bad was accepted"
	assert_contains "$out" "${bad%% *}" "acre-supervisor $bad"
done

CTL_ARGS=(--node-timeout 1s --lost-after 3s)
pool_net_ctl_args host-gw

log "two segments and a router; controller; three supervisors"
net_setup_routed 3 1
make_certs
start_controller
for i in 1 2 4; do start_node "$i" --attr "n=$i"; done
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready")] | length'; }
wait_for '[ "$(ready_nodes)" = 3 ]' 15 || fail "three nodes ready: $(api GET /v1/nodes | jq -c '[.nodes[] | {id, state}]')"
N4=$(node_id 4)
declare -A NODE_OF_ID=([$(node_id 1)]=1 [$(node_id 2)]=2 [$N4]=4)
A1=$(node_addr 1)
A2=$(node_addr 2)
A4=$(node_addr 4)

# The subnet each node took from the controller's reply, as it keeps it.
subnet_of() { jq -r .subnet_in_use "$TEST_DIR/n$1/state/pool-net.json" 2>/dev/null; }
wait_for '[ -n "$(subnet_of 1)" ] && [ -n "$(subnet_of 2)" ] && [ -n "$(subnet_of 4)" ]' 10 ||
	fail "the nodes did not keep a subnet from the controller"
S1=$(subnet_of 1)
S2=$(subnet_of 2)
S4=$(subnet_of 4)
log "subnets: $S1 $S2 $S4"
for s in "$S1" "$S2" "$S4"; do
	case $s in 198.19.*/24) ;; *) fail "subnet $s is not a /24 of --pool-cidr 198.19.0.0/17" ;; esac
	[ "$(echo "$s" | cut -d. -f3)" -lt 128 ] || fail "subnet $s is outside 198.19.0.0/17"
done
[ "$(printf '%s\n' "$S1" "$S2" "$S4" | sort -u | wc -l)" = 3 ] || fail "subnets not distinct"
net_of() { echo "${1%/*}"; }
# since_start I: node I's log since its supervisor last started.
since_start() { awk '/^=== /{buf = ""} {buf = buf $0 "\n"} END {printf "%s", buf}' "$TEST_DIR/n$1/supervisor.log"; }
prefix3() { echo "$1" | cut -d. -f1-3; }

# ---- host-gw ------------------------------------------------------------------------------

log "host-gw: routes to the other node of the segment, forwarding on"
wait_for 'node_routes 1 | matches "^$S2 via $A2"' 5 || fail "node 1 has no route to $S2: $(node_routes 1)"
wait_for 'node_routes 2 | matches "^$S1 via $A1"' 5 || fail "node 2 has no route to $S1: $(node_routes 2)"
for i in 1 2 4; do
	assert_eq "$(ip netns exec "acre-test-$RAND_ID-n$i" sysctl -n net.ipv4.ip_forward)" 1 \
		"IPv4 forwarding on node $i"
	grep -q "event=ip_forwarding sysctl=net.ipv4.ip_forward value=1" "$TEST_DIR/n$i/supervisor.log" ||
		fail "node $i did not say it turned forwarding on"
	grep -q "event=pool_network overlay=host-gw subnet=$(subnet_of "$i")" "$TEST_DIR/n$i/supervisor.log" ||
		fail "node $i did not log its overlay and subnet"
done
node_routes 1 | matches "^$S4 " && fail "host-gw route to $S4 across the router: $(node_routes 1)"
wait_for "grep -q 'host-gw needs the nodes on one L2 segment' '$TEST_DIR/n1/supervisor.log'" 5 ||
	fail "node 1 did not say why node 4 is unreachable with host-gw"

log "a slice on node 1 reaches a slice on node 2 by address"
node_acre 2 slice run -d --net bridge --name web2 -- python3 -c "$(echo_server_py web2)" >/dev/null ||
	fail "starting web2"
W2=$(node_acre 2 -j slice show web2 | jq -r .network.address | cut -d/ -f1)
[ "$(prefix3 "$W2")" = "$(prefix3 "$(net_of "$S2")")" ] || fail "web2's address $W2 is not in $S2"
wait_for "nsenter --net=/run/netns/acre-test-$RAND_ID-n1 -- curl -sf -m 1 http://$W2:8080/ >/dev/null" 10 ||
	fail "node 1 does not reach $W2"
out=$(node_acre 1 slice run --net bridge --rm -- curl -s -m 3 "http://$W2:8080/")
assert_contains "$out" "web2: $(prefix3 "$(net_of "$S1")")." "slice on node 1 -> web2, its own address seen"

log "a pool slice's address reaches the controller in its node's reports"
pool slice run -d --net bridge --name pweb -- python3 -c "$(echo_server_py pweb)" >/dev/null ||
	fail "placing pweb"
wait_for '[ "$(api GET /v1/slices/pweb | jq -r .state)" = running ]' 10 || fail "pweb not running"
pnode=${NODE_OF_ID[$(api GET /v1/slices/pweb | jq -r .node)]:-}
[ -n "$pnode" ] || fail "pweb placed on no node of ours"
PW=$(node_acre "$pnode" -j slice show pweb | jq -r .network.address | cut -d/ -f1)
wait_for '[ "$(api GET /v1/slices/pweb | jq -r .address)" = "$PW" ]' 5 ||
	fail "the controller has pweb at $(api GET /v1/slices/pweb | jq -r .address), node $pnode at $PW"
pool slice rm --force pweb >/dev/null || fail "removing pweb"

log "acre node local shows overlay, subnet and routes"
view=$(node_acre 1 -j node local)
assert_eq "$(echo "$view" | jq -r .network.overlay)" host-gw "node local: overlay"
assert_eq "$(echo "$view" | jq -r .network.subnet)" "$S1" "node local: subnet"
assert_eq "$(echo "$view" | jq -r --arg d "$S2" '.network.routes[] | select(.dst == $d) | .via')" "$A2" \
	"node local: route to $S2"
assert_contains "$(node_acre 1 node local)" "$S2" "node local as a table"

log "kill -9 of supervisor 1 and a restart keep its routes and subnet"
before=$(node_routes 1)
count=$(ip -n "acre-test-$RAND_ID-n1" route show proto 172 | wc -l)
kill_node 1
assert_eq "$(node_routes 1)" "$before" "routes kept while the supervisor is down"
start_node 1
grep -q "event=pool_network_restored subnet=$S1" "$TEST_DIR/n1/supervisor.log" ||
	fail "node 1 did not come back with its subnet from the state directory"
wait_for "[ \$(grep -c 'event=pool_peers full=true' '$TEST_DIR/n1/supervisor.log') -ge 2 ]" 10 ||
	fail "node 1 got no full table after its restart"
assert_eq "$(node_routes 1)" "$before" "routes after the restart"
assert_eq "$(ip -n "acre-test-$RAND_ID-n1" route show proto 172 | wc -l)" "$count" "no route duplicated"
out=$(node_acre 1 slice run --net bridge --rm -- curl -s -m 3 "http://$W2:8080/")
assert_contains "$out" "web2: $(prefix3 "$(net_of "$S1")")." "slice on node 1 -> web2 after the restart"

# ---- vxlan ---------------------------------------------------------------------------------

log "the controller again, with --overlay vxlan: subnets stay, VXLAN devices come"
kill_controller
# Meanwhile node 3 starts for the first time: alone, its bridged slice gets an address
# from its own --slice-cidr, which it keeps when the pool gives the node another subnet.
start_node 3 --node-address "$(node_addr 3)" --net-capacity 5gbit
node_acre 3 slice run -d --net bridge --name early -- python3 -c "$(echo_server_py early)" >/dev/null ||
	fail "starting early"
EARLY=$(node_acre 3 -j slice show early | jq -r .network.address | cut -d/ -f1)
case $EARLY in 198.19.250.*) ;; *) fail "early has $EARLY, not an address of --slice-cidr" ;; esac
CTL_ARGS=(--node-timeout 1s --lost-after 3s)
pool_net_ctl_args vxlan
start_controller
for i in 1 2 4; do
	wait_for "grep -q 'event=pool_network overlay=vxlan' '$TEST_DIR/n$i/supervisor.log'" 30 ||
		fail "node $i did not take the vxlan overlay"
	assert_eq "$(subnet_of "$i")" "$(eval echo "\$S$i")" "node $i keeps its subnet"
done
wait_for 'node_routes 1 | matches "^$S4 via $(net_of "$S4") acre0.vx"' 10 ||
	fail "node 1 has no VXLAN route to $S4: $(node_routes 1)"
wait_for 'node_routes 4 | matches "^$S1 via $(net_of "$S1") acre0.vx"' 10 ||
	fail "node 4 has no VXLAN route to $S1: $(node_routes 4)"
node_routes 1 | matches "via $A2" && fail "a host-gw route is left: $(node_routes 1)"
assert_contains "$(ip -n "acre-test-$RAND_ID-n1" link show acre0.vx)" "mtu 1450" "VXLAN MTU is eth0's less 50"
vx=$(ip -n "acre-test-$RAND_ID-n1" -d link show acre0.vx)
assert_contains "$vx" "vxlan id 7470" "VNI"
assert_contains "$vx" "dstport 4789" "VXLAN port"
assert_contains "$vx" "nolearning" "learning off"
fdb1=$(node_fdb 1)
assert_contains "$fdb1" "00:00:00:00:00:00 $A4" "node 1 floods to node 4"
[ "$(echo "$fdb1" | grep -c " $A4\$")" = 2 ] || fail "node 1's entries for node 4: $fdb1"
vtep4=$(echo "$fdb1" | grep " $A4\$" | grep -v '^00:00' | cut -d' ' -f1)
assert_contains "$(ip -n "acre-test-$RAND_ID-n1" neigh show dev acre0.vx)" \
	"$(net_of "$S4") lladdr $vtep4 PERMANENT" "node 1's neighbour entry for node 4"

log "node 3 keeps serving its slice's old address, and takes the pool's subnet once it ends"
wait_for "grep -q 'event=pool_subnet_waiting' '$TEST_DIR/n3/supervisor.log'" 30 ||
	fail "node 3 did not say its subnet waits: $(grep pool_ "$TEST_DIR/n3/supervisor.log" | tail -3)"
view=$(node_acre 3 -j node local)
assert_eq "$(echo "$view" | jq -r .network.subnet)" 198.19.250.0/24 "node 3 still uses its own subnet"
S3=$(echo "$view" | jq -r .network.subnet_waiting)
case $S3 in 198.19.*/24) ;; *) fail "node 3 shows no subnet waiting: $view" ;; esac
out=$(nsenter --net="/run/netns/acre-test-$RAND_ID-n3" -- curl -s -m 3 "http://$EARLY:8080/")
assert_contains "$out" "early: " "the slice with the old address still answers"
node_acre 3 slice rm --force early >/dev/null || fail "removing early"
wait_for "grep -q 'event=pool_subnet_adopted subnet=$S3' '$TEST_DIR/n3/supervisor.log'" 10 ||
	fail "node 3 did not take $S3 when its last slice ended"
assert_eq "$(subnet_of 3)" "$S3" "node 3 keeps the pool's subnet in its state directory"
n3=$(api GET "/v1/nodes/$(node_id 3)")
assert_eq "$(echo "$n3" | jq -r .capacity.net)" 5000000000 "--net-capacity 5gbit in the pool"
assert_eq "$(echo "$n3" | jq -r '.network.address // .address')" "$(node_addr 3)" "--node-address in the pool"
n1=$(api GET "/v1/nodes/$(node_id 1)")
assert_eq "$(echo "$n1" | jq -r .capacity.net)" 10000000000 "node 1's capacity is its link's speed (veth: 10gbit)"
vxaddr=$(ip -n "acre-test-$RAND_ID-n3" -4 -o addr show dev acre0.vx | awk '{print $4}')
assert_eq "$vxaddr" "$(net_of "$S3")/32" "node 3's VXLAN-side address moved with its subnet"
node_acre 3 slice run -d --net bridge --name web3 -- python3 -c "$(echo_server_py web3)" >/dev/null ||
	fail "starting web3"
W3=$(node_acre 3 -j slice show web3 | jq -r .network.address | cut -d/ -f1)
[ "$(prefix3 "$W3")" = "$(prefix3 "$(net_of "$S3")")" ] || fail "web3 has $W3, not an address in $S3"
wait_for "nsenter --net=/run/netns/acre-test-$RAND_ID-n1 -- curl -sf -m 1 http://$W3:8080/ >/dev/null" 10 ||
	fail "node 1 does not reach $W3 in node 3's new subnet"

log "a slice on node 1 reaches a slice on node 4 across the router"
node_acre 4 slice run -d --net bridge --name web4 -- python3 -c "$(echo_server_py web4)" >/dev/null ||
	fail "starting web4"
W4=$(node_acre 4 -j slice show web4 | jq -r .network.address | cut -d/ -f1)
wait_for "nsenter --net=/run/netns/acre-test-$RAND_ID-n1 -- curl -sf -m 1 http://$W4:8080/ >/dev/null" 10 ||
	fail "node 1 does not reach $W4 over vxlan"
out=$(node_acre 1 slice run --net bridge --rm -- curl -s -m 3 "http://$W4:8080/")
assert_contains "$out" "web4: $(prefix3 "$(net_of "$S1")")." "slice on node 1 -> web4 over vxlan"
out=$(node_acre 2 slice run --net bridge --rm -- curl -s -m 3 "http://$W2:8080/")
assert_contains "$out" "web2: $(prefix3 "$(net_of "$S2")")." "a slice reaches its own node's slice"
out=$(node_acre 4 slice run --net bridge --rm -- curl -s -m 3 "http://$W2:8080/")
assert_contains "$out" "web2: $(prefix3 "$(net_of "$S4")")." "slice on node 4 -> web2 over vxlan"

log "and by name over vxlan: a pool slice on node 4 is web4p.acre to a pool slice on node 1"
pool slice run -d --net bridge --name web4p --constraint n==4 -- \
	python3 -c "$(echo_server_py web4p)" >/dev/null || fail "starting web4p"
pool slice run -d --net bridge --name probe1 --constraint n==1 -- sh -c \
	'for i in $(seq 50); do curl -s -m 1 http://web4p:8080/ && break; sleep 0.2; done; sleep 600' \
	>/dev/null || fail "starting probe1"
wait_for "node_acre 1 slice logs probe1 | matches 'web4p: '" 15 ||
	fail "probe1 on node 1 did not reach web4p by name: $(node_acre 1 slice logs probe1 2>&1 | tail -3)"
assert_contains "$(node_acre 1 slice logs probe1)" "web4p: $(prefix3 "$(net_of "$S1")")." \
	"web4p by its name from node 1, over vxlan, the client's own address seen"
pool slice rm --force web4p >/dev/null
pool slice rm --force probe1 >/dev/null

log "node 4 leaves while node 2's supervisor is down: node 1 is told, node 2 reconciles"
no_trace_of_4() { # I
	! node_routes "$1" | matches "^$S4 " && ! node_fdb "$1" | matches " $A4\$" &&
		! ip -n "acre-test-$RAND_ID-n$1" neigh show dev acre0.vx | matches "^$(net_of "$S4") "
}
kill_node 2
kill_node 4
wait_for "[ \"\$(api GET /v1/nodes/$N4 | jq -r .state)\" = down ]" 15 || fail "node 4 not down"
wait_for "no_trace_of_4 1" 5 ||
	fail "node 1 keeps node 4's route or entries: $(node_routes 1) / $(node_fdb 1)"
node_routes 2 | matches "^$S4 " || fail "node 2's kernel lost node 4's route with no supervisor"
start_node 2
wait_for "since_start 2 | matches 'event=pool_reconciled'" 20 ||
	fail "node 2 did not reconcile after its restart"
wait_for "no_trace_of_4 2" 5 ||
	fail "node 2 keeps node 4's route or entries: $(node_routes 2) / $(node_fdb 2)"
assert_contains "$(since_start 2 | grep 'event=pool_reconciled' | tail -1)" \
	"stale_removed=4" "node 4's route, two forwarding entries and neighbour entry"
wait_for 'node_routes 1 | matches "^$S2 via $(net_of "$S2") acre0.vx"' 20 ||
	fail "node 1 has no route to node 2 again: $(node_routes 1)"
wait_for "nsenter --net=/run/netns/acre-test-$RAND_ID-n1 -- curl -sf -m 1 http://$W2:8080/ >/dev/null" 10 ||
	fail "node 1 does not reach web2 again"
out=$(node_acre 1 slice run --net bridge --rm -- curl -s -m 3 "http://$W2:8080/")
assert_contains "$out" "web2: " "node 1 still reaches node 2"

log "a clean stop: with slices left the routes stay, with none they go"
stop_node 2
node_routes 2 | matches "^$S1 " || fail "node 2 stopped with web2 running and lost its routes"
out=$(node_acre 1 slice run --net bridge --rm -- curl -s -m 3 "http://$W2:8080/")
assert_contains "$out" "web2: " "web2 still reached while its supervisor is stopped"
node_acre 3 slice rm --force web3 >/dev/null || fail "removing web3"
stop_node 3
[ -z "$(node_routes 3)" ] || fail "node 3 stopped with no slice and kept routes: $(node_routes 3)"
ip -n "acre-test-$RAND_ID-n3" link show acre0.vx >/dev/null 2>&1 &&
	fail "node 3 stopped with no slice and kept its VXLAN device"
grep -q "event=pool_routes_removed" "$TEST_DIR/n3/supervisor.log" || fail "node 3 did not say so"

log "passed in $(($(now_ms) - T0)) ms"
