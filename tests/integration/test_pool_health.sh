#!/usr/bin/env bash
# Health checks in a pool: the controller and one supervisor in its network namespace
# (cluster_lib.sh; the pool in 198.19.0.0/17, VIPs in 198.19.128.0/20).  Two members of
# group web, each an HTTP server with an http check (interval 200 ms) and acre.vip.ports:
# their checks run on the node, and only the transitions reach the controller (a health
# op), whose slice view shows them.  A member failing its check (HTTP 500) leaves
# web.acre (the names the controller pushes) and the VIP within 1 s of its transition on
# the node, and comes back when it passes again.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require dig nsenter
T0=$(now_ms)
[ -n "$(cgroup_v2_mount)" ] || skip "no cgroup v2 tree"
CTL_ARGS=(--node-timeout 2s --lost-after 5s)
pool_net_ctl_args host-gw
net_setup 1
make_certs
start_controller
start_node 1 --resolv-conf /dev/null
wait_for '[ "$(api GET /v1/nodes | jq "[.nodes[] | select(.state == \"ready\")] | length")" = 1 ]' 15 ||
	fail "the node is not ready: $(api GET /v1/nodes)"

server_py='import http.server, os
name = os.environ["HOSTNAME"].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500 if os.path.exists("/tmp/fail") else 200)
        self.end_headers(); self.wfile.write(name)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()'
# count N HOST: who answers N requests to HOST:8080, as {"web-1": n, ...}.
count_py='import collections, json, sys, urllib.request
c = collections.Counter()
for i in range(int(sys.argv[1])):
    try:
        c[urllib.request.urlopen("http://%s:8080/" % sys.argv[2], timeout=1).read().decode()] += 1
    except Exception as e:
        c["ERR"] += 1
print(json.dumps(c))'

for i in 1 2; do
	pool slice run -d --name "web-$i" --net bridge --label acre.service=web \
		--label acre.vip.ports=8080/tcp --check-http 8080/ --check-interval 200ms \
		--check-timeout 200ms --check-failures 3 --check-grace 5s \
		-- python3 -c "$server_py" >/dev/null || fail "placing web-$i"
done
pool_health() { api GET "/v1/slices/$1" | jq -r '.health.status + "/" + (.health.ready | tostring)'; }
for i in 1 2; do
	wait_for "[ \"\$(pool_health web-$i)\" = healthy/true ]" 15 ||
		fail "web-$i not healthy in the pool: $(api GET /v1/slices/web-$i | jq -c '{state, health}')"
done
assert_eq "$(pool -j slice show web-1 | jq -r .health.status)" healthy "pool slice show -j"
pool slice list | grep -q 'web-1 .*running *healthy' || fail "pool slice list: $(pool slice list)"
pool slice show web-1 | grep -q '^health: *healthy for [^,]*$' || fail "pool slice show: $(pool slice show web-1)"

GW=$(jq -r .subnet_in_use "$TEST_DIR/n1/state/pool-net.json" | cut -d. -f1-3).1
members() { ip netns exec "acre-test-$RAND_ID-n1" dig +short +time=1 +tries=1 @"$GW" web.acre | sort | tr '\n' ' '; }
addr() { api GET "/v1/slices/$1" | jq -r .address; }
A1=$(addr web-1)
A2=$(addr web-2)
both=$(printf '%s\n' "$A1" "$A2" | sort | tr '\n' ' ')
wait_for "[ \"\$(members)\" = '$both' ]" 2 || fail "web.acre: want $both, got $(members)"
VIP=$(api GET /v1/slices/web-1 | jq -r '.vips[0].vip')
count() { node_acre 1 slice run --rm --net bridge -- python3 -c "$count_py" "$1" "$VIP"; }
j=$(count 20)
log "VIP $VIP, both healthy: $j"
[ "$(jq '(."web-1" // 0) > 0 and (."web-2" // 0) > 0' <<<"$j")" = true ] || fail "VIP: $j"

log "web-1 fails its check"
touch "/proc/$(node_acre 1 -j slice show web-1 | jq -r .pid)/root/tmp/fail" || fail "touch /tmp/fail"
t=$(now_ms)
until [ "$(members)" = "$A2 " ]; do
	[ $(($(now_ms) - t)) -lt $(($(scaled 10 | cut -d. -f1) * 1000)) ] || fail "web-1 never left web.acre: $(members)"
done
left=$(now_ms)
changed=$(node_acre 1 -j slice show web-1 | jq -r .health.changed_at)
assert_eq "$(node_acre 1 -j slice show web-1 | jq -r .health.status)" unhealthy "on the node"
log "unhealthy on the node $((changed - t)) ms after /tmp/fail; out of web.acre $((left - changed)) ms after that"
assert_le $((left - changed)) 1000 "out of web.acre within 1 s of the transition"
wait_for "[ \"\$(pool_health web-1)\" = unhealthy/true ]" 2 || fail "the pool's view: $(pool_health web-1)"
j=$(count 20)
log "VIP, web-1 unhealthy: $j"
assert_eq "$(jq -c . <<<"$j")" '{"web-2":20}' "only web-2 behind the VIP"
grep -q 'slice=web-1 event=health health=unhealthy' "$TEST_DIR/controller.log" ||
	fail "no health transition in the controller's log"

log "web-1 passes again"
rm "/proc/$(node_acre 1 -j slice show web-1 | jq -r .pid)/root/tmp/fail"
wait_for "[ \"\$(members)\" = '$both' ]" 5 || fail "web-1 not back in web.acre: $(members)"
wait_for "[ \"\$(pool_health web-1)\" = healthy/true ]" 2 || fail "the pool's view: $(pool_health web-1)"
wait_for "[ \"\$(count 10 | jq '.\"web-1\" // 0')\" -gt 0 ]" 3 || fail "web-1 not back behind the VIP"
for i in 1 2; do pool slice rm --force "web-$i" >/dev/null; done
log "test_pool_health: $(($(now_ms) - T0)) ms"
