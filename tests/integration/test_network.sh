#!/bin/bash
# Bridged slices, in a network namespace of the test's own (the supervisor
# runs there, so its bridge, veths and every address live there too), with
# addresses from 198.18.0.0/15: two slices reach each other by ping and TCP,
# a --net none slice does not; an --isolated slice reaches the gateway and
# no neighbour, either way; --allow opens one destination and refuses the
# rest with EPERM; --net-rate 50mbit holds iperf3 to 50 Mbit/s (±10%); 200
# slices come and go leaving no interface, lease or qdisc, and the leases
# survive kill -9 of the supervisor.
. "$(dirname "$0")/lib.sh"
require ip iperf3 python3 jq tc
ns=${CGROOT#acre-}
make_netns "$ns"
# nsenter, not ip netns exec: the latter mounts a new /sys, hiding the cgroup hierarchies.
SUP_WRAP=(nsenter --net="/run/netns/$ns")
bridge=acrt$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
start_supervisor --slice-cidr 198.18.0.0/24 --bridge "$bridge"
gw=198.18.0.1

addr_of() { slice_field "$1" .network.address | cut -d/ -f1; }
# Runs a client in a slice of its own: exit status 0 when it got through.
probe() { # probe [run flags...] -- python3 snippet
	local flags=()
	while [ "$1" != -- ]; do flags+=("$1"); shift; done
	shift
	acre slice run --rm "${flags[@]}" -- python3 -c "$1"
}
tcp() { # tcp HOST PORT: python that connects with a short timeout
	echo "import socket; socket.create_connection(('$1', $2), $(scaled 2)).close()"
}
# listen ADDR PORT: a TCP listener that accepts forever (no name lookups, unlike http.server).
listen() {
	echo "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$1', $2)); s.listen(64)
while True: s.accept()[0].close()"
}
ping_cmd() { # python that pings ADDR once through busybox
	echo "import subprocess; subprocess.run(['busybox', 'ping', '-c1', '-W$(scaled 2 | cut -d. -f1)', '$1'], check=True, capture_output=True)"
}

# ---- two bridged slices ---------------------------------------------------------------
acre slice run -d --name web --net bridge -- python3 -c "$(listen 0.0.0.0 8080)" >/dev/null ||
	fail "run web"
acre slice run -d --name other --net bridge -- python3 -c "$(listen 0.0.0.0 8081)" >/dev/null ||
	fail "run other"
web=$(addr_of web)
other=$(addr_of other)
log "web $web, other $other, gateway $gw, bridge $bridge"
[ -n "$web" ] && [ "$web" != "$other" ] || fail "two slices, two addresses: '$web' '$other'"
acre slice show web | matches "bridge $web/24 via $gw on $bridge" || fail "show: $(acre slice show web)"
wait_for "ip netns exec $ns python3 -c \"$(tcp "$web" 8080)\"" 10 || fail "web does not listen"
wait_for "ip netns exec $ns python3 -c \"$(tcp "$other" 8081)\"" 10 || fail "other does not listen"
probe --net bridge --cap NET_RAW -- "$(ping_cmd "$web")" || fail "a bridged slice cannot ping web"
probe --net bridge -- "$(tcp "$web" 8080)" || fail "a bridged slice cannot open TCP to web"
probe --net bridge -- "$(tcp "$other" 8081)" || fail "a bridged slice cannot open TCP to other"
probe -- "$(tcp "$web" 8080)" 2>/dev/null && fail "a --net none slice reached web"

# ---- an address taken over: the new slice answers at once ----------------------------------
# eth0's MAC is made from the address, so the node's neighbour entry for it, made by the
# traffic above, stays right when a new slice takes the address over.
mac=$(printf '02:a5:%02x:%02x:%02x:%02x' ${other//./ })
assert_contains "$(ip -n "$ns" neigh show "$other")" "lladdr $mac" "the node's neighbour entry for other"
# Its address is given again once its veth is gone, with its namespace (supervisor/network.c).
veth=$(slice_field other .network.veth)
acre slice rm --force other >/dev/null || fail "rm other"
wait_for "grep -q 'slice=other event=lease_drained veth=$veth' '$SUP_LOG'" 6 ||
	fail "other's lease did not drain: $(ip -n "$ns" link show "$veth" 2>&1)"
ip -n "$ns" link show "$veth" >/dev/null 2>&1 && fail "other's lease drained with its veth $veth there"
acre slice run -d --name heir --net bridge -- python3 -c "$(listen 0.0.0.0 8081)" >/dev/null ||
	fail "run heir"
assert_eq "$(addr_of heir)" "$other" "the lowest free address, other's"
# Within 3 s, python started: a stale entry kept pointing at the old MAC for about ten.
wait_for "ip netns exec $ns python3 -c \"$(tcp "$other" 8081)\"" 3 ||
	fail "the node does not reach heir at $other: $(ip -n "$ns" neigh show "$other")"
# heir stands for other from here on: the same address and port.

# ---- isolation ----------------------------------------------------------------------------
spawn_bg ip netns exec "$ns" python3 -c "$(listen "$gw" 8090)"
wait_for "ip netns exec $ns python3 -c \"$(tcp "$gw" 8090)\"" 10 || fail "gateway listener"
probe --net bridge --isolated -- "$(tcp "$gw" 8090)" || fail "an isolated slice cannot reach the gateway"
probe --net bridge --isolated --cap NET_RAW -- "$(ping_cmd "$gw")" ||
	fail "an isolated slice cannot ping the gateway"
probe --net bridge --isolated -- "$(tcp "$web" 8080)" 2>/dev/null && fail "an isolated slice reached web"
probe --net bridge --isolated --cap NET_RAW -- "$(ping_cmd "$web")" 2>/dev/null &&
	fail "an isolated slice pinged web"
acre slice run -d --name lonely --net bridge --isolated -- python3 -c "$(listen 0.0.0.0 8082)" \
	>/dev/null || fail "run lonely"
lonely=$(addr_of lonely)
wait_for "ip netns exec $ns python3 -c \"$(tcp "$lonely" 8082)\"" 10 || fail "lonely from the gateway"
probe --net bridge -- "$(tcp "$lonely" 8082)" 2>/dev/null && fail "a neighbour reached the isolated slice"
acre slice show lonely | matches isolated || fail "show lonely: $(acre slice show lonely)"

# ---- --allow --------------------------------------------------------------------------------
spawn_bg ip netns exec "$ns" python3 -c "$(listen "$gw" 5201)"
spawn_bg ip netns exec "$ns" python3 -c "$(listen "$gw" 5202)"
wait_for "ip netns exec $ns python3 -c \"$(tcp "$gw" 5202)\"" 10 || fail "gateway listeners"
probe --net bridge --allow "$gw:5201" -- "$(tcp "$gw" 5201)" || fail "--allow $gw:5201 refused its own port"
out=$(probe --net bridge --allow "$gw:5201" -- "$(tcp "$gw" 5202)" 2>&1) && fail "--allow let 5202 through"
assert_contains "$out" "Operation not permitted" "the refusal of an unlisted port"
acre slice show lonely >/dev/null
acre slice run --rm --allow nonsense -- true 2>"$TEST_DIR/allow.err" && fail "--allow nonsense accepted"
assert_contains "$(cat "$TEST_DIR/allow.err")" "--allow" "error for --allow nonsense"

# ---- --net-rate ---------------------------------------------------------------------------
acre slice run -d --name sink --net bridge -- iperf3 -s -p 5201 >/dev/null || fail "run sink"
sink=$(addr_of sink)
wait_for "ip netns exec $ns python3 -c \"$(tcp "$sink" 5201)\"" 10 || fail "iperf3 in sink"
acre slice run --rm --net bridge --net-rate 50mbit -- iperf3 -c "$sink" -p 5201 -t "$(scaled 4)" -J \
	>"$TEST_DIR/rate.json" || fail "iperf3 through --net-rate failed: $(tail -3 "$TEST_DIR/rate.json")"
mbit=$(jq ".end.sum_received.bits_per_second / 1e6" "$TEST_DIR/rate.json") || cat "$TEST_DIR/rate.json"
log "iperf3 through --net-rate 50mbit: $mbit Mbit/s"
awk -v m="$mbit" 'BEGIN { exit !(m >= 45 && m <= 55) }' || fail "$mbit Mbit/s is not within 10% of 50"
acre slice run --rm --net bridge --net-rate 12Q -- true 2>"$TEST_DIR/rate.err" && fail "--net-rate 12Q accepted"
assert_contains "$(cat "$TEST_DIR/rate.err")" "--net-rate 12Q" "error for a bad rate"

for s in web heir lonely sink; do acre slice rm --force "$s" >/dev/null || fail "rm $s"; done

# ---- 200 slices, a kill -9 in the middle ------------------------------------------------------
leases() { jq -r '.leases // [] | length' "$STATE_DIR/net-leases.json" 2>/dev/null || echo 0; }
for i in $(seq 1 100); do
	acre slice run -d --name "n$i" --net bridge -- sleep 600 >/dev/null || fail "run n$i"
done
before=$(for i in $(seq 1 100); do addr_of "n$i"; done | sort)
kill_supervisor
restart_supervisor
after=$(for i in $(seq 1 100); do addr_of "n$i"; done | sort)
assert_eq "$after" "$before" "the addresses of 100 slices after kill -9"
for i in $(seq 101 200); do
	acre slice run -d --name "n$i" --net bridge -- sleep 600 >/dev/null || fail "run n$i"
done
dups=$(for i in $(seq 1 200); do addr_of "n$i"; done | sort | uniq -d)
assert_eq "$dups" "" "addresses handed out twice"
assert_eq "$(ip -n "$ns" -o link show master "$bridge" | wc -l)" 200 "veths on the bridge"
for i in $(seq 1 200); do echo "n$i"; done | xargs -n 50 "$ACRE_BIN/acre" slice rm --force >/dev/null ||
	fail "rm of the 200"
# The pairs go with the slices' namespaces, which the kernel tears down on its own time.
wait_for "[ \$(ip -n $ns -o link show master $bridge | wc -l) = 0 ]" 30 ||
	fail "veths left on the bridge: $(ip -n "$ns" -o link show master "$bridge" | wc -l)"
assert_eq "$(ip -n "$ns" -o link show | grep -c '^[0-9]*: ac[0-9a-f]\{12\}[@:]')" 0 "acre veths left"
assert_eq "$(tc -n "$ns" qdisc show | grep -c tbf)" 0 "qdiscs left"
# Each lease drains once its veth is gone (supervisor/network.c looks every 20 ms).
wait_for '[ "$(leases)" = 0 ]' 6 || fail "leases left: $(leases)"
stop_supervisor
ip -n "$ns" link show "$bridge" >/dev/null 2>&1 && fail "the bridge outlived a clean stop with no slice"

# ---- bad network settings: refused with a reason, nothing made --------------------------------
bad_start() { # bad_start EXPECTED-WORDS ARGS...: the supervisor must refuse to start
	local want=$1
	shift
	local out
	out=$(nsenter --net="/run/netns/$ns" "$ACRE_BIN/acre-supervisor" --socket "$TEST_DIR/bad.sock" \
		--state-dir "$TEST_DIR/bad-state" --cgroup-root "$CGROOT" "$@" 2>&1) &&
		fail "acre-supervisor started with $*"
	assert_contains "$out" "$want" "refusal of $*"
}
bad_start "--slice-cidr 198.18.0.1/24" --slice-cidr 198.18.0.1/24
bad_start "--slice-cidr nonsense" --slice-cidr nonsense
ip -n "$ns" addr add 198.18.5.1/24 dev lo
bad_start "198.18.5" --slice-cidr 198.18.5.0/24
# A name taken by something that is not our bridge.
ip -n "$ns" link add acrtaken type veth peer name acrtaken1
SUP_ARGS=(--slice-cidr 198.18.0.0/30 --bridge acrtaken)
launch_supervisor
out=$(acre slice run --rm --net bridge -- true 2>&1) && fail "a bridged slice ran on a foreign device"
assert_contains "$out" "acrtaken" "refusal of a bridge name taken by a veth"
assert_eq "$(acre -j slice list | jq length)" 0 "slices left by a refused launch"
stop_supervisor
# A /30 holds one slice address: the second bridged slice finds the subnet exhausted.
SUP_ARGS=(--slice-cidr 198.18.0.0/30 --bridge "$bridge")
launch_supervisor
acre slice run -d --name only --net bridge -- sleep 600 >/dev/null || fail "run only"
out=$(acre slice run -d --name second --net bridge -- sleep 600 2>&1) && fail "a /30 held two slices"
assert_contains "$out" "exhausted" "the second slice in a /30"
assert_eq "$(acre -j slice list | jq length)" 1 "slices after the refusal"
exit 0
