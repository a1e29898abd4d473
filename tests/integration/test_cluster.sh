#!/usr/bin/env bash
# A pool of three nodes on this machine: the controller on a test bridge
# (198.18.S.1, TLS with a test CA, mutual) and three supervisors, each in a
# network namespace of its own with its own cgroup root and state
# directory.  It places 30 real slices and checks binpack, spread (the
# strategy and --spread over an attribute) and constraints; a slice that
# fits nowhere waits pending (`acre why` names each node's reason and the
# change that would let it run) and is placed when room appears; `slice list
# -j` and `slice show -j` have the same keys from a node and from the pool,
# and `--label` keeps the same slices on both; bad input on both ports gets
# clear errors and changes nothing; a kill's --signal, by name or number,
# reaches the task alike through the pool, the API and a node's own socket;
# a supervisor killed is
# unreachable within --node-timeout, and its slices are handled as their
# restart policy says; back in time, it is reconciled both ways; back too
# late, its stale slices are removed; `kill -9` of the controller while
# slices are being placed loses none it acknowledged, and duplicates none;
# the event log (/v1/events as Server-Sent Events, `acre events`) holds
# every event in strictly increasing seq, filters by type and label on
# the server, resumes across a kill -9 with no gap and no duplicate, and
# says `lagged` when asked for what --events-max no longer keeps;
# `promtool check metrics` accepts /metrics.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require promtool

NODE_TIMEOUT=2
LOST_AFTER=8
CTL_ARGS=(--node-timeout "${NODE_TIMEOUT}s" --lost-after "${LOST_AFTER}s")

log "network, certificates, controller"
net_setup 3
make_certs
start_controller

log "three supervisors, each in its namespace"
start_node 1 --attr zone=a --attr rack=r1 --attr disk=ssd
start_node 2 --attr zone=b --attr rack=r1 --attr disk=hdd
start_node 3 --attr zone=c --attr rack=r2 --attr disk=ssd
# Ready and taking slices (a cordoned node: ready and connected).
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready" and (.schedulable or (.cordoned and .connected)))] | length'; }
wait_for '[ "$(ready_nodes)" = 3 ]' 15 || fail "three nodes ready: $(api GET /v1/nodes | jq -c '.nodes[] | {id, state, connected}')"
N1=$(node_id 1)
N2=$(node_id 2)
N3=$(node_id 3)
declare -A NODE_OF_ID=([$N1]=1 [$N2]=2 [$N3]=3)
node_of() { api GET "/v1/slices/$1" | jq -r '.node // "-"'; }
nodes_of() { pool -j slice list | jq -r --arg p "$1" '[.[] | select(.name | startswith($p)) | .node] | .[]'; }
distinct() { sort -u | grep -c .; }

# ---- bad input: clear errors, nothing changed, still serving --------------------------------

log "plain TCP only on loopback"
out=$("$ACRE_BIN/acre-controller" --data-dir "$TEST_DIR/insecure" --insecure \
	--node-listen "$CTL_ADDR:$NODE_PORT" --api-listen 127.0.0.1:0 \
	--join-token-file "$TEST_DIR/join-token" --api-token-file "$TEST_DIR/api-token" 2>&1) &&
	fail "--insecure on $CTL_ADDR was accepted"
assert_contains "$out" "only a loopback address"
for bad in "--events-max 0" "--events-max ten" "--events-max-age 0s" "--events-max-age 3x"; do
	# shellcheck disable=SC2086 # the flag and its value
	out=$("$ACRE_BIN/acre-controller" --data-dir "$TEST_DIR/badflags" $bad 2>&1) &&
		fail "acre-controller $bad was accepted"
	assert_contains "$out" "${bad%% *}" "acre-controller $bad"
done

log "bad input on the node port"
out=$(node_port_say @LONG:1200000 '{"op":"heartbeat","id":8}')
assert_contains "$out" '"code":"too_long"' "a line over 1 MiB"
out=$(node_port_say 'this is not json')
assert_contains "$out" '"code":"protocol"' "garbage before registering"
assert_contains "$out" "<closed>" "garbage before registering closes the connection"
out=$(node_port_say '{"op":"register","id":1,"token":"wrong-token-0000000000","node":{"id":"intruder","secret":"00000000000000000000000000000000","capacity":{"cpus":1,"memory":1000000}}}')
assert_contains "$out" "wrong join token"
out=$(node_port_say "{\"op\":\"register\",\"id\":1,\"token\":\"$(cat "$TEST_DIR/join-token")\",\"node\":{\"id\":\"$N1\",\"secret\":\"0123456789abcdef0123456789abcdef\",\"capacity\":{\"cpus\":64,\"memory\":1000000}}}")
assert_contains "$out" "belongs to another node" "a supervisor claiming another's id"
out=$(node_port_say '{"op":"heartbeat","id":7}')
assert_contains "$out" "heartbeat before register"
out=$(node_port_say "{\"op\":\"register\",\"id\":1,\"token\":\"$(cat "$TEST_DIR/join-token")\",\"node\":{\"id\":\"probe-1\",\"secret\":\"0123456789abcdef0123456789abcdef\",\"capacity\":{\"cpus\":\"many\",\"memory\":1}}}")
assert_contains "$out" "capacity" "a malformed registration"
reg() { # reg ID PROTOCOL_MIN PROTOCOL: a registration of a node speaking that range
	printf '{"op":"register","id":1,"token":"%s","protocol_min":%s,"protocol":%s,"node":{"id":"%s","secret":"0123456789abcdef0123456789abcdef","capacity":{"cpus":1,"memory":1000000}}}' \
		"$(cat "$TEST_DIR/join-token")" "$2" "$3" "$1"
}
out=$(node_port_say "$(reg probe-2 2 3)")
assert_contains "$out" "this node speaks 2 to 3, this side 1 to 1: upgrade the controller" \
	"a node of protocols the controller does not speak"
# A node a release newer (protocol 1 and 2) joins, speaking 1.
out=$(node_port_say "$(reg probe-new 1 2)")
assert_contains "$out" '"protocol":1' "the version chosen for a newer node"
assert_contains "$out" '"ok":true' "a newer node registered"
wait_for '[ "$(api GET /v1/nodes/probe-new | jq -r .connected)" = false ]' 5 || fail "probe-new still connected"
api DELETE "/v1/nodes/probe-new?force=1" >/dev/null || fail "removing probe-new"
n1=$(api GET "/v1/nodes/$N1")
assert_eq "$(echo "$n1" | jq -r .connected)" true "node 1 kept its connection"
assert_eq "$(echo "$n1" | jq -r .capacity.cpus)" "$(nproc)" "node 1's capacity untouched"
assert_eq "$(api GET /v1/nodes | jq '.nodes | length')" 3 "no node was added by bad input"
metrics=$(api GET /metrics)
grep -q '^acre_controller_registrations_refused_total [1-9]' <<<"$metrics" ||
	fail "metrics: refused registrations are counted"

log "bad input on the API"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$CONTROLLER/v1/nodes")
assert_eq "$code" 401 "a wrong token"
code=$(curl -s -o /dev/null -w '%{http_code}' "$CONTROLLER/v1/pool")
assert_eq "$code" 401 "no token"
out=$(api POST /v1/slices '{"spec": {"command": ["true"]')
assert_eq "$(last_code)" 400 "a truncated body"
assert_contains "$out" "invalid JSON"
out=$(api POST /v1/slices '{"spec": {"command": ["true"], "resources": {"memory": "12Q"}}}')
assert_eq "$(last_code)" 400 "a bad spec"
assert_contains "$out" '"field":"resources.memory"'
out=$(pool slice run --cpus 64 -- sleep 1 2>&1) && fail "a slice larger than any node was accepted"
assert_contains "$out" "more than any node has"
out=$(pool slice run --constraint zone==mars -- sleep 1 2>&1) && fail "an impossible constraint was accepted"
assert_contains "$out" "matches the placement's constraints"
api GET /v1/nodes/no-such-node >/dev/null
assert_eq "$(last_code)" 404 "an unknown node id"
out=$(api GET /v1/no/such/thing)
assert_eq "$(last_code)" 404 "an unknown path"
assert_eq "$(echo "$out" | jq -r .error.code)" not_found "an unknown path's error, as JSON"
headers=$(curl -s -D - -o "$TEST_DIR/405.json" -X PUT -H "Authorization: Bearer $API_TOKEN" \
	"$CONTROLLER/v1/slices" | tr -d '\r')
assert_contains "$headers" " 405 " "a method the path does not take"
assert_eq "$(grep -i '^allow:' <<<"$headers")" "Allow: GET, POST" "405 names the methods that would do"
assert_contains "$(jq -r .error.message "$TEST_DIR/405.json")" "not allowed" "405's error, as JSON"
api DELETE /v1/nodes >/dev/null
assert_eq "$(last_code)" 405 "DELETE of the node list"
for q in since=abc since=-1 type=Slice label=novalue color=red; do
	out=$(api GET "/v1/events?$q")
	assert_eq "$(last_code) $(jq -r .error.code <<<"$out")" "400 invalid" "GET /v1/events?$q"
	assert_eq "$(jq -r .error.field <<<"$out")" "${q%%=*}" "GET /v1/events?$q names the parameter"
done
out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $API_TOKEN" -H 'Last-Event-ID: x1' \
	"$CONTROLLER/v1/events")
assert_eq "${out##*$'\n'}" 400 "a malformed Last-Event-ID"
assert_eq "$(jq -r .error.field <<<"${out%$'\n'*}")" Last-Event-ID "a malformed Last-Event-ID is named"
assert_eq "$(api GET /v1/pool | jq .slices.total)" 0 "nothing was created by bad input"

# ---- 30 slices: spread, --spread, constraints, binpack, policies ---------------------------

log "an event stream, then placing 30 slices"
spawn_bg curl -sN -H "Authorization: Bearer $API_TOKEN" "$CONTROLLER/v1/events" -o "$TEST_DIR/events"
wait_for 'grep -q "^event: live" "$TEST_DIR/events"' 5 || fail "no event stream"
for i in 1 2 3; do
	pool slice run -d --name spr-$i --cpus 0.1 --strategy spread -- sleep 1000 >/dev/null ||
		fail "placing spr-$i"
done
assert_eq "$(nodes_of spr- | distinct)" 3 "--strategy spread: one slice on each node"

for i in 1 2 3 4 5 6; do
	pool slice run -d --name web-$i --cpus 0.1 --label app=web --spread zone -- sleep 1000 \
		>/dev/null || fail "placing web-$i"
done
for n in "$N1" "$N2" "$N3"; do
	assert_eq "$(nodes_of web- | grep -c "^$n$")" 2 "--spread zone: two web slices in each zone"
done

log "labels as data: ?label=K=V"
web_names="web-1 web-2 web-3 web-4 web-5 web-6"
by_label() { api GET "/v1/slices?$1" | jq -r '[.slices[].name] | join(" ")'; }
assert_eq "$(by_label 'label=app=web')" "$web_names" "?label=app=web: the web slices, in creation order"
assert_eq "$(by_label 'label=app=web&label=app=db')" "" "two labels: every one must match"
assert_eq "$(by_label 'label=app=web&limit=2&after=0')" "web-1 web-2" "?label= with a page"
assert_eq "$(api GET '/v1/slices?label=app=web&spec=1' | jq -r '.slices[0].labels.app')" web \
	"?label= with the specs"
api GET '/v1/slices?label=novalue' >/dev/null
assert_eq "$(last_code)" 400 "a label filter without ="

for i in 1 2 3 4; do
	pool slice run -d --name inb-$i --cpus 0.1 --constraint zone==b -- sleep 1000 >/dev/null ||
		fail "placing inb-$i"
	pool slice run -d --name r2-$i --cpus 0.1 --constraint 'rack != r1' -- sleep 1000 \
		>/dev/null || fail "placing r2-$i"
done
assert_eq "$(nodes_of inb- | sort -u)" "$N2" "--constraint zone==b"
assert_eq "$(nodes_of r2- | sort -u)" "$N3" "--constraint rack!=r1"

# Node 3 takes the slices of the failure tests: three restart always (on an ssd node:
# binpack picks node 3, the fuller of the two, and node 1 can take them later), three never.
for i in 1 2 3; do
	pool slice run -d --name keep-$i --cpus 0.1 --restart always --constraint disk==ssd \
		-- sleep 1000 >/dev/null || fail "placing keep-$i"
	pool slice run -d --name once-$i --cpus 0.1 --constraint zone==c -- sleep 1000 \
		>/dev/null || fail "placing once-$i"
done
assert_eq "$(nodes_of keep- | sort -u)" "$N3" "binpack among the ssd nodes: the fuller one"

# binpack (the default): the fullest node that fits, until it is full.  Node 2 is the fuller
# of the two outside zone c (0.7 CPUs reserved against 0.3); 4 x 0.3 fill it to 1.9.
for i in 1 2 3 4; do
	pool slice run -d --name bin-$i --cpus 0.3 --constraint zone!=c -- sleep 1000 >/dev/null ||
		fail "placing bin-$i"
done
assert_eq "$(nodes_of bin- | sort -u)" "$N2" "binpack: all four on the fullest node"

# Fits a node, but no node of zone b has the room now: pending, with the reason.
out=$(pool slice run -d --name big --cpus 1 --constraint zone==b -- sleep 1000 2>&1) ||
	fail "placing big: $out"
assert_contains "$out" "pending"
big=$(api GET /v1/slices/big)
assert_eq "$(echo "$big" | jq -r .state)" pending "a slice that fits nowhere now"
assert_contains "$(echo "$big" | jq -r .reason)" "no node has room"
# acre why: every node's reason, grouped, and the smallest change that lets it run.
why=$(pool -j why big) || fail "acre why big: $why"
assert_eq "$(jq -c '[.state, .nodes, .fit]' <<<"$why")" '["pending",3,0]' "why big: state, nodes, fit"
assert_eq "$(jq -c '[.reasons[] | select(.reason == "constraint zone==b") | .examples[].node] | sort' <<<"$why")" \
	"$(jq -nc --arg a "$(node_id 1)" --arg c "$(node_id 3)" '[$a, $c] | sort')" "why big: the nodes of other zones"
assert_eq "$(jq -r '[.by_node[] | select(.node == "'"$N2"'") | .reasons[].reason] | join(",")' <<<"$why")" \
	"not enough cpus" "why big: zone b's node, short of cpus alone"
assert_contains "$(jq -r '.suggestions[0]' <<<"$why")" "cpus on node $N2 (then it fits there)"
assert_contains "$(pool why big)" "constraint zone==b" "acre why, the table"
out=$(pool why no-such 2>&1) && fail "acre why of a missing slice"
assert_contains "$out" "no slice named no-such"
pool slice run -d --name any-1 -- sleep 1000 >/dev/null || fail "placing any-1"
pool slice run -d --name any-2 -- sleep 1000 >/dev/null || fail "placing any-2"
assert_eq "$(api GET /v1/pool | jq .slices.total)" 30 "30 slices in the pool"

running() { api GET /v1/pool | jq .slices.running; }
wait_for '[ "$(running)" = 29 ]' 20 || fail "29 slices running: $(pool slice list)"
# What the nodes themselves run matches what the pool says.
for i in 1 2 3; do
	local_names=$(node_acre "$i" -j slice list | jq -r '.[] | select(.state == "running") | .name' | sort)
	pool_names=$(pool -j slice list | jq -r --arg n "$(node_id "$i")" '.[] | select(.node == $n and .state == "running") | .name' | sort)
	assert_eq "$local_names" "$pool_names" "node $i runs what the pool placed there"
done
echo "$(pool slice list)"

log "one -j shape from a node and from the pool"
keys_of() { jq -c '[.[] | keys] | unique'; }
pool_keys=$(pool -j slice list | keys_of)
assert_eq "$(jq length <<<"$pool_keys")" 1 "every slice of pool -j slice list has the same keys"
assert_eq "$(node_acre 1 -j slice list | keys_of)" "$pool_keys" "slice list -j keys: node and pool"
assert_eq "$(node_acre "${NODE_OF_ID[$(node_of web-1)]}" -j slice show web-1 | jq -c keys)" \
	"$(pool -j slice show web-1 | jq -c keys)" "slice show -j keys: node and pool"
assert_eq "$(pool -j slice show web-1 | jq -r '"\(.node) \(.resources.cpus) \(.labels.app) \(.pid)"')" \
	"$(node_of web-1) 0.1 web null" "node, cpus, labels and pid of web-1 in the pool"
web=$(pool -j slice list --label app=web | jq -r '[.[].name] | sort | join(" ")')
assert_eq "$web" "web-1 web-2 web-3 web-4 web-5 web-6" "pool slice list --label app=web"
for i in 1 2 3; do
	assert_eq "$(node_acre "$i" -j slice list --label app=web | jq -r '[.[].name] | sort | join(" ")')" \
		"$(pool -j slice list --label app=web --node "$(node_id "$i")" | jq -r '[.[].name] | sort | join(" ")')" \
		"slice list --label app=web on node $i and in the pool"
done
rc=0
out=$(pool -j slice stat web-1) || rc=$?
assert_eq "$rc $(jq -r .error.code <<<"$out")" "1 unsupported" "slice stat through the pool under -j"
rc=0
out=$(pool -j slice show no-such-slice) || rc=$?
assert_eq "$rc $(jq -r .error.code <<<"$out")" "1 not_found" "a missing slice of the pool under -j"

log "room appears: the pending slice is placed"
pool slice rm --force bin-1 bin-2 bin-3 bin-4 >/dev/null || fail "removing bin-*"
wait_for '[ "$(api GET /v1/slices/big | jq -r .state)" = running ]' 15 ||
	fail "big was not placed once room appeared: $(api GET /v1/slices/big)"
assert_eq "$(node_of big)" "$N2" "big went to zone b"
wait_for '[ "$(api GET /v1/slices/bin-1 | jq -r .id)" = null ]' 10 || fail "bin-1 not removed"
assert_eq "$(node_acre 2 -j slice list | jq '[.[] | select(.name | startswith("bin-"))] | length')" 0 \
	"removed slices are gone from their node"

# The stream's data lines: the life of a slice, as it happened.
sse_data "$TEST_DIR/events" |
	jq -c 'select(.type == "slice" and .slice.name == "spr-1") | [.event, .slice.state]' |
	tr -d '\n' >"$TEST_DIR/spr-1.events" || fail "events: data lines that are not JSON"
assert_contains "$(cat "$TEST_DIR/spr-1.events")" '["created","starting"]["state","running"]' "events of spr-1"

# ---- the event log: stored, in order, filtered on the server -------------------------------

log "the event log: acre events --once -j, --type, --label"
pool -j events --since 0 --once >"$TEST_DIR/ev-all" || fail "acre events --since 0 --once -j"
# Nothing was ever rolled back or trimmed here: every number from 1, once, in order.
jq -se '[.[].seq] == [range(1; length + 1)] and length > 60' "$TEST_DIR/ev-all" >/dev/null ||
	fail "stored events are not 1, 2, 3, ...: $(jq -c .seq "$TEST_DIR/ev-all" | tr '\n' ' ' | head -c 400)"
last_stored=$(tail -n 1 "$TEST_DIR/ev-all" | jq .seq)
wait_for "sse_ids '$TEST_DIR/events' | matches -x '$last_stored'" 5 || fail "the live stream never sent event $last_stored"
# What the live stream sent is what was stored, from where it began.
streamed=$(sse_ids "$TEST_DIR/events" | awk -v max="$last_stored" '$1 <= max' | tr '\n' ' ')
first_streamed=${streamed%% *}
assert_eq "$streamed" "$(jq -r --argjson f "$first_streamed" 'select(.seq >= $f) | .seq' "$TEST_DIR/ev-all" | tr '\n' ' ')" \
	"the live stream sent every stored event since it began, once, in order"
log "$last_stored events stored; the live stream began at $first_streamed"
upto() { jq -c --argjson max "$last_stored" "select(.seq <= \$max) | $1"; }
pool -j events --since 0 --once --type slice | upto .seq >"$TEST_DIR/ev-slice"
assert_eq "$(jq -c 'select(.type == "slice") | .seq' "$TEST_DIR/ev-all" | tr '\n' ' ')" \
	"$(tr '\n' ' ' <"$TEST_DIR/ev-slice")" "--type slice: the slice events, and only them"
pool -j events --since 0 --once --type node | upto .type | sort -u >"$TEST_DIR/ev-node"
assert_eq "$(cat "$TEST_DIR/ev-node")" '"node"' "--type node: only node events"
pool -j events --since 0 --once --label app=web | upto '[.seq, .slice.name, .labels.app]' \
	>"$TEST_DIR/ev-web"
assert_eq "$(jq -c 'select(.labels.app == "web") | [.seq, .slice.name, .labels.app]' "$TEST_DIR/ev-all")" \
	"$(cat "$TEST_DIR/ev-web")" "--label app=web: the events of the web slices, and only them"
assert_eq "$(jq -r '.[1]' "$TEST_DIR/ev-web" | sort -u | tr '\n' ' ')" "$web_names " \
	"--label app=web: every web slice"
# The server filters: a label and a type through curl, with the live notice's id.
sse_once "$TEST_DIR/ev-curl" "?since=0&type=slice&label=app=web"
assert_eq "$(sse_data "$TEST_DIR/ev-curl" | jq -r 'select(.type != "live") | .labels.app' | sort -u)" web \
	"?type=slice&label=app=web on the server"
assert_eq "$(sse_ids "$TEST_DIR/ev-curl" | awk -v max="$last_stored" '$1 <= max' | tr '\n' ' ')" \
	"$(jq -c '.[0]' "$TEST_DIR/ev-web" | tr '\n' ' ')" "curl and acre events agree"

# ---- the signal of a kill: one rule through the pool and through the node's socket ----------

log "kill --signal: the same names and numbers through the pool and through the node"
pool slice run -d --name sig-1 -- sh -c \
	'for s in HUP USR1 USR2; do trap "echo got $s" $s; done; echo up; while :; do sleep 0.1; done' \
	>/dev/null || fail "placing sig-1"
wait_for '[ "$(api GET /v1/slices/sig-1 | jq -r .state)" = running ]' 10 ||
	fail "sig-1 is not running: $(api GET /v1/slices/sig-1)"
SIG_NODE=${NODE_OF_ID[$(node_of sig-1)]}
sig_log() { node_acre "$SIG_NODE" slice logs sig-1; }
wait_for 'sig_log | matches "^up$"' 10 || fail "sig-1 did not start: $(sig_log)"
seen=0
sig_reaches() { # sig_reaches WHAT EXPECTED: the task logged one more signal, and that one
	seen=$((seen + 1))
	wait_for '[ "$(sig_log | grep -c "^got ")" -ge '"$seen"' ]' 10 ||
		fail "$1 did not reach the task: $(sig_log | tr '\n' ' ')"
	assert_eq "$(sig_log | grep "^got " | tail -1)" "got $2" "what $1 sent"
}
for sig in HUP:HUP SIGUSR1:USR1 usr2:USR2 10:USR1 12:USR2 1:HUP; do
	pool slice kill sig-1 --signal "${sig%%:*}" >/dev/null || fail "pool slice kill --signal ${sig%%:*}"
	sig_reaches "--signal ${sig%%:*} through the pool" "${sig#*:}"
	node_acre "$SIG_NODE" slice kill sig-1 --signal "${sig%%:*}" >/dev/null ||
		fail "slice kill --signal ${sig%%:*} on the node's socket"
	sig_reaches "--signal ${sig%%:*} through the node's socket" "${sig#*:}"
done
for sig in '"usr1":USR1' '10:USR1' '"SIGHUP":HUP'; do
	api POST /v1/slices/sig-1/kill "{\"signal\": ${sig%:*}}" >/dev/null
	assert_eq "$(last_code)" 202 "POST /v1/slices/sig-1/kill {\"signal\": ${sig%:*}}"
	sig_reaches "{\"signal\": ${sig%:*}} through the API" "${sig##*:}"
done
for sig in NOPE 0 65; do
	rc=0
	pool slice kill sig-1 --signal "$sig" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 1 "exit status of pool slice kill --signal $sig"
	rc=0
	node_acre "$SIG_NODE" slice kill sig-1 --signal "$sig" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 1 "exit status of slice kill --signal $sig on the node's socket"
done
api POST /v1/slices/sig-1/kill '{"signal": "NOPE"}' >/dev/null
assert_eq "$(last_code)" 400 "POST /v1/slices/sig-1/kill with signal NOPE"
assert_eq "$(api GET /v1/slices/sig-1 | jq -r .state)" running "sig-1 after signals it traps"
pool slice rm --force sig-1 >/dev/null || fail "removing sig-1"
wait_for '[ "$(node_acre "$SIG_NODE" -j slice list | jq "[.[] | select(.name == \"sig-1\")] | length")" = 0 ]' 10 ||
	fail "sig-1 still on node $SIG_NODE"
wait_for 'api GET /v1/slices/sig-1 >/dev/null; [ "$(last_code)" = 404 ]' 10 || fail "sig-1 still in the pool"

# ---- a node fails: unreachable, reconciled when it comes back in time -----------------------

log "killing supervisor 3 (its slices keep running)"
kill_node 3
t0=$(now_ms)
wait_for '[ "$(api GET /v1/nodes/$N3 | jq -r .state)" = unreachable ]' 10 ||
	fail "node 3 never became unreachable"
took=$(($(now_ms) - t0))
log "node 3 unreachable after ${took} ms (--node-timeout ${NODE_TIMEOUT}s)"
wait_for "grep -q '^data: .*\"event\":\"unreachable\".*\"id\":\"$N3\"' '$TEST_DIR/events'" 5 ||
	fail "no event for the unreachable node"
assert_le "$took" $((NODE_TIMEOUT * 1000 + 1500)) "time to unreachable"
assert_eq "$(api GET /v1/slices/keep-1 | jq -r .state)" running "slices of an unreachable node are not lost yet"

# While it is away: one of its slices vanishes from its disk (the node will not know it),
# one is removed and one killed through the pool (the node will be told).
rm -rf "$TEST_DIR/n3/state/slices/once-1"
out=$(pool -j slice rm once-2 --force) || fail "rm once-2 while its node is away"
assert_contains "$out" '"removing":true'
pool slice kill once-3 --signal KILL >/dev/null || fail "kill once-3 while its node is away"

log "supervisor 3 back before --lost-after: reconciliation"
start_node 3
wait_for '[ "$(api GET /v1/nodes/$N3 | jq -r .state)" = ready ] && [ "$(api GET /v1/nodes/$N3 | jq -r .schedulable)" = true ]' 10 ||
	fail "node 3 did not come back"
wait_for '[ "$(api GET /v1/slices/once-1 | jq -r .state)" = lost ]' 10 ||
	fail "a slice the node no longer has is lost: $(api GET /v1/slices/once-1)"
assert_contains "$(api GET /v1/slices/once-1 | jq -r .reason)" "not found on node"
wait_for '! api GET /v1/slices/once-2 >/dev/null; [ "$(last_code)" = 404 ]' 10 ||
	fail "once-2, removed while away, is still in the pool"
wait_for '[ "$(node_acre 3 -j slice list | jq "[.[] | select(.name == \"once-2\")] | length")" = 0 ]' 10 ||
	fail "once-2 still on node 3"
wait_for '[ "$(api GET /v1/slices/once-3 | jq -r .state)" = killed ]' 10 ||
	fail "once-3, killed while away: $(api GET /v1/slices/once-3)"
assert_eq "$(api GET /v1/slices/keep-1 | jq -r '.state + " " + .node + " " + (.restarts|tostring)')" \
	"running $N3 0" "keep-1 still where it was, never replaced"

# ---- a node fails for good: lost, replaced per policy; stale copies removed on return -----

log "killing supervisor 3 again, past --lost-after"
kill_node 3
wait_for '[ "$(api GET /v1/nodes/$N3 | jq -r .state)" = down ]' $((NODE_TIMEOUT + LOST_AFTER + 5)) ||
	fail "node 3 never went down"
for i in 1 2 3; do
	wait_for "[ \"\$(api GET /v1/slices/keep-$i | jq -r .state)\" = running ]" 15 ||
		fail "keep-$i (restart always) was not replaced: $(api GET /v1/slices/keep-$i)"
	s=$(api GET "/v1/slices/keep-$i")
	assert_eq "$(echo "$s" | jq -r .node)" "$N1" "keep-$i replaced on the other ssd node"
	assert_eq "$(echo "$s" | jq -r .restarts)" 1 "keep-$i counts its replacement"
done
for i in 1 2 3 4; do
	assert_eq "$(api GET /v1/slices/r2-$i | jq -r .state)" lost "r2-$i (restart never) is lost"
done
assert_contains "$(api GET /v1/slices/r2-1 | jq -r .reason)" "unreachable for"

log "supervisor 3 back after --lost-after: its stale slices are removed there"
stale=$(ls "$TEST_DIR/n3/state/slices" | grep -cE '^(keep|r2)-')
[ "$stale" -gt 0 ] || fail "node 3 had no stale slices to reconcile"
start_node 3
wait_for '[ "$(node_acre 3 -j slice list | jq "[.[] | select(.name | test(\"^(keep|r2)-\"))] | length")" = 0 ]' 15 ||
	fail "stale slices left on node 3: $(node_acre 3 slice list)"
for i in 1 2 3; do
	[ "$(node_of keep-$i)" != "$N3" ] || fail "keep-$i moved back to node 3"
done
assert_eq "$(api GET /v1/slices/r2-2 | jq -r .state)" lost "lost stays lost"

# ---- a hung controller (stopped here): the CLI gives up after --timeout and says so ----------
kill -STOP "$CTL_PID"
rc=0
err=$(pool --timeout 1s pool show 2>&1) || rc=$?
kill -CONT "$CTL_PID"
assert_eq "$rc" 1 "exit status of a request to a hung controller"
assert_contains "$err" "no reply from the controller" "error of a request to a hung controller"
pool pool show >/dev/null || fail "the controller does not serve after SIGCONT"

# ---- kill -9 of the controller while slices are being placed --------------------------------

log "placing slices in a loop, and kill -9 of the controller in the middle"
: >"$TEST_DIR/acked"
place_loop() {
	local i code
	for i in $(seq 1 200); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
			-H "Authorization: Bearer $API_TOKEN" --max-time 5 \
			--data-binary "{\"spec\":{\"name\":\"crash-$i\",\"command\":[\"sleep\",\"1000\"]}}" \
			"$CONTROLLER/v1/slices")
		case $code in
		201) echo "crash-$i" >>"$TEST_DIR/acked" ;;
		000) sleep 0.05 ;;
		*) echo "crash-$i: HTTP $code" >>"$TEST_DIR/refused" ;;
		esac
	done
}
spawn_bg place_loop
loop_pid=${BG_PIDS[-1]}
wait_for '[ "$(wc -l <"$TEST_DIR/acked")" -ge 15 ]' 20 || fail "the placing loop got nowhere"
kill_controller
acked_before=$(wc -l <"$TEST_DIR/acked")
# The stream ended with the controller: the last event it was sent.
sleep 0.2
M=$(sse_ids "$TEST_DIR/events" | tail -n 1)
log "controller killed after $acked_before acknowledged slices, the stream at event $M; restarting it"
sleep 0.3
start_controller
wait "$loop_pid" 2>/dev/null
[ ! -s "$TEST_DIR/refused" ] || fail "refused placements: $(head -3 "$TEST_DIR/refused")"
wait_for '[ "$(ready_nodes)" = 3 ]' 15 || fail "the nodes did not come back to the restarted controller"
assert_eq "$(by_label 'label=app=web')" "$web_names" "labels back from the store after kill -9"
acked=$(sort -u "$TEST_DIR/acked")
n_acked=$(echo "$acked" | grep -c .)
log "$n_acked slices acknowledged in all; checking each is in the pool and on exactly one node"
all_running() {
	local names
	names=$(pool -j slice list --state running | jq -r '.[].name' | sort)
	[ -z "$(comm -23 <(echo "$acked") <(echo "$names"))" ]
}
wait_for all_running 30 || fail "acknowledged slices not running: $(comm -23 <(echo "$acked") <(pool -j slice list --state running | jq -r '.[].name' | sort) | head)"
on_nodes=$(for i in 1 2 3; do node_acre "$i" -j slice list | jq -r '.[] | select(.name | startswith("crash-")) | .name'; done | sort)
dups=$(echo "$on_nodes" | uniq -d)
[ -z "$dups" ] || fail "slices on more than one node: $dups"
missing=$(comm -23 <(echo "$acked") <(echo "$on_nodes"))
[ -z "$missing" ] || fail "acknowledged slices on no node: $missing"
in_pool=$(pool -j slice list | jq -r '.[] | select(.name | startswith("crash-")) | .name' | sort)
assert_eq "$(echo "$in_pool" | uniq -d)" "" "no slice twice in the pool"
assert_eq "$(comm -3 <(echo "$in_pool") <(echo "$on_nodes"))" "" "the pool and the nodes agree"

log "events resume across kill -9 with no gap and no duplicate"
# Changes after the restart: the nodes came back, the placing loop went on; one more here.
pool slice run -d --name after-restart -- sleep 1000 >/dev/null || fail "placing after-restart"
pool -j events --since "$M" --once >"$TEST_DIR/ev-resumed" || fail "acre events --since $M --once"
jq -se --argjson m "$M" '[.[].seq] == [range($m + 1; $m + 1 + length)] and length > 0' \
	"$TEST_DIR/ev-resumed" >/dev/null ||
	fail "events after $M are not $((M + 1)), $((M + 2)), ...: $(jq -c .seq "$TEST_DIR/ev-resumed" | tr '\n' ' ' | head -c 400)"
jq -e 'select(.type == "slice" and .event == "created" and .slice.name == "after-restart")' \
	"$TEST_DIR/ev-resumed" >/dev/null || fail "the events after the restart miss after-restart's"
log "$(wc -l <"$TEST_DIR/ev-resumed") events after $M, from $(head -n 1 "$TEST_DIR/ev-resumed" | jq .seq)"
sse_once "$TEST_DIR/ev-lastid" "" "Last-Event-ID: $M"
last_resumed=$(tail -n 1 "$TEST_DIR/ev-resumed" | jq .seq)
assert_eq "$(sse_ids "$TEST_DIR/ev-lastid" | awk -v max="$last_resumed" '$1 <= max' | tr '\n' ' ')" \
	"$(jq -c .seq "$TEST_DIR/ev-resumed" | tr '\n' ' ')" "Last-Event-ID: $M gives the same events"
# The stream before the kill, then the resumed one: every stored event once, none twice.
{ sse_ids "$TEST_DIR/events"; jq .seq "$TEST_DIR/ev-resumed"; } >"$TEST_DIR/ev-joined"
assert_eq "$(sort -n "$TEST_DIR/ev-joined" | uniq -d)" "" "no event twice across the restart"
pool -j events --since "$((first_streamed - 1))" --once | jq .seq |
	awk -v max="$last_resumed" '$1 <= max' >"$TEST_DIR/ev-stored"
assert_eq "$(tr '\n' ' ' <"$TEST_DIR/ev-joined")" "$(tr '\n' ' ' <"$TEST_DIR/ev-stored")" \
	"the stream and its resumption are the stored events, with no gap"

log "cordon: no new placement on a node, kept across a restart of the controller"
pool node cordon "$N3" >/dev/null || fail "cordon $N3"
out=$(pool slice run -d --name onc --cpus 0.1 --constraint zone==c -- sleep 1000 2>&1) ||
	fail "placing onc: $out"
assert_eq "$(api GET /v1/slices/onc | jq -r .state)" pending "a slice for the cordoned node alone"
assert_contains "$(pool why onc)" "node is cordoned" "acre why of a slice for a cordoned node"
assert_contains "$(pool node list)" "ready,cordoned" "node list"

log "a controller that keeps 5 events: lagged"
kill -TERM "$CTL_PID"
wait "$CTL_PID" 2>/dev/null
CTL_ARGS+=(--events-max 5)
start_controller
wait_for '[ "$(ready_nodes)" = 3 ]' 15 || fail "the nodes did not come back to the restarted controller"
pool slice run -d --name after-trim -- sleep 1000 >/dev/null || fail "placing after-trim"
pool -j events --since 1 --once >"$TEST_DIR/ev-lagged" || fail "acre events --since 1 --once"
lag=$(head -n 1 "$TEST_DIR/ev-lagged")
assert_eq "$(jq -r '"\(.type) \(.first)"' <<<"$lag")" "lagged 2" "--since 1 when event 2 is gone: lagged first"
lag_last=$(jq .last <<<"$lag")
log "after a restart with --events-max 5: $lag, then $(($(wc -l <"$TEST_DIR/ev-lagged") - 1)) events"
[ "$lag_last" -gt "$last_resumed" ] || fail "lagged names $lag_last as the last event dropped, not past $last_resumed"
jq -se --argjson l "$lag_last" '.[1:] | [.[].seq] == [range($l + 1; $l + 1 + length)] and length <= 5 and length > 0' \
	"$TEST_DIR/ev-lagged" >/dev/null ||
	fail "after lagged, the 5 events kept: $(jq -c '.seq // .type' "$TEST_DIR/ev-lagged" | tr '\n' ' ')"
jq -e 'select(.slice.name == "after-trim")' "$TEST_DIR/ev-lagged" >/dev/null ||
	fail "numbering went on after the restart: after-trim's event is missing"
sse_once "$TEST_DIR/ev-lagged-sse" "?since=1"
assert_eq "$(awk '/^event: /{print; exit}' "$TEST_DIR/ev-lagged-sse")" "event: lagged" "lagged first over SSE"
lag=$(sse_data "$TEST_DIR/ev-lagged-sse" | head -n 1)
assert_eq "$(awk '/^id: /{print; exit}' "$TEST_DIR/ev-lagged-sse")" "id: $(jq .last <<<"$lag")" \
	"lagged's id over SSE is the last event it names"
assert_eq "$(jq .first <<<"$lag")" 2 "lagged over SSE names the first event dropped"
assert_eq "$(api GET "/v1/nodes/$N3" | jq .cordoned)" true "cordoned after a restart of the controller"
assert_eq "$(api GET /v1/slices/onc | jq -r .state)" pending "onc, still waiting"
pool node uncordon "$N3" >/dev/null || fail "uncordon $N3"
wait_for '[ "$(api GET /v1/slices/onc | jq -r .state)" = running ]' 15 ||
	fail "onc was not placed once $N3 was uncordoned: $(api GET /v1/slices/onc | jq -c '{state, reason}')"

# ---- metrics ----------------------------------------------------------------------------------

log "promtool check metrics"
api GET /metrics >"$TEST_DIR/metrics"
promtool check metrics <"$TEST_DIR/metrics" || fail "promtool rejects /metrics: $(promtool check metrics <"$TEST_DIR/metrics" 2>&1 | head)"
grep -q '^acre_controller_nodes{state="ready"} 3' "$TEST_DIR/metrics" || fail "metrics: 3 ready nodes"
stored=$(awk '/^acre_controller_events_stored /{print $2}' "$TEST_DIR/metrics")
[ -n "$stored" ] && [ "$stored" -le 5 ] || fail "metrics: $stored events stored, --events-max 5"
curl -sf "$CONTROLLER/healthz" >/dev/null || fail "the controller stopped serving"
log "pass"
