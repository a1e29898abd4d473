#!/usr/bin/env bash
# Host binaries as node attributes: a slice whose placement asks for
# bin:PATH==true makes the controller ask the nodes (binaries.check); the
# node that has PATH as an executable answers so and gets the attribute
# bin:PATH=true, and the slice runs there; a binary no node has leaves its
# slice pending (not refused: it may be installed), and `why` names the
# constraint; once the binary appears and a node registers again (a
# reconnect re-checks), the slice runs there.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require jq

log "network, certificates, controller, two nodes"
net_setup 2
make_certs
CTL_ARGS=(--node-timeout 2s --lost-after 60s)
pool_net_ctl_args
start_controller
start_node 1
start_node 2
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 2 ]' 15 ||
	fail "two nodes ready: $(api GET /v1/nodes | jq -c '.nodes[] | {id, state}')"
N1=$(node_id 1)

# A script of the test's at a path of its own, not executable at first.  The nodes share the
# host's filesystem: when it becomes executable, the node that reconnects re-checks and gets
# the attribute, the other keeps its first answer.
bin=$TEST_DIR/bin-n1/tool
mkdir -p "$(dirname "$bin")"
printf '#!/bin/sh\necho tool\n' >"$bin"
chmod 644 "$bin" # not yet executable: absent everywhere

attr_of() { api GET "/v1/nodes/$1" | jq -r --arg k "bin:$2" '.attributes[$k] // "none"'; }

log "a binary every node has: asked, answered, placed"
out=$(api POST /v1/slices '{"spec": {"name": "sh-1", "command": ["sleep", "600"]},
	"placement": {"constraints": ["bin:/bin/sh==true"]}}')
assert_eq "$(last_code)" 201 "a slice that needs /bin/sh: $out"
wait_for '[ "$(api GET /v1/slices/sh-1 | jq -r .state)" = running ]' 15 ||
	fail "sh-1 not running: $(api GET /v1/slices/sh-1 | jq -c '{state, reason}')"
for n in 1 2; do
	assert_eq "$(attr_of "$(node_id $n)" /bin/sh)" true "node $n's bin:/bin/sh"
done

log "a binary no node has: pending, why names it, not refused"
out=$(api POST /v1/slices "{\"spec\": {\"name\": \"tool-1\", \"command\": [\"$bin\"]},
	\"placement\": {\"constraints\": [\"bin:$bin==true\"]}}")
assert_eq "$(last_code)" 201 "a slice that needs a binary no node has: $out"
sleep 1
assert_eq "$(api GET /v1/slices/tool-1 | jq -r .state)" pending "tool-1"
assert_eq "$(attr_of "$N1" "$bin")" none "node 1's bin:$bin before it is executable"
why=$(api GET /v1/why/slice/tool-1)
assert_contains "$why" "bin:$bin==true" "why names the constraint"

log "the binary appears; node 1 registers again: re-checked, placed there"
chmod 755 "$bin"
stop_node 1
start_node 1
wait_for '[ "$(api GET /v1/slices/tool-1 | jq -r .node)" = "'"$N1"'" ]' 20 ||
	fail "tool-1 not placed on node 1: $(api GET /v1/slices/tool-1 | jq -c '{state, reason, node}')"
assert_eq "$(attr_of "$N1" "$bin")" true "node 1's bin:$bin after it reconnected"
assert_eq "$(attr_of "$(node_id 2)" "$bin")" none "node 2's bin:$bin"

log "a node declares no bin: attribute of its own"
out=$("$ACRE_BIN/acre-supervisor" --controller 127.0.0.1:1 --join-token x --attr bin:/x=true 2>&1) &&
	fail "a supervisor declared bin:/x"
assert_contains "$out" "node.* and bin:* are the pool's"
log "test_pool_binaries: done"
