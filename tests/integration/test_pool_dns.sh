#!/bin/bash
# DNS for slices, on a node that runs alone (it names its own slices), in a
# network namespace of the test's own with addresses from 198.18.0.0/15: a
# dnsmasq on 198.18.250.1 in that namespace stands for the host's resolver
# (--resolv-conf).  A slice's name resolves within 1 s of its running and
# stops within 1 s of its end; GROUP.acre gives every running member,
# rotated; a slice finds names through its generated /etc/resolv.conf
# (search acre) and reverse names of slice addresses; an outside name is
# forwarded with its TTL; a dead resolver costs SERVFAIL within ~2 s, and a
# resolv.conf rewritten under the running supervisor is read again; a
# malformed query gets FORMERR or nothing and the next good one is answered
# at once; TCP works and a silent TCP client does not hold the server; a
# non-slice address is refused; a --net none slice fails its lookups at
# once; python3 -m http.server in a bridged slice answers at once.
. "$(dirname "$0")/lib.sh"
require ip dig dnsmasq python3 jq curl
T0=$(now_ms)
ns=${CGROOT#acre-}
make_netns "$ns"
SUP_WRAP=(nsenter --net="/run/netns/$ns")
in_ns() { ip netns exec "$ns" "$@"; }
bridge=acrd$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
gw=198.18.7.1
# The "host's resolver": dnsmasq on a loopback address of the namespace.
in_ns ip addr add 198.18.250.1/32 dev lo
# A client from elsewhere: a namespace routed to the node, 198.18.251.2.
make_netns "$ns-out"
ip -n "$ns" link add "o$bridge" type veth peer name eth0 netns "$ns-out"
ip -n "$ns" addr add 198.18.251.1/30 dev "o$bridge"
ip -n "$ns" link set "o$bridge" up
ip -n "$ns-out" addr add 198.18.251.2/30 dev eth0
ip -n "$ns-out" link set eth0 up
ip -n "$ns-out" route add default via 198.18.251.1
# big.test: ten TXT records of 200 bytes, an answer too large for UDP.
txt=()
for i in 0 1 2 3 4 5 6 7 8 9; do txt+=("--txt-record=big.test,$i$(printf 'x%.0s' $(seq 199))"); done
spawn_bg ip netns exec "$ns" dnsmasq --keep-in-foreground "${txt[@]}" --no-resolv --no-hosts --conf-file=/dev/null \
	--listen-address=198.18.250.1 --bind-interfaces --port 53 --user=root \
	--address=/outside.test/198.18.250.9 --local-ttl=77 --pid-file= --log-facility="$TEST_DIR/dnsmasq.log"
printf 'nameserver 198.18.250.1\n' >"$TEST_DIR/resolv.conf"
wait_for "in_ns dig +short +time=1 +tries=1 @198.18.250.1 outside.test | matches 198.18.250.9" 5 ||
	fail "the test resolver does not answer"
start_supervisor --slice-cidr 198.18.7.0/24 --bridge "$bridge" --resolv-conf "$TEST_DIR/resolv.conf"

q() { in_ns dig +time=1 +tries=1 @"$gw" "$@"; }
short() { q +short "$@"; }
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
addr_of() { slice_field "$1" .network.address | cut -d/ -f1; }

# ---- a name resolves within 1 s of its slice running, and stops within 1 s of its end -----
acre slice run -d --name web-1 --net bridge -- sleep 600 >/dev/null || fail "run web-1"
t=$(now_ms)
wait_state web-1 running 10
wait_for "[ \"\$(short web-1.acre)\" = '$(addr_of web-1)' ]" 1 ||
	fail "web-1.acre does not resolve to $(addr_of web-1) within 1 s: '$(short web-1.acre)'"
log "web-1.acre resolves $(($(now_ms) - t)) ms after run returned"
assert_eq "$(short WEB-1.ACRE)" "$(addr_of web-1)" "names without case"
assert_eq "$(status nope.acre)" NXDOMAIN "an unknown name"
assert_eq "$(status web-1.acre AAAA)" NOERROR "a known name, another type"
assert_eq "$(q +short web-1.acre AAAA)" "" "no AAAA"
ttl=$(q +noall +answer web-1.acre | awk '{print $2}')
assert_eq "$ttl" 1 "the zone's TTL"
assert_eq "$(q +tcp +short web-1.acre)" "$(addr_of web-1)" "over TCP"

# ---- groups --------------------------------------------------------------------------------
for i in 1 2 3; do
	# Each takes its time to stop: seconds between SIGTERM and its end.
	acre slice run -d --name "api-$i" --label acre.service=api --label acre.vip.ports=http:8080/tcp \
		--net bridge -- \
		sh -c 'trap "sleep 3; exit 0" TERM; while :; do sleep 0.2; done' >/dev/null ||
		fail "run api-$i"
done
for i in 1 2 3; do wait_state "api-$i" running 10; done
want=$(for i in 1 2 3; do addr_of "api-$i"; done | sort | tr '\n' ' ')
wait_for "[ \"\$(short api.acre | sort | tr '\n' ' ')\" = '$want' ]" 1 ||
	fail "api.acre: expected $want, got $(short api.acre | tr '\n' ' ')"
srv=$(short _http._tcp.api.acre SRV | sort | tr '\n' ' ')
assert_eq "$srv" "0 10 8080 api-1.acre. 0 10 8080 api-2.acre. 0 10 8080 api-3.acre. " "api's SRV records"
firsts=$(for i in 1 2 3 4 5 6; do short api.acre | head -1; done | sort -u | wc -l)
assert_eq "$firsts" 3 "members first in turn (rotation)"
acre slice kill api-2 >/dev/null
want=$(for i in 1 3; do addr_of "api-$i"; done | sort | tr '\n' ' ')
wait_for "[ \"\$(short api.acre | sort | tr '\n' ' ')\" = '$want' ]" 1 ||
	fail "api.acre once api-2 is being stopped: expected $want, got $(short api.acre | tr '\n' ' ')"
assert_eq "$(status api-2.acre)" NXDOMAIN "api-2.acre while it stops"
assert_eq "$(slice_state api-2)" running "api-2 still stopping (it leaves its names first)"
wait_state api-2 killed 10
t=$(now_ms)
acre slice kill web-1 >/dev/null
wait_for "[ \"\$(status web-1.acre)\" = NXDOMAIN ]" 2 || fail "web-1.acre still resolves after its end"
log "web-1.acre gone $(($(now_ms) - t)) ms after kill"

# ---- inside a slice: resolv.conf, search acre, reverse names -------------------------------
out=$(acre slice run --rm --net bridge -- cat /etc/resolv.conf) || fail "cat resolv.conf"
assert_contains "$out" "nameserver $gw" "a bridged slice's resolv.conf"
assert_contains "$out" "search acre"
out=$(acre slice run --rm --net bridge -- sh -c 'echo x >/etc/resolv.conf' 2>&1) &&
	fail "a slice wrote its resolv.conf"
out=$(acre slice run --rm --net bridge -- getent hosts api-1) || fail "getent hosts api-1 in a slice"
assert_contains "$out" "$(addr_of api-1)" "api-1 by its bare name"
out=$(acre slice run --rm --net bridge -- getent hosts "$(addr_of api-1)") ||
	fail "reverse lookup of api-1 in a slice"
assert_contains "$out" "api-1.acre" "api-1's reverse name"
assert_eq "$(status -x 198.18.7.200)" NXDOMAIN "a free address of the subnet"

# ---- forwarding ------------------------------------------------------------------------------
assert_eq "$(short outside.test)" 198.18.250.9 "an outside name forwarded"
ttl=$(q +noall +answer outside.test | awk '{print $2}')
assert_eq "$ttl" 77 "the resolver's TTL passed through"
assert_contains "$(q +ignore big.test TXT | grep flags:)" " tc" "a large outside answer over UDP: truncated"
assert_eq "$(q +tcp +short big.test TXT | wc -l)" 10 "a large outside answer over TCP: whole"
out=$(acre slice run --rm --net bridge -- getent hosts outside.test) || fail "outside name in a slice"
assert_contains "$out" 198.18.250.9

# ---- bad input --------------------------------------------------------------------------------
garbage=$(
	in_ns python3 - "$gw" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.7.1", 0))
s.settimeout(0.5)
got = []
for payload in [b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00",  # a question it lacks
                b"\x01", b"\xff" * 40, b"\x00" * 4000,
                b"\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3fabc"]:
    s.sendto(payload, (sys.argv[1], 53))
    try:
        r = s.recv(4096)
        got.append("rcode=%d" % (r[3] & 15))
    except socket.timeout:
        got.append("silence")
s.sendto(b"\x00" * 9000, (sys.argv[1], 53))  # larger than any query
print(" ".join(got))
EOF
)
log "malformed queries: $garbage"
for g in $garbage; do
	case $g in rcode=1 | silence) ;; *) fail "a malformed query got $g" ;; esac
done
t=$(now_ms)
assert_eq "$(short api-1.acre)" "$(addr_of api-1)" "the good query after the bad ones"
assert_le $(($(now_ms) - t)) 500 "ms to answer the good query after the bad ones"
# A TCP client that connects and says nothing, and one that sends half a message.
spawn_bg ip netns exec "$ns" python3 -c "
import socket, time
a = socket.create_connection(('$gw', 53)); b = socket.create_connection(('$gw', 53))
b.send(b'\x00\x40abc'); time.sleep(30)"
# And 300 clients that connect and say nothing: more than the server keeps open.
spawn_bg ip netns exec "$ns" python3 -c "
import socket, time
held = []
for i in range(300):
    try:
        held.append(socket.create_connection(('$gw', 53), 2))
    except OSError:
        pass
time.sleep(30)"
sleep 1
t=$(now_ms)
assert_eq "$(q +tcp +short api-1.acre)" "$(addr_of api-1)" "TCP while 302 clients stall"
assert_le $(($(now_ms) - t)) 500 "ms for a TCP answer beside stalled clients"
assert_eq "$(ip netns exec "$ns-out" dig +time=1 +tries=1 @"$gw" api-1.acre |
	sed -n 's/.*status: \([A-Z]*\).*/\1/p')" REFUSED "a query from outside the node"
out=$(ip netns exec "$ns-out" dig +time=1 +tries=1 +tcp @"$gw" api-1.acre 2>&1) &&
	fail "a TCP query from outside the node was answered: $out"
assert_eq "$(q -b 198.18.250.1 +short api-1.acre)" "$(addr_of api-1)" "the node's own address asking"
alive() { kill -0 "$SUP_PID" 2>/dev/null || fail "the supervisor died"; }
alive

# ---- a resolver that does not answer: SERVFAIL, fast -----------------------------------------
in_ns ip addr add 198.18.250.2/32 dev lo
printf 'nameserver 198.18.250.2\n' >"$TEST_DIR/resolv.conf"
stop_supervisor || fail "stop"
# The port taken when it starts (as a launch child of a supervisor killed with -9 can hold
# it for a moment): DNS comes up once it is free.
ip netns exec "$ns" python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$gw', 53)); s.listen(1); time.sleep(2)" &
holder=$!
track_bg "$holder"
sleep 0.3
restart_supervisor
wait "$holder"
wait_for "[ \"\$(short api-1.acre)\" = '$(addr_of api-1)' ]" 2 ||
	fail "DNS did not come up within 2 s of its port being free"
grep -q 'event=dns_off.*retry=1s' "$SUP_LOG" || fail "the busy port was not logged"
spawn_bg ip netns exec "$ns" python3 -c "import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('198.18.250.2', 53)); time.sleep(120)"
t=$(now_ms)
assert_eq "$(in_ns dig +time=5 +tries=1 @"$gw" other.test | sed -n 's/.*status: \([A-Z]*\).*/\1/p')" SERVFAIL \
	"a resolver that never answers"
el=$(($(now_ms) - t))
log "SERVFAIL after $el ms"
assert_le "$el" 3000 "ms to SERVFAIL"
wait_for "[ \"\$(short api-1.acre)\" = '$(addr_of api-1)' ]" 1 || fail "names after a restart"
# A slice asking 600 names that will not resolve holds a bounded share of the queries
# outstanding: the rest of its own fail at once, and another client's still go out.
flood=$(
	acre slice run --rm --net bridge -- python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def q(i):
    name = b"".join(bytes([len(l)]) + l for l in (b"n%d" % i, b"flood", b"test")) + b"\0"
    return struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
fast = 0
def drain(wait):
    global fast
    s.settimeout(wait)
    try:
        while True:
            fast += (s.recv(512)[3] & 15) == 2
    except (socket.timeout, BlockingIOError):
        pass
for i in range(600):
    s.sendto(q(i), (sys.argv[1], 53))
    if i % 50 == 49:
        drain(0.01)
drain(0.5)
print(fast)' "$gw"
)
log "flood: $flood of 600 failed at once"
# (Without a share, 512 would wait and at most 88 fail at once.)
[ "$flood" -ge 400 ] || fail "a flooding client's queries beyond its share: $flood SERVFAIL at once"
t=$(now_ms)
assert_eq "$(q -b 198.18.250.1 +time=5 other2.test | sed -n 's/.*status: \([A-Z]*\).*/\1/p')" SERVFAIL \
	"another client beside the flood"
el=$(($(now_ms) - t))
log "the other client's query went out: SERVFAIL after $el ms"
[ "$el" -ge 1500 ] || fail "another client's query failed at once ($el ms): the flood took its place"

# ---- the host's resolv.conf rewritten under a running supervisor: read again -----------------
# (DHCP or a VPN does it; the file is looked at, at most once a second, when a query comes.)
printf 'nameserver 198.18.250.1\n' >"$TEST_DIR/resolv.conf.new"
mv "$TEST_DIR/resolv.conf.new" "$TEST_DIR/resolv.conf"
t=$(now_ms)
wait_for "[ \"\$(short outside.test)\" = 198.18.250.9 ]" 4 ||
	fail "the rewritten resolv.conf was not read: $(grep dns_resolvers "$SUP_LOG")"
log "the new resolver answers $(($(now_ms) - t)) ms after resolv.conf was replaced"
grep -q 'event=dns_resolvers_changed .*nameservers=198.18.250.1$' "$SUP_LOG" ||
	fail "the change was not logged: $(grep dns_resolvers "$SUP_LOG")"

# ---- --net none: lookups fail at once --------------------------------------------------------
out=$(acre slice run --rm -- python3 -c "
import socket, time
t = time.monotonic()
try:
    socket.getaddrinfo('example.org', 80)
    print('resolved')
except socket.gaierror as e:
    print('failed %.3f' % (time.monotonic() - t))
print(open('/etc/resolv.conf').read())") || fail "--net none slice"
log "$(echo "$out" | head -1)"
assert_contains "$out" "nameserver 127.0.0.1" "a --net none slice's resolv.conf"
el=$(echo "$out" | awk '/^failed/ {print int($2 * 1000)}')
[ -n "$el" ] || fail "a --net none slice resolved a name: $out"
assert_le "$el" 200 "ms for a --net none slice's lookup to fail"

# ---- python3 -m http.server answers at once ---------------------------------------------------
# It looks up its own name (socket.getfqdn) before it serves, and says so once it does.
acre slice run -d --name www --net bridge -- python3 -u -m http.server 8000 --bind 0.0.0.0 >/dev/null ||
	fail "run www"
wait_state www running 10
www=$(addr_of www)
t=$(now_ms)
wait_for "acre slice logs www | matches 'Serving HTTP'" 5 || fail "http.server does not serve: $(acre slice logs www)"
el=$(($(now_ms) - t))
log "http.server serving $el ms after running"
assert_le "$el" 900 "ms for http.server to serve (a lookup waiting on a resolver takes 1 s at least)"
# (The address may be a previous slice's, whose neighbour entry the node still holds for a moment.)
wait_for "in_ns curl -sf -m 1 -o /dev/null http://$www:8000/" 5 || fail "http.server does not answer"
t=$(now_ms)
in_ns curl -sf -m 2 -o /dev/null "http://$www:8000/" || fail "a second request"
assert_le $(($(now_ms) - t)) 500 "ms for a second request (a reverse lookup per request would show)"
alive
log "test_pool_dns: $(($(now_ms) - T0)) ms"
