# shellcheck shell=bash
#
# What the apps tests share: a pool of a controller and three supervisors, each in its
# network namespace (cluster_lib.sh; the pool in 198.19.0.0/17, VIPs in 198.19.128.0/20),
# in zones a, b and c; an HTTP server as an app's template; and small readers of the API.
. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"

# apps_pool [NODE-ARGS...]: the pool, each node started with NODE-ARGS too; a deployment step
# may go without progress for APPS_STEP_DEADLINE (default 12s) before it fails.
apps_pool() {
	cluster_init
	require dig nsenter
	T0=$(now_ms)
	[ -n "$(cgroup_v2_mount)" ] || skip "no cgroup v2 tree"
	CTL_ARGS=(--node-timeout 2s --lost-after 6s --deployment-step-deadline "${APPS_STEP_DEADLINE:-12s}")
	pool_net_ctl_args host-gw
	net_setup 3
	make_certs
	start_controller
	zones=(x a b c)
	for i in 1 2 3; do start_node "$i" --resolv-conf /dev/null --attr "zone=${zones[$i]}" "$@"; done
	wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 3 ]' 15 ||
		fail "the nodes are not ready: $(api GET /v1/nodes)"
}

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
