#!/bin/bash
# NAT out of the node and published ports in, with one supervisor in a
# network namespace of the test's own ("node") joined by a veth to another
# ("outside", a listener at 198.18.X.2 standing for the world); slices in
# 198.19.Y.0/24.  A bridged slice reaches the listener, which sees the node's
# address; --egress none blocks it; --publish makes a slice's HTTP server
# answer on the node's address from outside, from the node itself and from
# another slice of the node; a
# node port that a process holds, or another slice publishes, is refused
# with nothing created; a host forward chain with policy drop is named by
# `acre node local`; kill -9 of the supervisor and a restart keep the
# published port answering; a clean stop with no slice left removes the
# table, and no other table changed.
. "$(dirname "$0")/lib.sh"
require ip python3 jq curl nft nsenter
t0=$(now_ms)
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
node=${CGROOT#acre-}
outside=$node-out
make_netns "$node"
make_netns "$outside"
x=$((RANDOM % 200 + 20))
node_addr=198.18.$x.1
out_addr=198.18.$x.2
ip link add "acn$id" type veth peer name "aco$id" || fail "veth"
ip link set "acn$id" netns "$node"
ip link set "aco$id" netns "$outside"
ip -n "$node" addr add "$node_addr/24" dev "acn$id"
ip -n "$outside" addr add "$out_addr/24" dev "aco$id"
ip -n "$node" link set "acn$id" up
ip -n "$outside" link set "aco$id" up
# Outside knows no route to the slices: only NAT can bring their traffic back.
in_node() { nsenter --net="/run/netns/$node" -- "$@"; }
in_out() { nsenter --net="/run/netns/$outside" -- "$@"; }

SUP_WRAP=(nsenter --net="/run/netns/$node")
bridge=acrn$id
cidr=198.19.$((RANDOM % 200 + 20)).0/24
table=$CGROOT
other_tables=$(in_node nft list tables)

# The outside listener: answers each connection with the peer address it saw.
spawn_bg nsenter --net="/run/netns/$outside" -- python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$out_addr', 9000)); s.listen(64)
while True:
    c, a = s.accept(); c.sendall(a[0].encode() + b'\n'); c.close()"
wait_for "in_out python3 -c \"import socket; socket.create_connection(('$out_addr', 9000), 1).close()\"" 10 ||
	fail "the outside listener does not listen"

# reach: run a bridged slice that connects outside; prints what the listener saw.
reach() {
	acre slice run --rm --net bridge -- python3 -c "
import socket
s = socket.create_connection(('$out_addr', 9000), $(scaled 3))
print(s.recv(100).decode().strip())"
}

# ---- egress nat -------------------------------------------------------------------------
start_supervisor --slice-cidr "$cidr" --bridge "$bridge"
seen=$(reach) || fail "a bridged slice cannot reach outside: $seen"
assert_eq "$seen" "$node_addr" "the address the outside listener saw"
log "egress nat: the outside saw $seen"
in_node nft list table ip "$table" >"$TEST_DIR/table" || fail "no table $table"
assert_contains "$(cat "$TEST_DIR/table")" masquerade "table $table"

# ---- a host firewall that drops what the node forwards: found and said ------------------------
# (Docker sets ip filter FORWARD so.)  In the node's namespace, which is the test's own.
assert_eq "$(acre -j node local | jq -r .forward_dropped_by)" null "forward_dropped_by with no such chain"
in_node nft add table ip filter
in_node nft add chain ip filter FORWARD '{ type filter hook forward priority 0; policy drop; }'
assert_eq "$(acre -j node local | jq -r .forward_dropped_by)" "ip filter FORWARD" "the chain named"
assert_contains "$(acre node local)" "the host's ip filter FORWARD (policy drop) drops what this node forwards" \
	"node local's warning"
seen=$(reach 2>&1) && fail "the host's drop policy let a slice out ($seen): the warning would be wrong"
in_node nft delete table ip filter
seen=$(reach) || fail "the drop policy gone, a bridged slice cannot reach outside: $seen"
log "a host forward chain with policy drop: named by node local, and it does block"

# ---- published ports --------------------------------------------------------------------
# web serves HTTP on 8000 and echoes UDP on 5353, published as 8080/tcp and 8053/udp.
acre slice run -d --name web --net bridge --publish 8080:8000 --publish 8053:5353/udp -- \
	python3 -c "
import http.server, socket, threading
def echo():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', 5353))
    while True:
        d, a = u.recvfrom(100); u.sendto(d, a)
threading.Thread(target=echo, daemon=True).start()
http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=8000, bind='0.0.0.0')
" >/dev/null || fail "run web"
assert_eq "$(slice_field web '.network.publish | length')" 2 "published ports in show -j"
assert_contains "$(acre slice show web)" "node port 8080 -> 8000/tcp, node port 8053 -> 5353/udp"
wait_for "in_out curl -sf -m 2 http://$node_addr:8080/" 15 || fail "web does not answer from outside"
in_node curl -sf -m 2 "http://$node_addr:8080/" >/dev/null || fail "web does not answer from the node"
udp_echo="import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b'ping', ('$node_addr', 8053)); assert s.recvfrom(100)[0] == b'ping'"
in_out python3 -c "$udp_echo" || fail "8053/udp does not echo from outside"
# From another slice of the node: DNAT back onto the bridge, masqueraded so the reply returns.
acre slice run --rm --net bridge -- python3 -c "
import urllib.request; urllib.request.urlopen('http://$node_addr:8080/', timeout=$(scaled 3)).read()" ||
	fail "web does not answer another slice of the node on the node's address"
log "published 8080 answers from outside, from the node and from a slice of the node; 8053/udp echoes"

# A port published by another slice, a port a process of the node holds, bad ports.
out=$(acre slice run -d --name web2 --net bridge --publish 8080:80 -- sleep 100 2>&1) &&
	fail "a second slice published 8080"
assert_contains "$out" "published by slice web"
spawn_bg nsenter --net="/run/netns/$node" -- python3 -c "
import socket, time
s = socket.socket(); s.bind(('0.0.0.0', 8081)); s.listen(1); time.sleep(600)"
wait_for "in_node python3 -c \"import socket; socket.create_connection(('127.0.0.1', 8081), 1).close()\"" 10 ||
	fail "the node's own listener"
out=$(acre slice run -d --name web3 --net bridge --publish 8081:80 -- sleep 100 2>&1) &&
	fail "published a port a process of the node holds"
assert_contains "$out" "8081/tcp is taken on this node"
for bad in 0:80 8082:65536 8082:80/sctp 8082; do
	out=$(acre slice run -d --name web4 --net bridge --publish "$bad" -- sleep 100 2>&1) &&
		fail "--publish $bad was accepted"
	assert_contains "$out" "--publish"
done
out=$(acre slice run -d --name web4 --net bridge --publish 8082:80 --publish 8082:81 -- sleep 1 2>&1) &&
	fail "a duplicate --publish was accepted"
assert_contains "$out" "published twice"
out=$(acre slice run -d --name web4 --publish 8082:80 -- sleep 1 2>&1) && fail "--publish without bridge"
assert_contains "$out" "needs network.mode bridge"
[ "$(acre -j slice list | jq 'length')" = 1 ] || fail "a refused slice was left: $(acre slice list)"
# The port of a refused slice is no one's: a held bind is the only thing on 8081.
# (nft's output is read whole first: grep -q stopping early would fail the pipe under pipefail)
publish_map() { in_node nft list map ip "$table" publish; }
assert_not_contains "$(publish_map)" 8081 "the publish map"

# ---- kill -9 and restart keep the published port -------------------------------------------
kill_supervisor
in_node nft list table ip "$table" >/dev/null || fail "kill -9 removed the table"
in_out curl -sf -m 2 "http://$node_addr:8080/" >/dev/null || fail "web stopped answering after kill -9"
restart_supervisor
in_out curl -sf -m 2 "http://$node_addr:8080/" >/dev/null || fail "web stopped answering after a restart"
assert_contains "$(publish_map)" "tcp . 8080 : " "the publish map after a restart"
out=$(acre slice run -d --name web2 --net bridge --publish 8080:80 -- sleep 100 2>&1) &&
	fail "after a restart a second slice published 8080"
log "kill -9 and a restart: 8080 still answers and is still taken"

# ---- removal and a clean stop ----------------------------------------------------------
acre slice rm --force web >/dev/null || fail "rm web"
assert_not_contains "$(publish_map)" 8080 "the publish map after rm"
stop_supervisor || fail "stop"
in_node nft list table ip "$table" >/dev/null 2>&1 && fail "a clean stop left table $table"
assert_eq "$(in_node nft list tables)" "$other_tables" "the other tables"

# ---- egress none ---------------------------------------------------------------------------
start_supervisor --slice-cidr "$cidr" --bridge "$bridge" --egress none
seen=$(reach 2>&1) && fail "--egress none: a bridged slice reached outside ($seen)"
acre slice run -d --name web --net bridge --publish 8080:8000 -- \
	python3 -m http.server 8000 --bind 0.0.0.0 >/dev/null || fail "run web (egress none)"
wait_for "in_out curl -sf -m 2 http://$node_addr:8080/" 15 ||
	fail "with --egress none a published port does not answer from outside"
acre slice rm --force web >/dev/null
stop_supervisor || fail "stop"
in_node nft list table ip "$table" >/dev/null 2>&1 && fail "a clean stop left table $table"
log "egress none blocks the way out, published ports still answer"
log "test_pool_nat: $(($(now_ms) - t0)) ms"
