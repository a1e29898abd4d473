#!/usr/bin/env bash
# `--unique node` on a real pool of two nodes: three slices of one app
# (label acre.app=u) go to both nodes, and the third waits pending with the
# reason (`acre why` says which slice holds each node and that three can
# never all run on two nodes); a slice of another app is not held back;
# killing one frees nothing (an instance that ended is still the
# instance), removing it lets the pending one run on its node.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init

# shellcheck disable=SC2034 # read by start_controller
CTL_ARGS=(--node-timeout 2s --lost-after 8s)

log "network, certificates, controller, two nodes"
net_setup 2
make_certs
start_controller
start_node 1 --attr zone=a
start_node 2 --attr zone=a
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready" and .schedulable)] | length'; }
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "two nodes ready: $(api GET /v1/nodes | jq -c '.nodes[] | {id, state}')"
node_of() { api GET "/v1/slices/$1" | jq -r '.node // "-"'; }
state_of() { api GET "/v1/slices/$1" | jq -r .state; }

log "bad input: --unique names an attribute"
out=$(pool slice run -d --unique 'a b' -- sleep 1 2>&1) && fail "--unique 'a b' was accepted"
assert_contains "$out" "--unique a b: node, or an attribute name"
out=$(api POST /v1/slices '{"spec": {"command": ["sleep", "1"]}, "placement": {"unique": 3}}')
assert_eq "$(last_code)" 400 "placement.unique 3: $out"
assert_contains "$out" "placement.unique"

log "three slices of app u, unique by node, on two nodes"
for i in 1 2 3; do
	out=$(pool slice run -d --name u-$i --cpus 0.1 --label acre.app=u --unique node -- sleep 1000 2>&1) ||
		fail "placing u-$i: $out"
done
wait_for '[ "$(state_of u-1)" = running ] && [ "$(state_of u-2)" = running ]' 15 ||
	fail "u-1 and u-2 do not run: $(pool -j slice list | jq -c '.[] | {name, state, node}')"
assert_eq "$(printf '%s\n%s\n' "$(node_of u-1)" "$(node_of u-2)" | sort -u | wc -l)" 2 \
	"u-1 and u-2 on different nodes (binpack alone would put them on one)"
assert_eq "$(state_of u-3)" pending "u-3: no node of its own"
reason=$(api GET /v1/slices/u-3 | jq -r .reason)
assert_contains "$reason" "unique node: each node with room" "u-3's reason"
assert_contains "$reason" "already runs a slice of app u" "u-3's reason"
assert_contains "$(pool slice show u-3)" "unique node" "slice show: the placement"

why=$(pool -j why u-3) || fail "acre why u-3: $why"
assert_eq "$(jq -c '[.nodes, .fit, (.reasons[] | select(.reason == "unique node") | .nodes)]' <<<"$why")" \
	'[2,0,2]' "why u-3: both nodes, held by unique node"
for s in u-1 u-2; do
	assert_eq "$(jq -r --arg n "$(node_of $s)" '.reasons[] | select(.reason == "unique node") |
		.examples[] | select(.node == $n) | .detail' <<<"$why")" \
		"node.id=$(node_of $s) already runs $s" "why u-3: the node of $s"
done
assert_eq "$(jq -c .unique <<<"$why")" '{"attr":"node.id","values":2,"slices":3}' "why u-3: unique"
assert_contains "$(jq -r '.suggestions | join("\n")' <<<"$why")" \
	"3 slices of app u are unique by node, and the nodes they may use have 2 values of node.id: at most 2 can ever run"
assert_contains "$(pool why u-3)" "unique node" "acre why, the table"

log "another app is counted apart; the plain label app is the fallback"
out=$(pool slice run -d --name v-1 --cpus 0.1 --label app=v --unique node -- sleep 1000 2>&1) ||
	fail "placing v-1: $out"
wait_for '[ "$(state_of v-1)" = running ]' 15 || fail "v-1 does not run: $(api GET /v1/slices/v-1)"

log "killed, u-1 still holds its node; removed, u-3 runs there"
U1_NODE=$(node_of u-1)
pool slice kill u-1 >/dev/null || fail "killing u-1"
wait_for '[ "$(state_of u-1)" = killed ]' 15 || fail "u-1 not killed: $(api GET /v1/slices/u-1)"
sleep "$(scaled 1)"
assert_eq "$(state_of u-3)" pending "u-3 waits while killed u-1 is still there"
pool slice rm u-1 >/dev/null || fail "removing u-1"
wait_for '[ "$(state_of u-3)" = running ]' 15 ||
	fail "u-3 not placed once u-1 was removed: $(api GET /v1/slices/u-3)"
assert_eq "$(node_of u-3)" "$U1_NODE" "u-3 took the node u-1 left"
assert_eq "$(node_acre "$([ "$U1_NODE" = "$(node_id 1)" ] && echo 1 || echo 2)" -j slice list |
	jq -r '[.[] | select(.name == "u-3") | .state] | .[0]')" running "u-3 runs on that node, as it says"

log "restarted, the controller counts the same"
kill_controller
start_controller
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "nodes back after the restart"
out=$(pool slice run -d --name u-4 --cpus 0.1 --label acre.app=u --unique node -- sleep 1000 2>&1) ||
	fail "placing u-4: $out"
sleep "$(scaled 1)"
assert_eq "$(state_of u-4)" pending "u-4: both nodes still held after a restart"

pool slice rm --force u-2 u-3 u-4 v-1 >/dev/null || fail "removing the slices"
log "ok"
