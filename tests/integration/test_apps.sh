#!/usr/bin/env bash
# Apps on a real pool: the controller and three supervisors, each in its network namespace
# (cluster_lib.sh; pool in 198.19.0.0/17, VIPs in 198.19.128.0/20), in zones a, b and c.
# An HTTP app of three instances spread over the zones becomes healthy and answers through
# its name; a rolling update under a request loop loses no request; an update whose new
# version fails its checks rolls back by itself, still losing no request; scale 3 -> 10 -> 2;
# `acre why` on an app that asks for more than any node has names each node's reason; an app
# with a volume writes, is updated and reads its data back; `kill -9` of the controller in
# the middle of a deployment resumes the same deployment; a node drained moves instances
# off; bad specs are refused before anything exists.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require dig nsenter
T0=$(now_ms)
[ -n "$(cgroup_v2_mount)" ] || skip "no cgroup v2 tree"
CTL_ARGS=(--node-timeout 2s --lost-after 6s --deployment-step-deadline 20s)
pool_net_ctl_args host-gw
net_setup 3
make_certs
start_controller
zones=(x a b c)
for i in 1 2 3; do start_node "$i" --resolv-conf /dev/null --attr "zone=${zones[$i]}"; done
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 3 ]' 15 ||
	fail "the nodes are not ready: $(api GET /v1/nodes)"

# An HTTP server answering its instance's name and version; /tmp/fail (or FAIL=1 in its
# environment) makes it answer 500.
server_py='import http.server, os
body = ("%s v%s" % (os.environ["HOSTNAME"], os.environ.get("V", "1"))).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        bad = os.path.exists("/tmp/fail") or os.environ.get("FAIL") == "1"
        self.send_response(500 if bad else 200)
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()'

app_spec() { # NAME INSTANCES [ENV-JSON]
	jq -n --arg name "$1" --argjson n "$2" --argjson env "${3:-{\}}" --arg py "$server_py" '{
		name: $name, instances: $n,
		slice: {command: ["python3", "-c", $py], env: $env,
			resources: {cpus: 0.1, memory: "64M"}, network: {mode: "bridge"}},
		ports: ["http:8080"],
		placement: {spread: "zone"},
		checks: [{kind: "http", port: "http", path: "/", interval: "300ms", timeout: "300ms",
			failures: 2, grace: "5s"}],
		max_surge: 1}'
}
app_state() { api GET "/v1/apps/$1" | jq -r '"\(.state) \(.healthy)/\(.instances) v\(.version)"'; }
dep_state() { api GET "/v1/deployments/$1" | jq -r .state; }

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
start_loop 25 "$TEST_DIR/loop1"
sleep 2
r=$(api PUT /v1/apps/web "$(app_spec web 3 '{"V": "2"}')")
[ "$(last_code)" = 200 ] || fail "PUT /v1/apps/web: $(last_code) $r"
D2=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D2)\" = succeeded ]" 40 ||
	fail "deployment $D2: $(api GET /v1/deployments/$D2 | jq -c .)"
assert_eq "$(app_state web)" "running 3/3 v2" "web after the update"
api GET /v1/apps/web/instances | jq -e '[.instances[] | select(.version == 2)] | length == 3' >/dev/null ||
	fail "not every instance at version 2: $(api GET /v1/apps/web/instances)"
end_loop "$TEST_DIR/loop1" "rolling update"
jq -e '.seen | keys | map(select(endswith("v2"))) | length >= 1' "$TEST_DIR/loop1" >/dev/null ||
	fail "the loop never saw version 2"

log "an update whose instances fail their checks rolls back by itself"
start_loop 30 "$TEST_DIR/loop2"
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

log "an app with a volume keeps its data across an update"
vol_spec() { # V
	jq -n --arg v "$1" '{name: "vol", instances: 1,
		slice: {command: ["sh", "-c", "test -s /mnt/stamp || head -c 12 /dev/urandom | od -An -tx1 | tr -d \" \\n\" >/mnt/stamp; exec python3 -m http.server 8080 -d /mnt"],
			env: {V: $v}, resources: {cpus: 0.1, memory: "64M"}, network: {mode: "bridge"}},
		ports: ["http:8080"], volumes: [{name: "data", size: "16M", path: "/mnt"}],
		checks: [{kind: "tcp", port: "http", interval: "300ms", grace: "5s"}]}'
}
stamp() { node_acre 1 slice run --rm --net bridge -- python3 -c 'import urllib.request; print(urllib.request.urlopen("http://vol-0.acre:8080/stamp", timeout=2).read().decode())'; }
r=$(api POST /v1/apps "$(vol_spec 1)")
[ "$(last_code)" = 201 ] || fail "POST vol: $(last_code) $r"
wait_for "[ \"\$(app_state vol | cut -d' ' -f1-2)\" = 'running 1/1' ]" 30 || fail "vol: $(app_state vol)"
assert_eq "$(api GET /v1/apps/vol | jq -r .spec.on_partition)" wait "an app with volumes waits out a partition"
s1=$(stamp)
[ -n "$s1" ] || fail "no stamp from vol-0"
vnode=$(api GET /v1/apps/vol/instances | jq -r '.instances[0].node')
r=$(api PUT /v1/apps/vol "$(vol_spec 2)")
D=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D)\" = succeeded ]" 30 || fail "vol update: $(api GET /v1/deployments/$D | jq -c .)"
assert_eq "$(api GET /v1/apps/vol/instances | jq -r '.instances[0] | "\(.version) \(.node)"')" "2 $vnode" "vol-0 at version 2 on its volume's node"
assert_eq "$(stamp)" "$s1" "the data written before the update"

log "kill -9 of the controller in the middle of a deployment resumes it"
r=$(api PUT /v1/apps/web "$(app_spec web 2 '{"V": "9"}' | jq '.checks[0].grace = "5s" | .readiness = [{kind: "command", command: ["sleep", "0"], interval: "2s"}]')")
D=$(jq -r .deployment.id <<<"$r")
sleep 1
kill_controller
start_controller
wait_for "[ \"\$(dep_state $D)\" = succeeded ]" 40 || fail "$D after the restart: $(api GET /v1/deployments/$D | jq -c .)"
assert_eq "$(api GET '/v1/deployments?app=web&active=1' | jq '.deployments | length')" 0 "no other deployment"
api GET /v1/apps/web/instances | jq -e '[.instances[] | select(.version == (.version|tostring|tonumber))] | length == 2' >/dev/null
assert_eq "$(app_state web | cut -d' ' -f1-2)" "running 2/2" "web after the restart"

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
api GET /v1/apps/bad >/dev/null
assert_eq "$(last_code)" 404 "nothing created by a refused spec"

log "a node cut off past the lost timeout: replaced once, nothing killed for re-registering"
nx=$(api GET /v1/apps/web/instances | jq -r '.instances[] | select(.index == 0) | .node')
ix=
for i in 1 2 3; do [ "$(node_id "$i")" = "$nx" ] && ix=$i; done
[ -n "$ix" ] || fail "web-0's node $nx is none of the test's"
other_id=$(api GET /v1/apps/web/instances | jq -r '.instances[] | select(.index == 1) | .slice_id')
vol_id=$(api GET /v1/apps/vol/instances | jq -r '.instances[0].slice_id')
ip -n "acre-test-$RAND_ID-n$ix" link set eth0 down || fail "cutting node $ix off"
wait_for "api GET /v1/apps/web/instances | jq -e --arg n $nx '[.instances[] | select(.health == \"healthy\" and .node != \$n)] | length == 2' >/dev/null" 30 ||
	fail "web-0 not replaced: $(api GET /v1/apps/web/instances | jq -c '[.instances[] | {name, node, state}]')"
wait_for "grep -q 'event=partition_stop slice=web-0' '$TEST_DIR/n$ix/supervisor.log'" 10 ||
	fail "node $ix did not stop web-0 itself: $(grep partition "$TEST_DIR/n$ix/supervisor.log")"
ip -n "acre-test-$RAND_ID-n$ix" link set eth0 up || fail "healing node $ix"
wait_for "[ \"\$(api GET /v1/nodes/$nx | jq -r '.state + \" \" + (.connected|tostring)')\" = 'ready true' ]" 30 ||
	fail "node $ix not back: $(api GET /v1/nodes/$nx | jq -c '{state, connected}')"
sleep 2
assert_eq "$(api GET /v1/apps/web/instances | jq -r '[.instances[] | select(.slice_state == "running") | .name] | join(" ")')" "web-0 web-1" "exactly the wanted instances after the heal"
assert_eq "$(api GET /v1/apps/web/instances | jq -r '.instances[] | select(.index == 1) | .slice_id')" "$other_id" "web-1 untouched"
assert_eq "$(node_acre "$ix" -j slice list | jq '[.[] | select(.name == "web-0" and .state == "running")] | length')" 0 "no web-0 left running on node $ix"
assert_eq "$(api GET /v1/apps/vol/instances | jq -r '.instances[0] | "\(.slice_id) \(.slice_state)"')" "$vol_id running" "vol-0 (on_partition wait) neither stopped nor replaced"

log "remove"
for x in web vol; do api DELETE "/v1/apps/$x" >/dev/null; done
wait_for "[ \"\$(api GET /v1/apps | jq '.apps | length')\" = 0 ]" 30 || fail "apps not removed: $(api GET /v1/apps | jq -c .)"
assert_eq "$(api GET '/v1/slices?label=acre.app=web' | jq '.slices | length')" 0 "no slice of web left"
log "test_apps: $(($(now_ms) - T0)) ms"
