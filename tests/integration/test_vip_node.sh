#!/bin/bash
# Virtual IPs on one node, driven through the node link exactly as the controller drives
# them (net.vips, controller/README.md "Pool networking"; tests/integration/vip_link.py is
# the controller's end of the link).  The supervisor runs in a network namespace of the
# test's own, its slices bridged on 198.18.0.0/24, its VIP programs attached at a cgroup of
# the test's own (--vip-cgroup, never the real root) that holds the supervisor's subtree and
# a "node process" cgroup for clients.  Checks: 300 connections to a VIP with three members
# land on all three (none under 20%), from the node and from a slice; a member killed stops
# receiving within 1 s; members changed back and forth under connections never fail one;
# UDP to a VIP gets its reply from the VIP (sendmsg + recvmsg), on v4 and v6 sockets, and a
# connected UDP socket's getpeername names the VIP; a VIP with no member refuses at once;
# --allow is checked against the member chosen, not the VIP; a bad message is refused whole
# naming its field, and a --vip-cgroup outside the v2 tree at start; slice show lists the
# group's VIPs; the programs survive kill -9 and are re-adopted, and a clean stop detaches
# them.
. "$(dirname "$0")/lib.sh"
require ip python3 jq nsenter bpftool
T0=$(now_ms)
V2=$(cgroup_v2_mount)
[ -n "$V2" ] || skip "no cgroup v2 tree"
ns=${CGROOT#acre-}
make_netns "$ns"
SUP_WRAP=(nsenter --net="/run/netns/$ns")
bridge=acrv$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
VIP=198.19.128.1
VIPCG=$V2/$CGROOT
mkdir -p "$VIPCG/client" || fail "mkdir $VIPCG/client"
LINK=$TEST_DIR/link.sock
echo "vip-test-token" >"$TEST_DIR/token"

# A --vip-cgroup outside the cgroup v2 tree is refused before anything is made.
out=$("$ACRE_BIN/acre-supervisor" --socket "$TEST_DIR/bad.sock" --state-dir "$TEST_DIR/bad" \
	--cgroup-root "$CGROOT/bad" --vip-cgroup "$TEST_DIR" 2>&1) && fail "--vip-cgroup $TEST_DIR accepted"
assert_contains "$out" "--vip-cgroup $TEST_DIR: not a directory of the cgroup v2 tree"
[ -e "$TEST_DIR/bad" ] && fail "a refused start made its state directory"

spawn_bg nsenter --net="/run/netns/$ns" python3 "$ACRE_TEST_LIB/vip_link.py" serve 7471 "$LINK"
wait_for "[ -S '$LINK' ]" 5 || fail "the link's controller end does not listen"
SUP=(--cgroup-root "$CGROOT/node" --vip-cgroup "$VIPCG" --slice-cidr 198.18.0.0/24
	--bridge "$bridge" --prelaunch 0 --stop-timeout 2s --controller 127.0.0.1:7471 --insecure
	--join-token-file "$TEST_DIR/token")
start_supervisor "${SUP[@]}"

# vips JSON...: net.vips messages to the node, one after another; prints the replies, 0 when ok.
vips() { python3 "$ACRE_TEST_LIB/vip_link.py" send "$LINK" "$@"; }
wait_for "vips '{\"op\":\"net.vips\",\"full\":true,\"set\":[],\"gone\":[]}'" 10 ||
	fail "the node does not answer net.vips: $(vips '{"op":"net.vips","full":true,"set":[]}')"

# on_node CMD...: a process of the node (its namespace, the VIP cgroup), not of a slice.
on_node() {
	nsenter --net="/run/netns/$ns" sh -c 'echo $$ >"$1/cgroup.procs" || exit 99; shift; exec "$@"' \
		sh "$VIPCG/client" "$@"
}

# A member: answers TCP 8080 with its name, echoes UDP 5353 behind its name.
member_py='import os, socket, threading
name = os.environ["HOSTNAME"].encode()
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 5353))
    while True:
        d, a = u.recvfrom(512); u.sendto(name + b" " + d, a)
threading.Thread(target=udp, daemon=True).start()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(512)
while True:
    c = s.accept()[0]; c.sendall(name); c.close()'

# count N [DEST]: N connections to VIP:80 (or DEST), one line: {"web-1": n, ..., "ERR...": n}.
count_py='import collections, json, socket, sys
n, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = collections.Counter()
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=1)
        c[s.recv(64).decode()] += 1; s.close()
    except OSError as e:
        c["ERR " + (e.strerror or type(e).__name__)] += 1
print(json.dumps(c))'

for i in 1 2 3; do
	acre slice run -d --name "web-$i" --net bridge --label acre.service=web \
		--label acre.vip.ports=80/tcp,53/udp -- python3 -c "$member_py" >/dev/null ||
		fail "run web-$i"
done
declare -A ADDR
for i in 1 2 3; do
	wait_state "web-$i" running 10
	ADDR[$i]=$(slice_field "web-$i" .network.address | cut -d/ -f1)
	wait_for "on_node python3 -c '$count_py' 1 ${ADDR[$i]} 8080 | matches web-$i" 10 ||
		fail "web-$i does not answer on ${ADDR[$i]}:8080"
done
log "members ${ADDR[1]} ${ADDR[2]} ${ADDR[3]}, VIP $VIP"

# vip_msg FULL MEMBER...: the VIP of group web, 80/tcp -> 8080 and 53/udp -> 5353.
vip_msg() {
	local full=$1 i tcp="" udp=""
	shift
	for i in "$@"; do
		tcp+="${tcp:+,}{\"address\":\"${ADDR[$i]}\",\"port\":8080}"
		udp+="${udp:+,}{\"address\":\"${ADDR[$i]}\",\"port\":5353}"
	done
	printf '{"op":"net.vips","full":%s,"set":[{"name":"web","vip":"%s","ports":[%s,%s]}],"gone":[]}' \
		"$full" "$VIP" "{\"port\":80,\"proto\":\"tcp\",\"backends\":[$tcp]}" \
		"{\"port\":53,\"proto\":\"udp\",\"backends\":[$udp]}"
}
out=$(vips "$(vip_msg true 1 2 3)") || fail "net.vips refused: $out"

# ---- 300 connections land on all three --------------------------------------------------
spread_ok() { # spread_ok JSON WHO
	local j=$1 i n
	for i in 1 2 3; do
		n=$(jq -r --arg k "web-$i" '.[$k] // 0' <<<"$j")
		[ "$n" -ge 60 ] || fail "$2: web-$i got $n of 300 (under 20%): $j"
	done
	[ "$(jq '[to_entries[] | select(.key | startswith("ERR"))] | length' <<<"$j")" = 0 ] ||
		fail "$2: failed connections: $j"
}
j=$(on_node python3 -c "$count_py" 300 "$VIP" 80) || fail "client on the node: $j"
log "from the node: $j"
spread_ok "$j" "from the node"
j=$(acre slice run --rm --net bridge -- python3 -c "$count_py" 300 "$VIP" 80) ||
	fail "client in a slice: $j"
log "from a slice: $j"
spread_ok "$j" "from a slice"

# ---- slice show: the group's VIPs --------------------------------------------------------
show=$(acre -j slice show web-1)
assert_eq "$(jq -r '.vips[0].vip' <<<"$show")" "$VIP" "slice show -j .vips[0].vip"
assert_eq "$(jq -c '.vips[0] | [.group, .ports]' <<<"$show")" '["web","80/tcp,53/udp"]' \
	"slice show -j .vips[0]: the pool's shape"
assert_contains "$(acre slice show web-1)" "vip:        $VIP (web.acre, 80/tcp,53/udp)"

# ---- UDP: the reply comes from the VIP -----------------------------------------------------
udp_py='import socket, sys
vip = sys.argv[1]
for fam, dest in ((socket.AF_INET, vip), (socket.AF_INET6, "::ffff:" + vip)):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2)
    s.sendto(b"ping", (dest, 53))
    data, src = s.recvfrom(512)
    assert data.split()[0].startswith(b"web-") and data.endswith(b" ping"), data
    assert src[0] == dest and src[1] == 53, "reply from %s, not the VIP" % (src,)
    # The same socket keeps its member: its datagrams are one conversation.
    for i in range(5):
        s.sendto(b"again", (dest, 53))
        assert s.recvfrom(512)[0].split()[0] == data.split()[0], "the member changed"
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(2)
c.connect((vip, 53)); c.send(b"conn")
data, src = c.recvfrom(512)
assert src == (vip, 53), src
assert c.getpeername() == (vip, 53), "connected UDP peer %s" % (c.getpeername(),)
print("ok")'
out=$(on_node python3 -c "$udp_py" "$VIP" 2>&1) || fail "UDP to the VIP from the node: $out"
out=$(acre slice run --rm --net bridge -- python3 -c "$udp_py" "$VIP" 2>&1) ||
	fail "UDP to the VIP from a slice: $out"

# ---- a bad message changes nothing ---------------------------------------------------------
bad=$(vip_msg false 1 | sed 's/"proto":"udp"/"proto":"sctp"/')
out=$(vips "$bad") && fail "a net.vips with proto sctp was accepted"
assert_contains "$out" '"field": "set[0].ports[1].proto"' "the refusal names the field"
j=$(on_node python3 -c "$count_py" 30 "$VIP" 80)
assert_eq "$(jq '[to_entries[] | select(.key | startswith("web-")) | .value] | add' <<<"$j")" 30 \
	"connections to the VIP after a refused message ($j)"

# ---- a member killed stops receiving within 1 s --------------------------------------------
watch_py='import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    t = int(time.time() * 1000)
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=0.3)
        print(t, s.recv(64).decode(), flush=True); s.close()
    except OSError as e:
        print(t, "ERR", flush=True)
    time.sleep(0.005)'
on_node python3 -c "$watch_py" "$VIP" 3 >"$TEST_DIR/watch" &
watcher=$!
track_bg "$watcher"
sleep 1
t_kill=$(now_ms)
acre slice kill --signal KILL web-2 >/dev/null || fail "kill web-2"
# What the controller does when the node reports web-2 ended.
out=$(vips "$(vip_msg false 1 3)") || fail "net.vips without web-2: $out"
t_push=$(now_ms)
wait "$watcher"
before=$(awk -v t="$t_kill" '$1 < t && $2 == "web-2"' "$TEST_DIR/watch" | wc -l)
late=$(awk -v t=$((t_kill + 1000)) '$1 >= t && ($2 == "web-2" || $2 == "ERR")' "$TEST_DIR/watch" | wc -l)
after=$(awk -v t=$((t_kill + 1000)) '$1 >= t' "$TEST_DIR/watch" | wc -l)
last=$(awk '$2 == "web-2" || $2 == "ERR" { t = $1 } END { printf "%.0f\n", t }' "$TEST_DIR/watch")
log "web-2 answered $before before the kill; push $((t_push - t_kill)) ms after it; last web-2 or failure $((last > 0 ? last - t_kill : 0)) ms after it; $after connections after 1 s"
[ "$before" -gt 0 ] || fail "web-2 never answered before its kill: $(head "$TEST_DIR/watch")"
[ "$after" -gt 20 ] || fail "too few connections after the kill to judge: $after"
assert_eq "$late" 0 "connections to web-2 or failed, 1 s or more after its kill"

# ---- changes never show half-written: flips between two sets under connections -------------
on_node python3 -c "$watch_py" "$VIP" 3 >"$TEST_DIR/flips" &
watcher=$!
track_bg "$watcher"
flips=0
m1=$(vip_msg false 1)
m3=$(vip_msg false 3)
while kill -0 "$watcher" 2>/dev/null; do
	vips "$m1" "$m3" "$m1" "$m3" "$m1" "$m3" "$m1" "$m3" "$m1" "$m3" >/dev/null ||
		fail "a change was refused"
	flips=$((flips + 10))
done
wait "$watcher"
conns=$(wc -l <"$TEST_DIR/flips")
log "$flips changes of members under $conns connections"
assert_eq "$(awk '$2 != "web-1" && $2 != "web-3"' "$TEST_DIR/flips" | head -3)" "" \
	"connections that failed or reached another member while the set changed"
[ "$flips" -ge 40 ] && [ "$conns" -ge 50 ] || fail "too few flips ($flips) or connections ($conns) to judge"
out=$(vips "$(vip_msg false 1 3)") || fail "net.vips web-1, web-3: $out"

# ---- --allow is checked against the member chosen ----------------------------------------------
allow_py='import collections, json, socket, sys
c = collections.Counter()
for i in range(int(sys.argv[2])):
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=1)
        c[s.recv(64).decode()] += 1; s.close()
    except PermissionError:
        c["EPERM"] += 1
    except OSError as e:
        c["ERR " + (e.strerror or "?")] += 1
print(json.dumps(c))'
j=$(acre slice run --rm --net bridge --allow "${ADDR[1]}:8080" -- python3 -c "$allow_py" "$VIP" 30)
log "--allow ${ADDR[1]}:8080 to the VIP: $j"
[ "$(jq '.["web-1"] // 0' <<<"$j")" -gt 0 ] || fail "--allow web-1: never reached web-1: $j"
[ "$(jq '.EPERM // 0' <<<"$j")" -gt 0 ] || fail "--allow web-1: web-3 was never refused: $j"
assert_eq "$(jq '(.["web-3"] // 0) + ([to_entries[] | select(.key | startswith("ERR"))] | length)' <<<"$j")" 0 \
	"--allow web-1: reached web-3 or failed otherwise"
j=$(acre slice run --rm --net bridge --allow "$VIP:80" -- python3 -c "$allow_py" "$VIP" 10)
assert_eq "$j" '{"EPERM": 10}' "--allow VIP:80 only (the members are not allowed)"

# ---- a VIP with no member refuses at once --------------------------------------------------------
out=$(vips '{"op":"net.vips","full":false,"set":[{"name":"empty","vip":"198.19.128.2","ports":[{"port":80,"proto":"tcp","backends":[]}]}],"gone":[]}') ||
	fail "net.vips with an empty VIP: $out"
t=$(now_ms)
j=$(on_node python3 -c "$count_py" 1 198.19.128.2 80)
assert_eq "$j" '{"ERR Connection refused": 1}' "a VIP with no member"
assert_le $(($(now_ms) - t)) 900 "ms to be refused"
out=$(vips '{"op":"net.vips","full":false,"set":[],"gone":["empty"]}') || fail "gone: $out"

# ---- kill -9: the programs stay and are taken back ------------------------------------------------
kill_supervisor
j=$(on_node python3 -c "$count_py" 20 "$VIP" 80)
[ "$(jq '(.["web-1"] // 0) + (.["web-3"] // 0)' <<<"$j")" = 20 ] ||
	fail "VIP after kill -9 of the supervisor: $j"
restart_supervisor
grep -q "prog=vip_connect4 link=kept" "$SUP_LOG" || fail "the VIP programs were not re-adopted"
wait_for "vips '$(vip_msg true 1 3)'" 10 || fail "net.vips after the restart"
j=$(on_node python3 -c "$count_py" 20 "$VIP" 80)
[ "$(jq '(.["web-1"] // 0) + (.["web-3"] // 0)' <<<"$j")" = 20 ] || fail "VIP after the restart: $j"
# A full message without the group takes it out of the table.
out=$(vips '{"op":"net.vips","full":true,"set":[],"gone":[]}') || fail "full, empty: $out"
j=$(on_node python3 -c "$count_py" 1 "$VIP" 80)
assert_not_contains "$j" "web-" "the VIP after a full message without it"

# ---- a clean stop detaches the node-wide programs ---------------------------------------------------
out=$(vips "$(vip_msg false 1 3)") || fail "net.vips: $out"
stop_supervisor || fail "the supervisor's clean stop"
pins=/sys/fs/bpf/acre/$CGROOT/node
[ -e "$pins/connect_vips" ] || fail "the slices' table went at a clean stop with slices running"
ls "$pins" | matches '^vip_' && fail "VIP pins left after a clean stop: $(ls "$pins" | grep '^vip_')"
progs=$(bpftool cgroup show "$VIPCG" 2>&1)
assert_not_contains "$progs" "vip_" "programs at $VIPCG after a clean stop"
restart_supervisor

log "test_vip_node: $(( ($(now_ms) - T0) / 1000 )) s"
