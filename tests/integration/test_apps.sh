#!/usr/bin/env bash
# Apps on a real pool (apps_lib.sh: a controller and three supervisors in zones a, b, c).
# An HTTP app of three instances spread over the zones becomes healthy and answers through
# its name; a rolling update under a request loop loses no request; an update whose new
# version fails its checks rolls back by itself, still losing no request; scale 3 -> 10 -> 2;
# `acre why` on an app that asks for more than any node has names each node's reason; every
# step is an event; stop and start; move; a node drained; bad specs are refused before
# anything exists.  test_apps_state.sh goes on with volumes, restarts and partitions.
. "$(dirname "$0")/apps_lib.sh"

apps_pool

log "create web x3"
r=$(api POST /v1/apps "$(app_spec web 3)")
[ "$(last_code)" = 201 ] || fail "POST /v1/apps: $(last_code) $r"
D1=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D1)\" = succeeded ]" 40 ||
	fail "deployment $D1: $(api GET /v1/deployments/$D1 | jq -c .)"
assert_eq "$(app_state web)" "running 3/3 v1" "web after its first deployment"
zones_used=$(api GET /v1/apps/web/instances | jq -r '[.instances[].node] | unique | length')
assert_eq "$zones_used" 3 "three instances on three nodes (spread over zones)"
api GET /v1/apps/web/instances | jq -e '[.instances[] | select(.health == "healthy")] | length == 3' >/dev/null ||
	fail "instances: $(api GET /v1/apps/web/instances)"

# loop SECONDS: from a slice of node 1, GET web.acre:8080 every 50 ms for SECONDS; prints
# {"ok": n, "err": n, "seen": {"web-0 v1": n, ...}, "errors": [...]}.
loop_py='import collections, json, sys, time, urllib.request
end = time.time() + float(sys.argv[1]); ok = err = 0; seen = collections.Counter(); errs = []
while time.time() < end:
    try:
        seen[urllib.request.urlopen("http://web.acre:8080/", timeout=2).read().decode()] += 1
        ok += 1
    except Exception as e:
        err += 1; errs.append(str(e)[:80])
    time.sleep(0.05)
print(json.dumps({"ok": ok, "err": err, "seen": seen, "errors": errs[:5]}))'
start_loop() { # SECONDS OUTFILE
	node_acre 1 slice run --rm --net bridge -- python3 -c "$loop_py" "$1" >"$2" 2>&1 &
	LOOP_PID=$!
	track_bg "$LOOP_PID"
}
end_loop() { # OUTFILE WHAT
	wait "$LOOP_PID"
	log "$2: $(cat "$1")"
	jq -e '.ok > 20 and .err == 0' "$1" >/dev/null || fail "$2: requests failed: $(cat "$1")"
}

log "rolling update to v2 under a request loop"
start_loop 12 "$TEST_DIR/loop1"
sleep 2
r=$(api PUT /v1/apps/web "$(app_spec web 3 '{"V": "2"}')")
[ "$(last_code)" = 200 ] || fail "PUT /v1/apps/web: $(last_code) $r"
D2=$(jq -r .deployment.id <<<"$r")
# While it runs, its plan: the step under way first, the steps ahead, ending done.
plan=$(api GET "/v1/deployments/$D2" | jq -c .plan)
assert_eq "$(jq -r '.steps[0].state + " " + .ends' <<<"$plan")" "in progress done" "the plan's step under way, and its end: $plan"
assert_eq "$(jq '[.steps[].starts] | add' <<<"$plan") $(jq '[.steps[] | .actions[] | select(.action == "start") | .version] | unique' -c <<<"$plan")" '4 [2]' "the plan starts 3 replacements and 1 stand-in, all at version 2: $plan"
wait_for "[ \"\$(dep_state $D2)\" = succeeded ]" 40 ||
	fail "deployment $D2: $(api GET /v1/deployments/$D2 | jq -c .)"
assert_eq "$(app_state web)" "running 3/3 v2" "web after the update"
api GET /v1/apps/web/instances | jq -e '[.instances[] | select(.version == 2)] | length == 3' >/dev/null ||
	fail "not every instance at version 2: $(api GET /v1/apps/web/instances)"
end_loop "$TEST_DIR/loop1" "rolling update"
jq -e '.seen | keys | map(select(endswith("v2"))) | length >= 1' "$TEST_DIR/loop1" >/dev/null ||
	fail "the loop never saw version 2"

log "an update whose instances fail their checks rolls back by itself"
start_loop 16 "$TEST_DIR/loop2"
sleep 2
r=$(api PUT /v1/apps/web "$(app_spec web 3 '{"V": "3", "FAIL": "1"}')")
D3=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D3)\" = rolled_back ]" 40 ||
	fail "deployment $D3: $(api GET /v1/deployments/$D3 | jq -c .)"
log "$D3: $(api GET /v1/deployments/$D3 | jq -r .reason)"
D4=$(api GET '/v1/deployments?app=web' | jq -r '.deployments[0] | select(.kind == "rollback") | .id')
[ "$D4" != null ] && wait_for "[ \"\$(dep_state $D4)\" = succeeded ]" 40 ||
	fail "the rollback deployment $D4: $(api GET /v1/deployments/$D4 | jq -c .)"
assert_eq "$(api GET /v1/apps/web | jq -r .spec.slice.env.V)" 2 "back to the spec of version 2"
assert_eq "$(app_state web | cut -d' ' -f1-2)" "running 3/3" "web after the rollback"
end_loop "$TEST_DIR/loop2" "failed update and rollback"
api GET /v1/apps/web/versions | jq -e '[.versions[].number] | length >= 4' >/dev/null ||
	fail "versions: $(api GET /v1/apps/web/versions | jq -c '[.versions[] | {number, instance_version, healthy}]')"

log "scale 3 -> 10 -> 2"
r=$(api POST /v1/apps/web/scale '{"instances": 10}')
D=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D)\" = succeeded ]" 60 || fail "scale to 10: $(api GET /v1/deployments/$D | jq -c .)"
assert_eq "$(api GET /v1/apps/web/instances | jq '[.instances[] | select(.health == "healthy")] | length')" 10 "10 healthy"
r=$(api POST /v1/apps/web/scale '{"instances": 2}')
D=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D)\" = succeeded ]" 30 || fail "scale to 2: $(api GET /v1/deployments/$D | jq -c .)"
wait_for "[ \"\$(api GET /v1/apps/web/instances | jq -r '[.instances[].name] | join(\" \")')\" = 'web-0 web-1' ]" 10 ||
	fail "after scale to 2: $(api GET /v1/apps/web/instances | jq -c '[.instances[].name]')"

log "why: an app that asks for more than any node has"
r=$(api POST /v1/apps "$(app_spec big 2 | jq '.slice.resources.cpus = 1.9 | .name = "big"')")
[ "$(last_code)" = 201 ] || fail "POST big: $(last_code) $r"
api POST /v1/apps "$(app_spec big2 2 | jq '.slice.resources.cpus = 1.9')" >/dev/null
sleep 1
w=$(api GET /v1/why/app/big2)
log "why big2: $(jq -c '{pending, fit, reasons: [.reasons[] | {reason, nodes}], suggestions}' <<<"$w")"
jq -e '.pending >= 1 and (.by_node | length) == 3 and (.suggestions | length) >= 1' <<<"$w" >/dev/null ||
	fail "why big2: $w"
for x in big big2; do api DELETE "/v1/apps/$x?force=1" >/dev/null; done
wait_for "[ \"\$(api GET /v1/apps | jq '[.apps[] | select(.name | startswith(\"big\"))] | length')\" = 0 ]" 20 ||
	fail "big apps not removed: $(api GET /v1/apps | jq -c .)"

log "events: every deployment step and app change is on the stream"
sse_once "$TEST_DIR/events" "?since=0&type=deployment,app&label=acre.app=web"
sse_data "$TEST_DIR/events" | jq -e -s '
	([.[] | select(.type == "deployment" and .event == "step")] | length) > 5 and
	([.[] | select(.type == "deployment" and .event == "rolled_back")] | length) == 1 and
	([.[] | select(.type == "app" and .event == "created")] | length) == 1 and
	all(.[] | select(.type == "app" or .type == "deployment"); .labels["acre.app"] == "web")' >/dev/null ||
	fail "events: $(sse_data "$TEST_DIR/events" | jq -c '[.type, .event]' | sort | uniq -c)"

log "stop and start"
api POST /v1/apps/web/stop >/dev/null
wait_for "[ \"\$(app_state web | cut -d' ' -f1-2)\" = 'stopped 0/0' ]" 20 || fail "stop: $(app_state web)"
assert_eq "$(api GET /v1/apps/web | jq .stopped_instances)" 2 "stop remembers the count"
assert_eq "$(api GET /v1/apps/web/instances | jq '.instances | length')" 0 "no instance once stopped"
api POST /v1/apps/web/stop >/dev/null
assert_eq "$(last_code)" 409 "stopping a stopped app"
api POST /v1/apps/web/start >/dev/null
wait_for "[ \"\$(app_state web | cut -d' ' -f1-2)\" = 'running 2/2' ]" 20 || fail "start: $(app_state web)"

log "move web-1 to another node"
from=$(api GET /v1/apps/web/instances | jq -r '.instances[] | select(.index == 1) | .node')
to=$(api GET /v1/nodes | jq -r --arg f "$from" '[.nodes[].id | select(. != $f)][0]')
r=$(api POST /v1/apps/web/move "{\"instance\": 1, \"to\": \"$to\"}")
[ "$(last_code)" = 200 ] || fail "move: $(last_code) $r"
D=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D)\" = succeeded ]" 20 || fail "move: $(api GET /v1/deployments/$D | jq -c .)"
assert_eq "$(api GET /v1/apps/web/instances | jq -r '.instances[] | select(.index == 1) | .node')" "$to" "web-1 moved"
api POST /v1/apps/web/move '{"instance": 7, "to": "nowhere"}' >/dev/null
assert_eq "$(last_code)" 404 "moving an instance the app does not have"

log "drain the node of web-0"
n0=$(api GET /v1/apps/web/instances | jq -r '.instances[] | select(.index == 0) | .node')
api POST "/v1/nodes/$n0/drain" >/dev/null
assert_eq "$(last_code)" 202 "POST drain"
wait_for "[ \"\$(api GET /v1/nodes/$n0 | jq -c '[.cordoned, .drain.remaining]')\" = '[true,0]' ]" 20 ||
	fail "drain: $(api GET /v1/nodes/$n0 | jq -c '{cordoned, drain}')"
wait_for "[ \"\$(app_state web | cut -d' ' -f1-2)\" = 'running 2/2' ]" 20 || fail "after the drain: $(app_state web)"
api GET /v1/apps/web/instances | jq -e --arg n "$n0" 'all(.instances[]; .node != $n)' >/dev/null ||
	fail "an instance is still on $n0"
api POST "/v1/nodes/$n0/uncordon" >/dev/null
wait_for "[ \"\$(api GET /v1/nodes/$n0 | jq .draining)\" = false ]" 5 || fail "the drain did not end with uncordon"

log "bad specs are refused before anything exists"
bad() { # EXPECTED-CODE FIELD-SUBSTRING SPEC
	local out
	out=$(api POST /v1/apps "$3")
	[ "$(last_code)" = "$1" ] || fail "want $1 for $3, got $(last_code): $out"
	jq -r .error.message <<<"$out" | matches "$2" || fail "the error does not name $2: $out"
}
bad 400 'intervall: unknown field' "$(app_spec bad 1 | jq '.checks[0].intervall = "1s"')"
bad 400 'ports' "$(app_spec bad 1 | jq '.ports = ["Http:80"]')"
bad 400 'admin' "$(app_spec bad 1 | jq '.checks[0].port = "admin"')"
bad 400 'instances' "$(app_spec bad 1 | jq '.instances = -1')"
bad 400 'nosuch' "$(app_spec bad 1 | jq '.dependencies = ["nosuch"]')"
bad 422 'could ever\|no node' "$(app_spec bad 1 | jq '.placement.constraints = ["zone==z"]')"
bad 409 'exists' "$(app_spec web 1)"
bad 422 'free' "$(app_spec bad 1 | jq '.volumes = [{name: "data", size: "15T", path: "/mnt"}] | .on_partition = "wait"')"
api GET /v1/apps/bad >/dev/null
assert_eq "$(last_code)" 404 "nothing created by a refused spec"


log "remove"
api DELETE /v1/apps/web >/dev/null
wait_for "[ \"\$(api GET /v1/apps | jq '.apps | length')\" = 0 ]" 30 || fail "web not removed: $(api GET /v1/apps | jq -c .)"
assert_eq "$(api GET '/v1/slices?label=acre.app=web' | jq '.slices | length')" 0 "no slice of web left"
log "test_apps: $(($(now_ms) - T0)) ms"
