#!/usr/bin/env bash
# A pool of three nodes on this machine: the controller on a test bridge
# (198.18.S.1, TLS with a test CA, mutual) and three supervisors, each in a
# network namespace of its own with its own cgroup root and state
# directory.  It places 30 real slices and checks binpack, spread (the
# strategy and --spread over an attribute) and constraints; a slice that
# fits nowhere waits pending and is placed when room appears; `slice list
# -j` and `slice show -j` have the same keys from a node and from the pool,
# and `--label` keeps the same slices on both; bad input on both ports gets
# clear errors and changes nothing; a kill's --signal, by name or number,
# reaches the task alike through the pool, the API and a node's own socket;
# a supervisor killed is
# unreachable within --node-timeout, and its slices are handled as their
# restart policy says; back in time, it is reconciled both ways; back too
# late, its stale slices are removed; `kill -9` of the controller while
# slices are being placed loses none it acknowledged, and duplicates none;
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
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready" and .schedulable)] | length'; }
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
assert_eq "$(api GET /v1/pool | jq .slices.total)" 0 "nothing was created by bad input"

# ---- 30 slices: spread, --spread, constraints, binpack, policies ---------------------------

log "an event stream, then placing 30 slices"
spawn_bg curl -sN -H "Authorization: Bearer $API_TOKEN" "$CONTROLLER/v1/events" -o "$TEST_DIR/events"
wait_for 'grep -q "\"type\":\"stream\"" "$TEST_DIR/events"' 5 || fail "no event stream"
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

# One JSON object per line: the life of a slice, as it happened.
jq -c 'select(.type == "slice" and .slice.name == "spr-1") | [.event, .slice.state]' \
	"$TEST_DIR/events" | tr -d '\n' >"$TEST_DIR/spr-1.events" || fail "events: not JSON lines"
assert_contains "$(cat "$TEST_DIR/spr-1.events")" '["created","starting"]["state","running"]' "events of spr-1"

# ---- the signal of a kill: one rule through the pool and through the node's socket ----------

log "kill --signal: the same names and numbers through the pool and through the node"
pool slice run -d --name sig-1 -- sh -c \
	'for s in HUP USR1 USR2; do trap "echo got $s" $s; done; echo up; while :; do sleep 0.1; done' \
	>/dev/null || fail "placing sig-1"
wait_for '[ "$(api GET /v1/slices/sig-1 | jq -r .state)" = running ]' 10 ||
	fail "sig-1 is not running: $(api GET /v1/slices/sig-1)"
SIG_NODE=${NODE_OF_ID[$(node_of sig-1)]}
sig_log() { node_acre "$SIG_NODE" slice logs sig-1; }
wait_for 'sig_log | grep -q "^up$"' 10 || fail "sig-1 did not start: $(sig_log)"
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
wait_for "grep -q '\"event\":\"unreachable\".*\"id\":\"$N3\"' '$TEST_DIR/events'" 5 ||
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
log "controller killed after $acked_before acknowledged slices; restarting it"
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

# ---- metrics ----------------------------------------------------------------------------------

log "promtool check metrics"
api GET /metrics >"$TEST_DIR/metrics"
promtool check metrics <"$TEST_DIR/metrics" || fail "promtool rejects /metrics: $(promtool check metrics <"$TEST_DIR/metrics" 2>&1 | head)"
grep -q '^acre_controller_nodes{state="ready"} 3' "$TEST_DIR/metrics" || fail "metrics: 3 ready nodes"
curl -sf "$CONTROLLER/healthz" >/dev/null || fail "the controller stopped serving"
log "pass"
