#!/usr/bin/env bash
# Virtual IPs in a pool: the real controller and three supervisors (cluster_lib.sh), each
# in its namespace, host-gw routes between their slice subnets.  A group "web" of three
# members, one per node, with acre.vip.ports=80/tcp,53/udp, gets a VIP from --vip-cidr that
# the controller pushes to every node (net.vips).  300 connections to it from node 1's own
# processes land on all three members (none under 20%), and so do those from a slice on
# node 2; a UDP query to the VIP is answered from the VIP; slice show lists the VIP, from the
# pool and from the node; --allow is checked against the member chosen; a member killed
# through the pool stops receiving within 1 s, and so does one whose task dies; when a
# node leaves (its supervisor killed, the node lost), its members go from the VIP on the
# others, though their processes still answer.
# (tests/integration/test_vip_node.sh checks the node's side in more depth, driving net.vips
# itself.)  Each supervisor attaches its VIP programs at a cgroup of the test's own
# (--vip-cgroup), above its own subtree and a cgroup for the node's client processes.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
require nsenter
"$ACRE_BIN/acre-controller" --help 2>&1 | matches -- --vip-cidr ||
	skip "this acre-controller has no pool networking (--vip-cidr)"
# The nodes' side of the pool's network (subnets from the controller, routes between them).
"$ACRE_BIN/acre-supervisor" --help 2>&1 | matches -- --node-address ||
	skip "this acre-supervisor has no pool networking (--node-address)"
T0=$(now_ms)
V2=$(cgroup_v2_mount)
[ -n "$V2" ] || skip "no cgroup v2 tree"
CTL_ARGS=(--node-timeout 2s --lost-after 5s --pool-cidr 198.19.0.0/17 --vip-cidr 198.19.128.0/20)

log "network, certificates, controller, three supervisors"
net_setup 3
make_certs
start_controller
vipcg() { printf '%s/%s\n' "$V2" "$(node_cgroot "$1")"; }
for i in 1 2 3; do
	mkdir -p "$(vipcg "$i")/client" || fail "mkdir $(vipcg "$i")/client"
	start_node "$i" --attr n="$i" --cgroup-root "$(node_cgroot "$i")/node" --vip-cgroup "$(vipcg "$i")"
done
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready")] | length'; }
wait_for '[ "$(ready_nodes)" = 3 ]' 15 || fail "three nodes ready: $(api GET /v1/nodes | jq -c '[.nodes[] | {id, state}]')"

# on_node I CMD...: a process of node I (its namespace, under its VIP programs), not a slice.
on_node() {
	local i=$1
	shift
	nsenter --net="/run/netns/acre-test-$RAND_ID-n$i" -- sh -c \
		'echo $$ >"$1/cgroup.procs" || exit 99; shift; exec "$@"' sh "$(vipcg "$i")/client" "$@"
}

member_py='import os, socket, threading
name = os.environ["HOSTNAME"].encode()
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 53))
    while True:
        d, a = u.recvfrom(512); u.sendto(name + b" " + d, a)
threading.Thread(target=udp, daemon=True).start()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(512)
while True:
    c = s.accept()[0]; c.sendall(name); c.close()'
count_py='import collections, json, socket, sys
n, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = collections.Counter()
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=1)
        c[s.recv(64).decode()] += 1; s.close()
    except PermissionError:
        c["EPERM"] += 1
    except OSError as e:
        c["ERR " + (e.strerror or type(e).__name__)] += 1
print(json.dumps(c))'

log "three members of group web, one per node"
for i in 1 2 3; do
	# Port 80 and 53 inside the slice: binding them needs the capability.
	pool slice run -d --name "web-$i" --net bridge --constraint "n==$i" --cap NET_BIND_SERVICE \
		--label acre.service=web --label acre.vip.ports=80/tcp,53/udp \
		-- python3 -c "$member_py" >/dev/null || fail "placing web-$i"
done
for i in 1 2 3; do
	wait_for "[ \"\$(api GET /v1/slices/web-$i | jq -r .state)\" = running ]" 15 ||
		fail "web-$i not running: $(api GET /v1/slices/web-$i | jq -c '{state, reason, node}')"
done
VIP=$(api GET /v1/slices/web-1 | jq -r '.vips[0].vip')
case $VIP in 198.19.1[2-4][0-9].*) ;; *) fail "web's VIP '$VIP' is not in 198.19.128.0/20" ;; esac
log "VIP $VIP"

spread_ok() { # spread_ok JSON WHO
	local j=$1 i n
	for i in 1 2 3; do
		n=$(jq -r --arg k "web-$i" '.[$k] // 0' <<<"$j")
		[ "$n" -ge 60 ] || fail "$2: web-$i got $n of 300 (under 20%): $j"
	done
}
# The members' addresses reach the controller in reports, and the VIP's table the nodes.
wait_for "on_node 1 python3 -c '$count_py' 30 $VIP 80 | jq -e '(.\"web-1\" // 0) > 0 and (.\"web-2\" // 0) > 0 and (.\"web-3\" // 0) > 0'" 15 ||
	fail "the VIP does not reach all three members from node 1: $(on_node 1 python3 -c "$count_py" 30 "$VIP" 80)"

log "300 connections from node 1's own processes, and from a slice on node 2"
j=$(on_node 1 python3 -c "$count_py" 300 "$VIP" 80)
log "from node 1: $j"
spread_ok "$j" "from node 1"
j=$(node_acre 2 slice run --rm --net bridge -- python3 -c "$count_py" 300 "$VIP" 80)
log "from a slice on node 2: $j"
spread_ok "$j" "from a slice on node 2"

log "UDP: the reply comes from the VIP"
udp_py='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b"ping", (sys.argv[1], 53))
data, src = s.recvfrom(512)
assert data.startswith(b"web-") and data.endswith(b" ping"), data
assert src == (sys.argv[1], 53), "reply from %s, not the VIP" % (src,)
print(data.decode())'
out=$(on_node 3 python3 -c "$udp_py" "$VIP" 2>&1) || fail "UDP to the VIP from node 3: $out"

log "slice show: the VIP, from the pool and from the node"
assert_eq "$(pool -j slice show web-2 | jq -r '.vips[0].vip')" "$VIP" "pool slice show -j"
assert_eq "$(node_acre 2 -j slice show web-2 | jq -c '.vips[0] | [.vip, .group, .ports]')" \
	"[\"$VIP\",\"web\",\"80/tcp,53/udp\"]" "node slice show -j"

log "--allow is checked against the member chosen"
A1=$(node_acre 1 -j slice show web-1 | jq -r .network.address | cut -d/ -f1)
j=$(node_acre 2 slice run --rm --net bridge --allow "$A1:80" -- python3 -c "$count_py" 30 "$VIP" 80)
log "--allow $A1:80 (web-1): $j"
[ "$(jq '.["web-1"] // 0' <<<"$j")" -gt 0 ] && [ "$(jq '.EPERM // 0' <<<"$j")" -gt 0 ] ||
	fail "--allow web-1 from node 2: expected web-1 and EPERM only: $j"
assert_eq "$(jq '[to_entries[] | select(.key != "web-1" and .key != "EPERM")] | length' <<<"$j")" 0 \
	"--allow web-1: other outcomes ($j)"

log "a member killed through the pool stops receiving within 1 s"
watch_py='import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    t = int(time.time() * 1000)
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=0.3)
        print(t, s.recv(64).decode(), flush=True); s.close()
    except OSError:
        print(t, "ERR", flush=True)
    time.sleep(0.005)'
on_node 1 python3 -c "$watch_py" "$VIP" 4 >"$TEST_DIR/watch" &
watcher=$!
track_bg "$watcher"
sleep 1
t_kill=$(now_ms)
pool slice kill web-2 >/dev/null || fail "kill web-2"
wait "$watcher"
before=$(awk -v t="$t_kill" '$1 < t && $2 == "web-2"' "$TEST_DIR/watch" | wc -l)
late=$(awk -v t=$((t_kill + 1000)) '$1 >= t && ($2 == "web-2" || $2 == "ERR")' "$TEST_DIR/watch" | wc -l)
after=$(awk -v t=$((t_kill + 1000)) '$1 >= t' "$TEST_DIR/watch" | wc -l)
last=$(awk '$2 == "web-2" || $2 == "ERR" { t = $1 } END { printf "%.0f\n", t }' "$TEST_DIR/watch")
log "web-2 answered $before times before its kill; its last answer or a failure $((last > 0 ? last - t_kill : 0)) ms after the kill; $after connections 1 s after"
[ "$before" -gt 0 ] || fail "web-2 never answered before its kill"
[ "$after" -gt 20 ] || fail "too few connections after the kill to judge: $after"
assert_eq "$late" 0 "connections to web-2 or failed, 1 s or more after its kill"

log "a member whose task dies (kill -9 on its node) stops receiving within 1 s"
on_node 1 python3 -c "$watch_py" "$VIP" 4 >"$TEST_DIR/watch3" &
watcher=$!
track_bg "$watcher"
sleep 1
pid3=$(node_acre 3 -j slice show web-3 | jq -r .pid)
[ "$pid3" -gt 1 ] 2>/dev/null || fail "web-3 has no pid: $pid3"
t_kill=$(now_ms)
kill -KILL "$pid3" || fail "kill -9 of web-3's init ($pid3)"
wait "$watcher"
late=$(awk -v t=$((t_kill + 1000)) '$1 >= t && $2 != "web-1"' "$TEST_DIR/watch3" | wc -l)
after=$(awk -v t=$((t_kill + 1000)) '$1 >= t' "$TEST_DIR/watch3" | wc -l)
last=$(awk '$2 != "web-1" { t = $1 } END { printf "%.0f\n", t }' "$TEST_DIR/watch3")
log "web-3's last answer or a failure $((last > 0 ? last - t_kill : 0)) ms after its task died; $after connections 1 s after"
[ "$after" -gt 20 ] || fail "too few connections after the crash to judge: $after"
assert_eq "$late" 0 "connections to web-3 or failed, 1 s or more after its task died"

log "a node leaves: its members go from the VIP on the others"
pool slice run -d --name web-4 --net bridge --constraint n==3 --cap NET_BIND_SERVICE \
	--label acre.service=web --label acre.vip.ports=80/tcp,53/udp \
	-- python3 -c "$member_py" >/dev/null || fail "placing web-4"
wait_for "on_node 1 python3 -c '$count_py' 30 $VIP 80 | jq -e '(.\"web-4\" // 0) > 0'" 15 ||
	fail "web-4 does not join the VIP: $(on_node 1 python3 -c "$count_py" 30 "$VIP" 80)"
A4=$(api GET /v1/slices/web-4 | jq -r .address)
N3=$(node_id 3)
kill_node 3
wait_for "[ \"\$(api GET /v1/nodes/$N3 | jq -r .state)\" = down ]" 15 ||
	fail "node 3 is not down: $(api GET /v1/nodes/$N3 | jq -c '{state, reason}')"
t_down=$(now_ms)
wait_for "[ \"\$(on_node 1 python3 -c '$count_py' 60 $VIP 80)\" = '{\"web-1\": 60}' ]" 2 ||
	fail "node 1 still reaches web-4 through the VIP after node 3 left: $(on_node 1 python3 -c "$count_py" 60 "$VIP" 80)"
log "web-4 out of the VIP on node 1 $(($(now_ms) - t_down)) ms after node 3 was down"
# Its process goes on (a supervisor's crash leaves slices running): only the VIP's
# table kept node 1 away from it.
assert_eq "$(on_node 3 python3 -c "$count_py" 5 "$A4" 80)" '{"web-4": 5}' "web-4 at $A4, asked on node 3"

log "test_pool_vip: $(( ($(now_ms) - T0) / 1000 )) s"
