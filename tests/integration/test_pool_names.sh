#!/usr/bin/env bash
# Names across a pool: the controller and two supervisors in network
# namespaces of their own (198.18.0.0/15; the pool in 198.19.0.0/17, VIPs
# in 198.19.128.0/20), host-gw.  Each supervisor serves the pool's names on
# its own bridge gateway from the controller's net.names: a slice on node 2
# is NAME.acre on node 1 within 1 s of its running, and gone within 1 s of
# its kill; GROUP.acre holds the running members of both nodes, and its SRV
# records their named ports; a slice on node 1 reaches a slice on node 2 by
# its bare name (its /etc/resolv.conf: the gateway, search acre); a reverse
# lookup of another node's slice gives its name.  The lone-node behaviour
# (forwarding, bad input, TCP, refusals) is test_pool_dns.sh's.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require dig
"$ACRE_BIN/acre-controller" --help 2>&1 | matches -- --pool-cidr ||
	skip "this acre-controller has no pool networking (--pool-cidr)"
"$ACRE_BIN/acre-supervisor" --help 2>&1 | matches -- --node-address ||
	skip "this acre-supervisor does not join the pool's network (--node-address)"
T0=$(now_ms)

CTL_ARGS=(--node-timeout 1s --lost-after 3s)
pool_net_ctl_args host-gw
net_setup 2
make_certs
start_controller
start_node 1 --attr zone=a --resolv-conf /dev/null
start_node 2 --attr zone=b --resolv-conf /dev/null
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready")] | length'; }
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "two nodes ready: $(api GET /v1/nodes | jq -c .)"
subnet_of() { jq -r .subnet_in_use "$TEST_DIR/n$1/state/pool-net.json" 2>/dev/null; }
wait_for '[ -n "$(subnet_of 1)" ] && [ -n "$(subnet_of 2)" ]' 10 || fail "no subnets kept"
gw_of() { echo "$(subnet_of "$1" | cut -d. -f1-3).1"; }
GW1=$(gw_of 1)
GW2=$(gw_of 2)
log "gateways: node 1 $GW1, node 2 $GW2"
# q I ARGS...: dig on node I at its own gateway.
q() {
	local i=$1
	shift
	ip netns exec "acre-test-$RAND_ID-n$i" dig +time=1 +tries=1 @"$(gw_of "$i")" "$@"
}
addr_in_pool() { api GET "/v1/slices/$1" | jq -r '.address // empty'; }

# A bridged slice on each node, both in the group web with a named port; the first one
# (web-1) must run for DNS to listen: the gateway's address comes with the bridge.
run_on() { # run_on ZONE NAME
	pool slice run -d --name "$2" --net bridge --constraint "zone==$1" \
		--label acre.service=web --label acre.vip.ports=http:8080/tcp -- sleep 600 >/dev/null ||
		fail "run $2 on zone $1"
}
run_on a web-1
t=$(now_ms)
run_on b web-2
wait_for '[ -n "$(addr_in_pool web-2)" ]' 10 || fail "web-2 has no address: $(api GET /v1/slices/web-2)"
W2=$(addr_in_pool web-2)
wait_for "[ \"\$(q 1 +short web-2.acre)\" = '$W2' ]" 1 ||
	fail "web-2.acre on node 1: expected $W2 within 1 s of its address, got '$(q 1 +short web-2.acre)'"
log "web-2.acre resolved on node 1 $(($(now_ms) - t)) ms after run"
wait_for '[ -n "$(addr_in_pool web-1)" ]' 10 || fail "web-1 has no address"
W1=$(addr_in_pool web-1)
want=$(printf '%s\n' "$W1" "$W2" | sort | tr '\n' ' ')
for i in 1 2; do
	wait_for "[ \"\$(q $i +short web.acre | sort | tr '\n' ' ')\" = '$want' ]" 1 ||
		fail "web.acre on node $i: expected $want, got $(q "$i" +short web.acre | tr '\n' ' ')"
done
assert_eq "$(q 2 +short _http._tcp.web.acre SRV | sort | tr '\n' ' ')" \
	"0 10 8080 web-1.acre. 0 10 8080 web-2.acre. " "web's SRV records on node 2"
assert_eq "$(q 1 +short -x "$W2")" "web-2.acre." "the reverse name of node 2's slice on node 1"
assert_eq "$(q 1 web-9.acre | sed -n 's/.*status: \([A-Z]*\).*/\1/p')" NXDOMAIN "an unknown name"

log "a slice on node 1 finds web-2 by its bare name"
pool slice run -d --name probe --net bridge --constraint zone==a -- \
	sh -c 'getent hosts web-2; sleep 600' >/dev/null || fail "run probe"
wait_for "node_acre 1 slice logs probe | matches web-2" 10 ||
	fail "probe: $(node_acre 1 slice logs probe 2>&1)"
assert_contains "$(node_acre 1 slice logs probe)" "$W2" "web-2 from a slice on node 1"

log "killed: gone from every node within 1 s"
t=$(now_ms)
pool slice kill web-2 >/dev/null || fail "kill web-2"
wait_for "[ \"\$(q 1 web-2.acre | sed -n 's/.*status: \([A-Z]*\).*/\1/p')\" = NXDOMAIN ]" 1 ||
	fail "web-2.acre still resolves on node 1: $(q 1 +short web-2.acre)"
assert_eq "$(q 1 +short web.acre)" "$W1" "web.acre without web-2"
log "web-2.acre gone on node 1 $(($(now_ms) - t)) ms after kill"
log "test_pool_names: $(($(now_ms) - T0)) ms"
