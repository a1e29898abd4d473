#!/usr/bin/env bash
# Apps that keep state and outlive failures, on a real pool (apps_lib.sh): an app with a
# volume writes, is updated and reads its data back; `kill -9` of the controller in the
# middle of a deployment resumes the same deployment; a node cut off past the lost timeout
# has its instance replaced once, and once healed, exactly the wanted instances run, none
# killed for re-registering (and the one of an app that waits out partitions is kept);
# dependencies and ordered starts; a crashing instance restarts with a growing back-off
# and its deployment fails past its deadline, saying why.
. "$(dirname "$0")/apps_lib.sh"

apps_pool

log "create web x2"
r=$(api POST /v1/apps "$(app_spec web 2)")
[ "$(last_code)" = 201 ] || fail "POST /v1/apps: $(last_code) $r"
D1=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D1)\" = succeeded ]" 40 || fail "deployment $D1: $(api GET /v1/deployments/$D1 | jq -c .)"

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

log "dependencies: an app waits for the apps it depends on; ordered instances start one at a time"
ens_spec() { # NAME INSTANCES DEPS-JSON ORDERED
	jq -n --arg name "$1" --argjson n "$2" --argjson deps "$3" --argjson ordered "$4" '{
		name: $name, instances: $n, dependencies: $deps, ordered: $ordered,
		slice: {command: ["sh", "-c", "sleep 1; exec python3 -m http.server 8080"],
			resources: {cpus: 0.05, memory: "32M"}, network: {mode: "bridge"}},
		ports: ["http:8080"],
		checks: [{kind: "tcp", port: "http", interval: "200ms", grace: "5s"}]}'
}
api POST /v1/apps "$(ens_spec front 1 '["ens"]' false)" >/dev/null
assert_eq "$(last_code)" 400 "a dependency on an app that does not exist"
r=$(api POST /v1/apps "$(ens_spec ens 3 '[]' true)")
DE=$(jq -r .deployment.id <<<"$r")
r=$(api POST /v1/apps "$(ens_spec front 1 '["ens"]' false)")
[ "$(last_code)" = 201 ] || fail "POST front: $(last_code) $r"
DF=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $DE)\" = succeeded ]" 40 || fail "ens: $(api GET /v1/deployments/$DE | jq -c .)"
wait_for "[ \"\$(dep_state $DF)\" = succeeded ]" 20 || fail "front: $(api GET /v1/deployments/$DF | jq -c .)"
# Ordered: each instance started only once the one before it was healthy.
api GET "/v1/deployments/$DE" | jq -r '.steps[] | select(.text | startswith("started")) | "\(.available) \(.text)"' >"$TEST_DIR/ens_steps"
log "ens steps: $(tr '\n' ';' <"$TEST_DIR/ens_steps")"
assert_eq "$(cut -d' ' -f1,3 "$TEST_DIR/ens_steps" | tr '\n' ' ')" "0 ens-0 1 ens-1 2 ens-2 " "ordered starts, each after the one before was healthy"
first_front=$(api GET "/v1/deployments/$DF" | jq '[.steps[] | select(.text | startswith("started"))][0].at')
ens_done=$(api GET "/v1/deployments/$DE" | jq '.ended_at')
assert_le "$ens_done" "$first_front" "front started only once ens was healthy"
api DELETE /v1/apps/ens >/dev/null
assert_eq "$(last_code)" 409 "removing an app another depends on"

log "a crashing instance: restarts with back-off; the deployment fails past its deadline and says why"
r=$(api POST /v1/apps "$(jq -n '{name: "crash", instances: 1,
	slice: {command: ["sh", "-c", "echo crash output; sleep 0.2; exit 3"], resources: {cpus: 0.05, memory: "32M"},
		network: {mode: "bridge"}},
	ports: ["http:8080"], checks: [{kind: "tcp", port: "http", interval: "200ms", grace: "5s"}]}')")
DC=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $DC)\" = failed ]" 40 || fail "crash: $(api GET /v1/deployments/$DC | jq -c .)"
reason=$(api GET "/v1/deployments/$DC" | jq -r .reason)
log "crash: $reason"
assert_contains "$reason" "no progress for 12 s" "the deployment says it made no progress"
restarts=$(api GET /v1/deployments/$DC | jq -r '[.steps[].text | select(test("starting it again in"))] | map(capture("in (?<s>[0-9.]+) s").s | tonumber)')
log "back-off delays: $(jq -c . <<<"$restarts")"
jq -e 'length >= 4 and .[0] == 1 and (.[3] > .[2]) and (.[2] > .[1])' <<<"$restarts" >/dev/null ||
	fail "the back-off does not grow: $restarts"
# While it waits for its next start, the run that ended is kept: its output says why.
wait_for "[ \"\$(api GET /v1/apps/crash/instances | jq -r '.instances[0].slice_state')\" = failed ]" 10 ||
	fail "crash-0 not kept ended during its back-off: $(api GET /v1/apps/crash/instances | jq -c .)"
assert_contains "$(api GET /v1/slices/crash-0/logs)" "crash output" "the ended run's log, read during its back-off"
for x in front crash; do api DELETE "/v1/apps/$x" >/dev/null; done
wait_for "[ \"\$(api GET /v1/apps | jq '[.apps[] | select(.name == \"front\")] | length')\" = 0 ]" 20 || fail "front not removed"
api DELETE /v1/apps/ens >/dev/null

log "remove"
for x in web vol; do api DELETE "/v1/apps/$x" >/dev/null; done
wait_for "[ \"\$(api GET /v1/apps | jq '.apps | length')\" = 0 ]" 30 || fail "apps not removed: $(api GET /v1/apps | jq -c .)"
assert_eq "$(api GET '/v1/slices?label=acre.app=web' | jq '.slices | length')" 0 "no slice of web left"
iv=
for i in 1 2 3; do [ "$(node_id "$i")" = "$vnode" ] && iv=$i; done
wait_for "! node_acre $iv -j volume list | jq -e '.[] | select(.name == \"vol-0-data\")' >/dev/null" 10 ||
	fail "vol-0-data left on its node after rm without --keep-volumes: $(node_acre "$iv" -j volume list)"
log "test_apps_state: $(($(now_ms) - T0)) ms"
