#!/usr/bin/env bash
# Ports of --net host apps that name no number come from each node's own --port-range:
# node 1 runs with --port-range 28100-28101 (zone a), node 2 with the default (zone b).
# Two instances kept on node 1 get its two ports, distinct, in PORT_HTTP (their servers
# answer there in the node's namespace), in the API and in their checks (healthy); a third
# app on node 1 does not fit and says "no free port in the node's --port-range
# 28100-28101"; the node's view shows its range; a restart keeps each instance's port; the
# same app on node 2 gets ports of the default range; a bad --port-range is refused naming
# the flag.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
T0=$(now_ms)
require nsenter curl
[ -n "$(cgroup_v2_mount)" ] || skip "no cgroup v2 tree"
CTL_ARGS=(--node-timeout 2s --lost-after 6s --deployment-step-deadline 20s)
pool_net_ctl_args host-gw
net_setup 2
make_certs

log "a bad --port-range is refused, naming the flag"
for bad in 30-20 0-10 20000-70000 20000; do
	out=$("$ACRE_BIN/acre-supervisor" --port-range "$bad" --socket "$TEST_DIR/bad.sock" 2>&1)
	rc=$?
	assert_eq "$rc" 2 "acre-supervisor --port-range $bad: exit status (a usage error)"
	assert_contains "$out" "--port-range $bad" "the error names the flag and the value"
done

start_controller
start_node 1 --resolv-conf /dev/null --attr zone=a --port-range 28100-28101
start_node 2 --resolv-conf /dev/null --attr zone=b
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 2 ]' 15 ||
	fail "the nodes are not ready: $(api GET /v1/nodes)"
N1=$(node_id 1)
N2=$(node_id 2)
assert_eq "$(api GET "/v1/nodes/$N1" | jq -r .port_range)" 28100-28101 "node 1's range in its view"
assert_eq "$(api GET "/v1/nodes/$N2" | jq -r .port_range)" 20000-29999 "node 2's range: the default"

# An HTTP server on PORT_HTTP of the node's network, answering its name and port.
server_py='import http.server, os
port = int(os.environ["PORT_HTTP"])
body = ("%s %d" % (os.environ["HOSTNAME"], port)).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()'

spec() { # NAME INSTANCES ZONE
	jq -n --arg name "$1" --argjson n "$2" --arg zone "$3" --arg py "$server_py" '{
		name: $name, instances: $n,
		slice: {command: ["python3", "-c", $py], resources: {cpus: 0.1, memory: "64M"},
			network: {mode: "host"}},
		ports: ["http"],
		max_surge: 0, max_unavailable: 1, min_healthy: "0%",
		placement: {constraints: ["zone==\($zone)"]},
		checks: [{kind: "tcp", port: "http", interval: "300ms", timeout: "300ms", grace: "5s"}]}'
}
dep_state() { api GET "/v1/deployments/$1" | jq -r .state; }
ports_of() { # APP: "index:port ..." of the running instances
	api GET "/v1/apps/$1/instances" |
		jq -r '[.instances[] | select(.slice_state == "running") | "\(.index):\(.ports.http)"] | sort | join(" ")'
}
in_node() { # I CMD...: in node I's network namespace
	local i=$1
	shift
	nsenter --net="/run/netns/acre-test-$RAND_ID-n$i" -- "$@"
}

log "two instances on node 1: its two ports"
r=$(api POST /v1/apps "$(spec hp 2 a)")
[ "$(last_code)" = 201 ] || fail "POST /v1/apps: $(last_code) $r"
D1=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D1)\" = succeeded ]" 40 ||
	fail "deployment $D1: $(api GET /v1/deployments/$D1 | jq -c .) $(api GET /v1/apps/hp/instances)"
before=$(ports_of hp)
log "hp: $before"
assert_eq "$(tr ' ' '\n' <<<"$before" | cut -d: -f2 | sort | tr '\n' ' ')" "28100 28101 " \
	"the two ports of node 1's range, one each"
for p in 28100 28101; do
	out=$(in_node 1 curl -s --max-time 2 "http://127.0.0.1:$p/")
	assert_contains "$out" " $p" "the instance on port $p serves there (PORT_HTTP)"
done
api GET /v1/apps/hp/instances | jq -e '[.instances[] | select(.health == "healthy")] | length == 2' >/dev/null ||
	fail "the checks on the picked ports do not pass: $(api GET /v1/apps/hp/instances)"
label=$(api GET "/v1/slices/hp-0" | jq -r '.spec.labels["acre.ports"]')
assert_eq "$label" "http:$(api GET /v1/apps/hp/instances | jq -r '.instances[] | select(.index == 0) | .ports.http')/tcp" \
	"hp-0's acre.ports label (its SRV records) has its port"
assert_eq "$(api GET "/v1/nodes/$N1" | jq .free.ports)" 0 "node 1 has no port left"
assert_eq "$(pool node show "$N1" | grep '^ports:')" "ports:       28100-28101 (--port-range), 0 free" \
	"acre node show"

log "a third slice on node 1 does not fit, and says why"
r=$(api POST /v1/apps "$(spec full 1 a)")
[ "$(last_code)" = 201 ] || fail "POST /v1/apps full: $(last_code) $r"
wait_for '[ "$(api GET /v1/slices/full-0 | jq -r .state)" = pending ]' 10 ||
	fail "full-0: $(api GET /v1/slices/full-0)"
reason=$(api GET /v1/slices/full-0 | jq -r .reason)
assert_contains "$reason" "no free port in the node's --port-range 28100-28101" "full-0's reason"
why=$(api GET /v1/why/app/full)
assert_contains "$why" "no free port in the node's --port-range 28100-28101" "why full"
r=$(api DELETE "/v1/apps/full?force=1")
[ "$(last_code)" = 202 ] || [ "$(last_code)" = 200 ] || fail "DELETE /v1/apps/full: $(last_code) $r"
wait_for "[ \"\$(api GET /v1/apps | jq '[.apps[] | select(.name == \"full\")] | length')\" = 0 ]" 20 ||
	fail "full is not removed: $(api GET /v1/apps/full | jq -c '{state, deployment_detail}')"

# In place (max_surge 0): a surge instance would need a third port of node 1's range.
log "a restart keeps each instance's port"
r=$(api POST /v1/apps/hp/restart '{}')
D2=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D2)\" = succeeded ]" 40 ||
	fail "restart $D2: $(api GET /v1/deployments/$D2 | jq -c .)"
wait_for "[ \"\$(ports_of hp)\" = '$before' ]" 10 ||
	fail "ports after the restart: $(ports_of hp), before: $before"

log "on node 2: ports of the default range"
r=$(api POST /v1/apps "$(spec hb 2 b)")
D3=$(jq -r .deployment.id <<<"$r")
wait_for "[ \"\$(dep_state $D3)\" = succeeded ]" 40 ||
	fail "deployment $D3: $(api GET /v1/deployments/$D3 | jq -c .)"
log "hb: $(ports_of hb)"
for p in $(ports_of hb | tr ' ' '\n' | cut -d: -f2); do
	[ "$p" -ge 20000 ] && [ "$p" -le 29999 ] || fail "hb's port $p is not in 20000-29999"
	assert_contains "$(in_node 2 curl -s --max-time 2 "http://127.0.0.1:$p/")" " $p" "hb serves on $p"
done
assert_eq "$(ports_of hb | tr ' ' '\n' | cut -d: -f2 | sort -u | wc -l)" 2 "two ports on node 2"

log "done in $(($(now_ms) - T0)) ms"
