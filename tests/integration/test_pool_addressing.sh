#!/usr/bin/env bash
# The pool's addressing, controller side: bad --pool-cidr, --vip-cidr,
# --node-subnet-bits and --overlay are refused at start with an error
# naming the option; every node gets a subnet of --pool-cidr at its first
# registration, distinct from the others', the same after a `kill -9` of
# the controller and after a restart of its supervisor; a node that
# registers with a network member (sent here by hand on the node port, as
# a supervisor on the pool's network does) gets the pool's network in its
# reply and then the full net.peers / net.names / net.vips tables, and a
# second one is announced to the first as a change; a node whose address
# lies inside the pool is refused; `acre node show` prints the overlay,
# the subnet and the routes; names in .acre are checked when a slice is
# created (not a DNS label: 400 naming the field; taken by a slice or a
# group, whatever the case: 409 exists), and a group with acre.vip.ports
# has a VIP from --vip-cidr, shown by the API and `acre slice show`; a
# node removed (`acre node rm`) gives its subnet to the next one.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init
T0=$(now_ms)
POOL_CIDR=198.19.0.0/17
VIP_CIDR=198.19.128.0/20
CTL_ARGS=(--pool-cidr "$POOL_CIDR" --vip-cidr "$VIP_CIDR" --node-timeout 2s --lost-after 20s)

log "bad options are refused before anything starts"
bad_option() {
	local want=$1 out
	shift
	out=$("$ACRE_BIN/acre-controller" --data-dir "$TEST_DIR/badflags" --insecure \
		--node-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 \
		--join-token-file "$TEST_DIR/join-token" --api-token-file "$TEST_DIR/api-token" \
		"$@" 2>&1) && fail "$* was accepted"
	assert_contains "$out" "$want"
}
bad_option "--pool-cidr 198.19.0.0/25 is too small" --pool-cidr 198.19.0.0/25 --vip-cidr "$VIP_CIDR"
bad_option "overlaps --pool-cidr" --pool-cidr "$POOL_CIDR" --vip-cidr 198.19.64.0/20
bad_option "--overlay weave: unknown" --pool-cidr "$POOL_CIDR" --vip-cidr "$VIP_CIDR" --overlay weave
bad_option "--node-subnet-bits 31" --pool-cidr "$POOL_CIDR" --vip-cidr "$VIP_CIDR" --node-subnet-bits 31
bad_option "--node-subnet-bits 0" --pool-cidr "$POOL_CIDR" --vip-cidr "$VIP_CIDR" --node-subnet-bits 0
bad_option "--pool-cidr 198.19.0.1/17" --pool-cidr 198.19.0.1/17 --vip-cidr "$VIP_CIDR"
[ -e "$TEST_DIR/badflags/controller.db" ] && fail "a refused start made a store"

log "network, certificates, controller, two supervisors"
net_setup 2
make_certs
start_controller
start_node 1 --attr zone=a
start_node 2 --attr zone=b
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready" and .schedulable)] | length'; }
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "two nodes ready: $(api GET /v1/nodes | jq -c .)"
N1=$(node_id 1)
N2=$(node_id 2)
subnet_of() { api GET "/v1/nodes/$1" | jq -r '.network.subnet'; }
S1=$(subnet_of "$N1")
S2=$(subnet_of "$N2")
log "subnets: $N1 $S1, $N2 $S2"
for s in "$S1" "$S2"; do
	case $s in 198.19.*.0/24) ;; *) fail "subnet $s is not a /24 of $POOL_CIDR" ;; esac
done
[ "$S1" != "$S2" ] || fail "two nodes got the same subnet $S1"
# No --node-address: where peers reach a node is its connection's source address.
assert_eq "$(api GET "/v1/nodes/$N1" | jq -r .network.address)" "$SUBNET.11"
assert_eq "$(api GET "/v1/nodes/$N2" | jq -r .network.address)" "$SUBNET.12"
net=$(api GET /v1/network)
assert_eq "$(jq -r .pool_cidr <<<"$net")" "$POOL_CIDR"
assert_eq "$(jq -r .vip_cidr <<<"$net")" "$VIP_CIDR"
assert_eq "$(jq -r .overlay <<<"$net")" "host-gw"
assert_eq "$(jq -r --arg n "$N1" '.nodes[] | select(.id == $n) | .subnet' <<<"$net")" "$S1"

# ---- registrations with a network member, by hand ------------------------------------------

# node_session ID SECRET ADDRESS [SECONDS]: registers with a network member, prints the reply
# and every line the controller sends within SECONDS (default 1.5), one per line.
node_session() {
	python3 - "$CTL_ADDR" "$NODE_PORT" "$TLS" "$(cat "$TEST_DIR/join-token")" "$@" <<'EOF'
import json, socket, ssl, sys, time
host, port, tls, token, nid, secret, address = sys.argv[1:8]
wait = float(sys.argv[8]) if len(sys.argv) > 8 else 1.5
ctx = ssl.create_default_context(cafile=tls + "/ca.crt")
ctx.load_cert_chain(tls + "/node.crt", tls + "/node.key")
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=5), server_hostname=host)
reg = {"op": "register", "id": 1, "token": token, "protocol": 1,
       "node": {"id": nid, "secret": secret, "hostname": nid,
                "capacity": {"cpus": 2, "memory": 1 << 30, "net": 1000000000},
                "network": {"address": address, "vtep_mac": "02:ac:5e:00:00:01"}}}
s.sendall((json.dumps(reg) + "\n").encode())
buf, end = b"", time.time() + wait
s.settimeout(0.2)
while time.time() < end:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        continue
    except (ssl.SSLError, ConnectionResetError):
        break
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        print(line.decode(), flush=True)
        msg = json.loads(line)
        if "op" in msg:  # a request of the controller's: answered, as a node does
            s.sendall((json.dumps({"id": msg["id"], "ok": True, "result": {}}) + "\n").encode())
EOF
}
SECRET_A=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
SECRET_B=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
ADDR_A=$SUBNET.50
ADDR_B=$SUBNET.51

log "a node inside the pool's range is refused"
out=$(node_session fake-in "$SECRET_A" 198.19.100.1 0.5)
assert_contains "$out" '"field":"node.network.address"'
assert_contains "$out" "inside the pool"
api GET /v1/nodes/fake-in >/dev/null
assert_eq "$(last_code)" 404

log "a node with a network member: the pool's network in its reply, then the full tables"
node_session fake-a "$SECRET_A" "$ADDR_A" 4 >"$TEST_DIR/fake-a.out" &
A_PID=$!
track_bg "$A_PID"
wait_for "grep -q net.vips '$TEST_DIR/fake-a.out'" 5 || fail "no tables for fake-a: $(cat "$TEST_DIR/fake-a.out")"
reply=$(head -1 "$TEST_DIR/fake-a.out")
SA=$(jq -r .result.network.subnet <<<"$reply")
assert_eq "$(jq -r .result.network.pool_cidr <<<"$reply")" "$POOL_CIDR"
assert_eq "$(jq -r .result.network.vip_cidr <<<"$reply")" "$VIP_CIDR"
assert_eq "$(jq -r .result.network.overlay <<<"$reply")" "host-gw"
assert_eq "$(jq -r .result.network.vni <<<"$reply")" "7470"
assert_eq "$(jq -r .result.network.address <<<"$reply")" "$ADDR_A"
for s in "$S1" "$S2"; do [ "$SA" != "$s" ] || fail "fake-a got $s, already given"; done
# The peers a node is sent: the others that joined the pool's network and are not down.
peer_ids() { jq -r '[.set[].node] | sort | join(",")' <<<"$1"; }
want_peers() {
	api GET /v1/network | jq -r --arg me "$1" \
		'[.nodes[] | select(.joined and .state != "down" and .id != $me) | .id] | sort | join(",")'
}
peers=$(grep '"net.peers"' "$TEST_DIR/fake-a.out" | head -1)
assert_eq "$(jq -r .full <<<"$peers")" "true"
assert_eq "$(peer_ids "$peers")" "$(want_peers fake-a)"
log "a second one: the first is told, as a change"
outb=$(node_session fake-b "$SECRET_B" "$ADDR_B" 1)
peers_b=$(grep '"net.peers"' <<<"$outb")
assert_eq "$(peer_ids "$peers_b")" "$(want_peers fake-b)"
assert_eq "$(jq -r '.set[] | select(.node == "fake-a") | .subnet' <<<"$peers_b")" "$SA"
wait "$A_PID"
delta=$(grep '"net.peers"' "$TEST_DIR/fake-a.out" | grep '"fake-b"' | head -1)
assert_eq "$(jq -r .full <<<"$delta")" "false"
assert_eq "$(jq -r '.set[] | select(.node == "fake-b") | .address' <<<"$delta")" "$ADDR_B"
SB=$(subnet_of fake-b)
[ "$SB" != "$SA" ] || fail "fake-a and fake-b share $SA"
show=$(pool node show fake-b)
assert_contains "$show" "overlay:     host-gw"
assert_contains "$show" "subnet:      $SB"
assert_contains "$show" "via $ADDR_A"
assert_eq "$(api GET /v1/nodes/fake-b | jq -r --arg a "$ADDR_A" '.network.routes[] | select(.via == $a) | .subnet')" "$SA"
out=$(pool pool show)
assert_contains "$out" "NET (CAP/USED/FREE)"
# The supervisors report their link's speed as capacity.net (a veth says 10 Gbit/s).
assert_eq "$(api GET "/v1/nodes/$N1" | jq -r .capacity.net)" "10000000000"
assert_eq "$(api GET /v1/nodes/fake-b | jq -r .capacity.net)" "1000000000"

log "kill -9 of the controller: the same subnets afterwards"
kill_controller
start_controller
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "nodes back: $(api GET /v1/nodes | jq -c .)"
assert_eq "$(subnet_of "$N1")" "$S1"
assert_eq "$(subnet_of "$N2")" "$S2"
assert_eq "$(subnet_of fake-a)" "$SA"
out=$(node_session fake-a "$SECRET_A" "$ADDR_A" 1)
assert_eq "$(head -1 <<<"$out" | jq -r .result.network.subnet)" "$SA"
assert_eq "$(grep '"net.peers"' <<<"$out" | jq -r '.set[] | select(.node == "fake-b") | .subnet')" "$SB"

log "a supervisor restarted keeps its subnet"
kill_node 1
start_node 1 --attr zone=a
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "node 1 back: $(api GET /v1/nodes | jq -c .)"
assert_eq "$(subnet_of "$N1")" "$S1"

# ---- names ----------------------------------------------------------------------------------

log "names in .acre are checked when a slice is created"
create() { api POST /v1/slices "$1"; }
out=$(create '{"spec": {"name": "web_1", "command": ["/bin/sleep", "30"], "network": {"mode": "bridge"}}}')
assert_eq "$(last_code)" 400
assert_eq "$(jq -r .error.field <<<"$out")" "name"
out=$(create '{"spec": {"name": "web-1", "command": ["/bin/sleep", "30"], "labels": {"acre.service": "web.x"}}}')
assert_eq "$(last_code)" 400
assert_eq "$(jq -r .error.field <<<"$out")" "spec.labels.acre.service"
out=$(create '{"spec": {"name": "web-1", "command": ["/bin/sleep", "30"], "labels": {"acre.service": "web", "acre.vip.ports": "80"}}}')
assert_eq "$(last_code)" 400
assert_eq "$(jq -r .error.field <<<"$out")" "spec.labels.acre.vip.ports"
create '{"spec": {"name": "web-1", "command": ["/bin/sleep", "60"], "labels": {"acre.service": "web", "acre.vip.ports": "80/tcp,53/udp"}}}' >/dev/null
assert_eq "$(last_code)" 201
out=$(create '{"spec": {"name": "WEB", "command": ["/bin/sleep", "30"]}}')
assert_eq "$(last_code)" 409
assert_eq "$(jq -r .error.code <<<"$out")" "exists"
assert_eq "$(jq -r .error.field <<<"$out")" "name"
out=$(create '{"spec": {"name": "db-1", "command": ["/bin/sleep", "30"], "labels": {"acre.service": "Web-1"}}}')
assert_eq "$(last_code)" 409
assert_eq "$(jq -r .error.field <<<"$out")" "spec.labels.acre.service"
api GET /v1/slices/WEB >/dev/null
assert_eq "$(last_code)" 404
create '{"spec": {"name": "web-2", "command": ["/bin/sleep", "60"], "labels": {"acre.service": "web", "acre.vip.ports": "80/tcp,53/udp"}}}' >/dev/null
assert_eq "$(last_code)" 201
vip=$(api GET /v1/slices/web-1 | jq -r '.vips[0].vip')
case $vip in 198.19.12[89].* | 198.19.13[0-9].* | 198.19.14[0-3].*) ;; *) fail "VIP $vip is not in $VIP_CIDR" ;; esac
assert_eq "$(api GET /v1/slices/web-2 | jq -r '.vips[0].vip')" "$vip"
assert_eq "$(api GET /v1/network | jq -r '.vips[] | select(.name == "web") | .vip')" "$vip"
assert_contains "$(pool slice show web-2)" "vip:        $vip (web.acre, 80/tcp,53/udp)"
log "kill -9 of the controller: the group keeps its VIP"
kill_controller
start_controller
assert_eq "$(api GET /v1/slices/web-2 | jq -r '.vips[0].vip')" "$vip"

log "a node removed gives its subnet back; a connected one is not removed"
out=$(api DELETE "/v1/nodes/$N2")
assert_eq "$(last_code)" 409
assert_eq "$(jq -r .error.code <<<"$out")" "busy"
pool node rm --force fake-b >/dev/null || fail "acre node rm --force fake-b"
api GET /v1/nodes/fake-b >/dev/null
assert_eq "$(last_code)" 404
out=$(node_session fake-c "$SECRET_B" "$SUBNET.52" 1)
assert_eq "$(head -1 <<<"$out" | jq -r .result.network.subnet)" "$SB"
# The full table; changes may follow it (the supervisors are on the pool's network too).
peers=$(grep '"net.peers"' <<<"$out" | head -1)
assert_not_contains "$(peer_ids "$peers")" "fake-b"
assert_eq "$(peer_ids "$peers")" "$(want_peers fake-c)"

# ---- a slice's address from its node's reports, names pushed, a killed one gone first -------

# fake_node ID SECRET ADDRESS SECONDS: a node on the pool's network for SECONDS: it registers,
# syncs, heartbeats, takes every assign (reporting each slice running at the next address of
# its subnet), takes kills (reporting the slice killed), answers every net.* message; it prints
# every line it gets, and "sent update SLICE STATE" for each report it sends.
fake_node() {
	python3 - "$CTL_ADDR" "$NODE_PORT" "$TLS" "$(cat "$TEST_DIR/join-token")" "$@" <<'EOF2'
import ipaddress, json, socket, ssl, sys, time
host, port, tls, token, nid, secret, address, seconds = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=tls + "/ca.crt")
ctx.load_cert_chain(tls + "/node.crt", tls + "/node.key")
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=5), server_hostname=host)
ids, seq, hosts = [100], [0], None
def send(msg):
    s.sendall((json.dumps(msg) + "\n").encode())
def request(op, **kw):
    ids[0] += 1
    send(dict(op=op, id=ids[0], **kw))
def report(name, state, addr=None):
    seq[0] += 1
    u = {"seq": seq[0], "slice": name, "state": state, "reason": "", "restarts": 0}
    if addr:
        u["address"] = addr
    request("update", updates=[u])
    print("sent update", name, state, flush=True)
send({"op": "register", "id": 1, "token": token, "protocol": 1,
      "node": {"id": nid, "secret": secret, "hostname": nid,
               "capacity": {"cpus": 2, "memory": 1 << 30, "net": 1000000000},
               "network": {"address": address}}})
buf, end, beat = b"", time.time() + float(seconds), 0
s.settimeout(0.1)
while time.time() < end:
    if time.time() > beat:
        request("heartbeat", usage={})
        beat = time.time() + 0.4
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        continue
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        msg = json.loads(line)
        print(line.decode(), flush=True)
        if msg.get("id") == 1 and msg.get("ok"):
            hosts = ipaddress.ip_network(msg["result"]["network"]["subnet"]).hosts()
            next(hosts)  # the gateway
            request("sync", seq=0, slices=[])
        op = msg.get("op")
        if op is None:
            continue
        if op == "assign":
            send({"id": msg["id"], "ok": True, "result": {"assigned": len(msg["slices"]), "failed": []}})
            for it in msg["slices"]:
                report(it["slice"], "running", str(next(hosts)))
        elif op == "kill":
            send({"id": msg["id"], "ok": True, "result": {}})
            report(msg["slice"], "killed")
        else:
            send({"id": msg["id"], "ok": True, "result": {}})
EOF2
}

log "a slice's address comes with its node's report, and its name is pushed"
fake_node fake-a "$SECRET_A" "$ADDR_A" 6 >"$TEST_DIR/fake-a2.out" &
track_bg $!
wait_for "[ \"\$(api GET /v1/nodes/fake-a | jq -r .schedulable)\" = true ]" 5 ||
	fail "fake-a takes no slices: $(cat "$TEST_DIR/fake-a2.out")"
create '{"spec": {"name": "api-1", "command": ["/bin/sleep", "60"], "network": {"mode": "bridge"}, "labels": {"acre.service": "api"}}, "placement": {"constraints": ["node.id==fake-a"]}}' >/dev/null
assert_eq "$(last_code)" 201
wait_for "grep -q 'sent update api-1 running' '$TEST_DIR/fake-a2.out'" 5 || fail "api-1 never assigned: $(cat "$TEST_DIR/fake-a2.out")"
wait_for "[ \"\$(api GET /v1/slices/api-1 | jq -r .state)\" = running ]" 5 || fail "api-1 not running"
A1=$(api GET /v1/slices/api-1 | jq -r .address)
case $A1 in "${SA%.0/24}".*) ;; *) fail "api-1's address $A1 is not in fake-a's $SA" ;; esac
wait_for "grep '\"net.names\"' '$TEST_DIR/fake-a2.out' | matches '\"api-1\"'" 3 ||
	fail "no net.names with api-1: $(cat "$TEST_DIR/fake-a2.out")"
names=$(grep '"net.names"' "$TEST_DIR/fake-a2.out" | grep '"api-1"' | head -1)
assert_eq "$(jq -r '.set[] | select(.name == "api-1") | .addresses[0]' <<<"$names")" "$A1"
assert_eq "$(jq -r '.set[] | select(.name == "api") | .addresses[0]' <<<"$names")" "$A1"
assert_eq "$(api GET /v1/network | jq -r '.names[] | select(.name == "api-1") | .addresses[0]')" "$A1"
log "killed through the pool: its name leaves before the kill is sent"
api POST /v1/slices/api-1/kill >/dev/null
assert_eq "$(last_code)" 202
wait_for "grep -q 'sent update api-1 killed' '$TEST_DIR/fake-a2.out'" 5 || fail "api-1 never killed: $(cat "$TEST_DIR/fake-a2.out")"
gone_at=$(grep -n '"net.names"' "$TEST_DIR/fake-a2.out" | grep '"gone":\[[^]]*"api-1"' | head -1 | cut -d: -f1)
kill_at=$(grep -n '"op":"kill"' "$TEST_DIR/fake-a2.out" | head -1 | cut -d: -f1)
[ -n "$gone_at" ] && [ -n "$kill_at" ] && [ "$gone_at" -lt "$kill_at" ] ||
	fail "api-1 left names at line ${gone_at:-never}, its kill came at line ${kill_at:-never}"
wait_for "[ \"\$(api GET /v1/slices/api-1 | jq -r '.address // \"none\"')\" = none ]" 5 ||
	fail "api-1 kept its address after it ended"

log "passed in $(($(now_ms) - T0)) ms"
