# shellcheck shell=bash
#
# Helpers for tests that need a pool: a controller on this machine and
# supervisors that each live in a network namespace of their own, joined to
# a test bridge with an address in 198.18.0.0/15 (the range RFC 2544 keeps
# for benchmarks: never routed anywhere), each with its own cgroup root
# (acre-test-*), state directory and socket.  TLS throughout, with a CA and
# certificates made for the test.  Everything is removed in an EXIT trap,
# even when the test fails or is killed: slices, supervisors, the
# controller, namespaces, veths, the bridge, the test's cgroups (only its
# own acre-test-* roots) and temporary directories.
#
# Exit status: 0 pass, 1 fail, 77 skip (the reason is the last line).
# ACRE_TEST_SLOW (default 1) scales every timeout.

# The helpers every integration test uses (scaled, now_ms, skip, assert_*,
# wait_for, require, record, spawn_bg, ...) come from lib.sh, without its
# single-supervisor set-up; log and fail are this file's own below.
# shellcheck disable=SC2034 # read by lib.sh
ACRE_TEST_LIB_ONLY=1
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
unset ACRE_TEST_LIB_ONLY
ACRE_BIN=${ACRE_TEST_BIN:-$ACRE_BIN}

log() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }

fail() {
	printf 'FAIL: %s\n' "$*"
	if [ -n "${TEST_DIR:-}" ] && [ -s "$TEST_DIR/controller.log" ]; then
		echo "--- last lines of the controller's log:"
		tail -n 30 "$TEST_DIR/controller.log"
	fi
	exit 1
}

# ---- the network -------------------------------------------------------------------------

NETNS=()
BRIDGE=
VETHS=()

# net_setup N: a bridge with 198.18.S.1/24 and N namespaces at .11, .12, ...
net_setup() {
	local n=$1 i ns veth peer tries
	for tries in $(seq 20); do
		SUBNET=198.18.$((RANDOM % 200 + 20))
		ip -o addr show | matches " $SUBNET\." || break
	done
	CTL_ADDR=$SUBNET.1
	BRIDGE=acbr$RAND_ID
	ip link add "$BRIDGE" type bridge || fail "creating bridge $BRIDGE"
	ip addr add "$CTL_ADDR/24" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	for i in $(seq 1 "$n"); do
		ns=acre-test-$RAND_ID-n$i
		veth=acv$RAND_ID$i
		peer=acp$RAND_ID$i
		ip netns add "$ns" || fail "creating netns $ns"
		NETNS+=("$ns")
		ip link add "$veth" type veth peer name "$peer" || fail "creating veth $veth"
		VETHS+=("$veth")
		ip link set "$peer" netns "$ns"
		ip -n "$ns" link set "$peer" name eth0
		ip -n "$ns" addr add "$SUBNET.$((10 + i))/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" link set lo up
		ip link set "$veth" master "$BRIDGE"
		ip link set "$veth" up
	done
}

# ---- pool networking: two L2 segments, a router, the outside --------------------------------
#
# net_setup_routed NA NB: nodes 1..NA on segment A (the bridge of net_setup, with the
# controller at $SUBNET.1), nodes NA+1..NA+NB on segment B ($SUBNET_B.0/24, a second bridge
# with no address of the host's), and a router namespace with a leg on each ($SUBNET.254,
# $SUBNET_B.254, IPv4 forwarding on in it alone).  Nodes of either segment reach the other
# (and the controller) through the router only, so host-gw cannot route between them and
# vxlan must.  The host reaches segment B by a route via the router, on the test's bridge
# (it goes with the bridge).
SUBNET_B=
BRIDGE_B=
ROUTER_NS=

# A /24 of 198.18.0.0/15 that no address of the host is in.
free_subnet() {
	local s tries
	for tries in $(seq 20); do
		s=198.18.$((RANDOM % 200 + 20))
		[ "$s" != "${SUBNET:-}" ] && ! ip -o addr show | matches " $s\." && break
	done
	printf '%s\n' "$s"
}

# veth_into NS BRIDGE IFNAME ADDR/PREFIX: a veth from the bridge into the namespace.
veth_into() {
	local ns=$1 br=$2 ifname=$3 addr=$4 veth peer
	veth=acw$RAND_ID${#VETHS[@]}
	peer=acq$RAND_ID${#VETHS[@]}
	ip link add "$veth" type veth peer name "$peer" || fail "creating veth $veth"
	VETHS+=("$veth")
	ip link set "$peer" netns "$ns"
	ip -n "$ns" link set "$peer" name "$ifname"
	ip -n "$ns" addr add "$addr" dev "$ifname"
	ip -n "$ns" link set "$ifname" up
	ip link set "$veth" master "$br"
	ip link set "$veth" up
}

net_setup_routed() {
	local na=$1 nb=$2 i ns
	net_setup "$na"
	SUBNET_B=$(free_subnet)
	BRIDGE_B=acbb$RAND_ID
	ip link add "$BRIDGE_B" type bridge || fail "creating bridge $BRIDGE_B"
	ip link set "$BRIDGE_B" up
	ROUTER_NS=acre-test-$RAND_ID-router
	ip netns add "$ROUTER_NS" || fail "creating netns $ROUTER_NS"
	NETNS+=("$ROUTER_NS")
	ip -n "$ROUTER_NS" link set lo up
	veth_into "$ROUTER_NS" "$BRIDGE" eth0 "$SUBNET.254/24"
	veth_into "$ROUTER_NS" "$BRIDGE_B" eth1 "$SUBNET_B.254/24"
	ip netns exec "$ROUTER_NS" sysctl -qw net.ipv4.ip_forward=1
	ip route add "$SUBNET_B.0/24" via "$SUBNET.254" dev "$BRIDGE" ||
		fail "routing $SUBNET_B.0/24 via the router"
	for i in $(seq 1 "$na"); do
		ip -n "acre-test-$RAND_ID-n$i" route add "$SUBNET_B.0/24" via "$SUBNET.254"
	done
	for i in $(seq $((na + 1)) $((na + nb))); do
		ns=acre-test-$RAND_ID-n$i
		ip netns add "$ns" || fail "creating netns $ns"
		NETNS+=("$ns")
		ip -n "$ns" link set lo up
		veth_into "$ns" "$BRIDGE_B" eth0 "$SUBNET_B.$((10 + i))/24"
		ip -n "$ns" route add default via "$SUBNET_B.254"
	done
}

# node_addr I: node I's address on its segment.
node_addr() {
	ip -n "acre-test-$RAND_ID-n$1" -4 -o addr show dev eth0 | awk '{sub("/.*", "", $4); print $4}'
}

# echo_server_py NAME: a small HTTP server on 0.0.0.0:8080 answering "NAME: <peer address>"
# (no name lookups, unlike http.server, whose getfqdn would wait for a resolver).
echo_server_py() {
	printf '%s\n' \
		'import socket' \
		's = socket.socket()' \
		's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)' \
		's.bind(("0.0.0.0", 8080))' \
		's.listen(64)' \
		'while True:' \
		'    c, a = s.accept()' \
		'    try:' \
		'        c.settimeout(2)' \
		'        c.recv(4096)' \
		"        c.sendall(b\"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n$1: \" + a[0].encode() + b\"\\n\")" \
		'    except OSError:' \
		'        pass' \
		'    c.close()'
}

# outside_setup: a namespace on segment A that stands for the world ($OUTSIDE_ADDR), with
# an HTTP listener on port 8080 that answers "outside: <the address it was reached from>".
# After net_setup (or net_setup_routed: segment B then reaches it through the router).
OUTSIDE_NS=
OUTSIDE_ADDR=
outside_setup() {
	OUTSIDE_NS=acre-test-$RAND_ID-out
	OUTSIDE_ADDR=$SUBNET.200
	ip netns add "$OUTSIDE_NS" || fail "creating netns $OUTSIDE_NS"
	NETNS+=("$OUTSIDE_NS")
	ip -n "$OUTSIDE_NS" link set lo up
	veth_into "$OUTSIDE_NS" "$BRIDGE" eth0 "$OUTSIDE_ADDR/24"
	# Segment B's nodes (net_setup_routed, called before) reach it through the router.
	if [ -n "$ROUTER_NS" ]; then
		ip -n "$OUTSIDE_NS" route add "$SUBNET_B.0/24" via "$SUBNET.254"
	fi
	spawn_bg nsenter --net="/run/netns/$OUTSIDE_NS" -- python3 -c "$(echo_server_py outside)"
	wait_for "nsenter --net=/run/netns/$OUTSIDE_NS -- ss -ltn | matches ':8080 '" 5 ||
		fail "the outside listener does not listen"
}

# The controller's arguments for a pool network in the test ranges (never the defaults).
pool_net_ctl_args() {
	CTL_ARGS+=(--pool-cidr 198.19.0.0/17 --vip-cidr 198.19.128.0/20 --overlay "${1:-host-gw}")
}

# node_routes I: acre's routes in node I's namespace ("DST via VIA [dev D]"), sorted.
node_routes() {
	ip -n "acre-test-$RAND_ID-n$1" route show proto 172 |
		awk '{print $1, $2, $3, ($4 == "dev" ? $5 : "")}' | sort
}

# node_fdb I: the forwarding entries of node I's VXLAN device ("MAC DST"), sorted.
node_fdb() {
	ip netns exec "acre-test-$RAND_ID-n$1" bridge fdb show dev acre0.vx 2>/dev/null |
		awk '{for (i = 1; i < NF; i++) if ($i == "dst") print $1, $(i + 1)}' | sort
}

net_cleanup() {
	local ns veth
	for ns in "${NETNS[@]}"; do
		case $ns in acre-test-*) ip netns del "$ns" 2>/dev/null ;; esac
	done
	for veth in "${VETHS[@]}"; do
		ip link del "$veth" 2>/dev/null
	done
	[ -n "$BRIDGE" ] && ip link del "$BRIDGE" 2>/dev/null
	[ -n "$BRIDGE_B" ] && ip link del "$BRIDGE_B" 2>/dev/null
	return 0
}

# ---- TLS material ------------------------------------------------------------------------

# A CA, the controller's certificate (for CTL_ADDR) and one client certificate for the nodes.
make_certs() {
	local d=$TEST_DIR/tls
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key &&
			openssl req -x509 -new -key ca.key -days 2 -subj /CN=acre-test-ca -out ca.crt &&
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ctl.key &&
			openssl req -new -key ctl.key -subj /CN=acre-controller -out ctl.csr &&
			printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$CTL_ADDR" >ctl.ext &&
			openssl x509 -req -in ctl.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
				-extfile ctl.ext -out ctl.crt &&
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out node.key &&
			openssl req -new -key node.key -subj /CN=acre-node -out node.csr &&
			printf 'extendedKeyUsage=clientAuth\n' >node.ext &&
			openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
				-extfile node.ext -out node.crt
	) >"$TEST_DIR/openssl.log" 2>&1 || fail "making certificates: $(tail -3 "$TEST_DIR/openssl.log")"
	TLS=$d
}

# ---- the controller ----------------------------------------------------------------------

CTL_PID=
CTL_ARGS=()
CTL_BIN= # another acre-controller binary, when set (test_node_join.sh: the next protocol's)

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_controller() {
	[ -n "${NODE_PORT:-}" ] || NODE_PORT=$(free_port)
	[ -n "${API_PORT:-}" ] || API_PORT=$(free_port)
	# API_ON_BRIDGE=1: the API on the bridge's address, where the nodes reach it too (the
	# bundled artifacts they fetch from it); else on loopback.
	local api_host=127.0.0.1
	[ -z "${API_ON_BRIDGE:-}" ] || api_host=$CTL_ADDR
	CONTROLLER=http://$api_host:$API_PORT
	echo "=== $(date +%T.%3N) start controller" >>"$TEST_DIR/controller.log"
	"${CTL_BIN:-$ACRE_BIN/acre-controller}" --data-dir "$TEST_DIR/controller" \
		--node-listen "$CTL_ADDR:$NODE_PORT" --api-listen "$api_host:$API_PORT" \
		--tls-cert "$TLS/ctl.crt" --tls-key "$TLS/ctl.key" --tls-ca "$TLS/ca.crt" \
		--join-token-file "$TEST_DIR/join-token" --api-token-file "$TEST_DIR/api-token" \
		--log-level debug "${CTL_ARGS[@]}" </dev/null >>"$TEST_DIR/controller.log" 2>&1 &
	CTL_PID=$!
	record "pid $CTL_PID"
	wait_for "curl -sf $CONTROLLER/healthz" 10 || fail "the controller does not answer"
}

kill_controller() {
	[ -n "$CTL_PID" ] || return 0
	kill -KILL "$CTL_PID" 2>/dev/null
	wait "$CTL_PID" 2>/dev/null
	CTL_PID=
}

# api METHOD PATH [BODY]: the body of the answer; last_code then says its HTTP status
# (kept in a file: api mostly runs in a command substitution's subshell).
api() {
	local out
	out=$(curl -s -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $API_TOKEN" \
		${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$CONTROLLER$2")
	printf '%s\n' "${out##*$'\n'}" >"$TEST_DIR/http_code"
	printf '%s\n' "${out%$'\n'*}"
}

last_code() { cat "$TEST_DIR/http_code"; }

# The pool CLI.
pool() {
	"$ACRE_BIN/acre" --controller "$CONTROLLER" --token-file "$TEST_DIR/api-token" "$@"
}

# pool_run OUT CMD...: the pool CLI's output in OUT (and OUT.err), its status in RC.
pool_run() {
	local out=$1
	shift
	RC=0
	pool "$@" >"$out" 2>"$out.err" || RC=$?
}

# ---- the event stream (GET /v1/events, Server-Sent Events) --------------------------------

# sse_data FILE: the JSON of each data: line.
sse_data() { sed -n 's/^data: //p' "$1"; }

# sse_ids FILE: the seq of each whole event of a stream, in order (not its notices).
sse_ids() {
	awk '/^id: /{id = $2} /^event: /{ev = $2}
	     /^$/{if (id != "" && ev != "live" && ev != "lagged") print id; id = ""; ev = ""}' "$1"
}

# sse_once FILE QUERY [HEADER]: GET /v1/events$QUERY into FILE, until the live notice.
sse_once() {
	local file=$1 query=$2 header=${3:-} pid
	curl -sN -H "Authorization: Bearer $API_TOKEN" ${header:+-H "$header"} \
		"$CONTROLLER/v1/events$query" -o "$file" &
	pid=$!
	track_bg "$pid"
	wait_for "grep -q '^event: live' '$file'" 10 || fail "no live notice from /v1/events$query"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# ---- the nodes ---------------------------------------------------------------------------

declare -A NODE_PID NODE_ARGS
# Set for node I, start_node uses NODE_JOIN[I] (its --controller, token and TLS options, e.g.
# what `acre-supervisor join` wrote) instead of the shared certificate, and NODE_BIN[I] instead
# of build/bin/acre-supervisor.
declare -A NODE_JOIN NODE_BIN

node_socket() { printf '%s/n%s/supervisor.sock\n' "$TEST_DIR" "$1"; }
node_cgroot() { printf 'acre-test-%s-n%s\n' "$RAND_ID" "$1"; }

# start_node I [--attr K=V]...: supervisor I in its namespace, joined to the pool.  Bridge
# networking is on, with a --slice-cidr in the test range (outside the pool's and the VIPs'
# ranges of pool_net_ctl_args) for a node that runs alone; in a pool the pool's subnet wins.
start_node() {
	local i=$1
	shift
	[ $# -gt 0 ] && NODE_ARGS[$i]="$*"
	mkdir -p "$TEST_DIR/n$i"
	record "cgroot $(node_cgroot "$i")"
	echo "=== $(date +%T.%3N) start" >>"$TEST_DIR/n$i/supervisor.log"
	# --vip-cgroup must exist when the options are read: the node's own root, made here
	# (the supervisor takes it as its subtree; the cleanup removes it with the rest).
	mkdir -p "$(cgroup_v2_mount)/$(node_cgroot "$i")" || fail "making the v2 cgroup of node $i"
	local join="--controller $CTL_ADDR:$NODE_PORT --join-token-file $TEST_DIR/join-token"
	join="$join --tls-ca $TLS/ca.crt --tls-cert $TLS/node.crt --tls-key $TLS/node.key"
	[ -n "${NODE_JOIN[$i]:-}" ] && join=${NODE_JOIN[$i]}
	# nsenter, not `ip netns exec`: that would remount /sys and hide the cgroup trees.
	# shellcheck disable=SC2086
	setsid nsenter --net="/run/netns/acre-test-$RAND_ID-n$i" -- \
		"${NODE_BIN[$i]:-$ACRE_BIN/acre-supervisor}" --socket "$(node_socket "$i")" \
		--vip-cgroup "$(cgroup_v2_mount)/$(node_cgroot "$i")" \
		--state-dir "$TEST_DIR/n$i/state" --cgroup-root "$(node_cgroot "$i")" \
		--prelaunch 0 --stop-timeout 2s --log-level debug --slice-cidr 198.19.250.0/24 \
		$join ${NODE_ARGS[$i]:-} </dev/null >>"$TEST_DIR/n$i/supervisor.log" 2>&1 &
	NODE_PID[$i]=$!
	record "pid ${NODE_PID[$i]}"
	wait_for "ACRE_SOCKET=$(node_socket "$i") $ACRE_BIN/acre slice list" 10 ||
		fail "supervisor $i does not serve its socket: $(tail -5 "$TEST_DIR/n$i/supervisor.log")"
}

# stop_node I: SIGTERM, as systemd stops it; it must exit within 5 s.
stop_node() {
	local i=$1 t
	kill -TERM "${NODE_PID[$i]}" 2>/dev/null
	for t in $(seq 50); do
		kill -0 "${NODE_PID[$i]}" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "${NODE_PID[$i]}" 2>/dev/null && fail "supervisor $i still runs 5 s after SIGTERM"
	wait "${NODE_PID[$i]}" 2>/dev/null
	NODE_PID[$i]=
}

kill_node() {
	local i=$1
	kill -KILL "${NODE_PID[$i]}" 2>/dev/null
	wait "${NODE_PID[$i]}" 2>/dev/null
	NODE_PID[$i]=
}

# What node I itself says about its slices.
node_acre() {
	local i=$1
	shift
	ACRE_SOCKET=$(node_socket "$i") "$ACRE_BIN/acre" "$@"
}

node_id() { cat "$TEST_DIR/n$1/state/controller-node.json" | jq -r .id; }

# A raw client of the node port: sends each argument as a line ("@LONG:N": N bytes of
# garbage), prints each reply line, then <closed> or <open>.
node_port_say() {
	python3 - "$CTL_ADDR" "$NODE_PORT" "$TLS" "$@" <<'EOF'
import socket, ssl, sys
host, port, tls, lines = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
ctx = ssl.create_default_context(cafile=tls + "/ca.crt")
ctx.load_cert_chain(tls + "/node.crt", tls + "/node.key")
s = ctx.wrap_socket(socket.create_connection((host, port), timeout=5), server_hostname=host)
buf = b""
try:
    for line in lines:
        # "@LONG:N": a line of N bytes, too long for an argument list.
        data = b"x" * int(line[6:]) if line.startswith("@LONG:") else line.encode()
        s.sendall(data + b"\n")
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                print("<closed>")
                sys.exit(0)
            buf += chunk
        reply, buf = buf.split(b"\n", 1)
        print(reply.decode())
    s.settimeout(2)
    print("<closed>" if not s.recv(65536) else "<open>")
except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
    print("<closed>")
except socket.timeout:
    print("<open>")
EOF
}

# ---- cleanup ------------------------------------------------------------------------------

# SIGKILL every process in a cgroup root of ours, in every hierarchy, then remove the root.
cgroup_purge() {
	kill_cgroup_procs "$1"
	remove_cgroup_root "$1"
}

cluster_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[ "$BASHPID" = "$TEST_SHELL_PID" ] || exit "$rc"
	set +e
	local i pid
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for i in "${!NODE_PID[@]}"; do
		[ -n "${NODE_PID[$i]}" ] && kill -KILL "${NODE_PID[$i]}" 2>/dev/null
	done
	kill_controller
	for i in "${!NODE_PID[@]}"; do
		[ -n "${NODE_PID[$i]}" ] && wait "${NODE_PID[$i]}" 2>/dev/null
		cgroup_purge "$(node_cgroot "$i")" || {
			echo "cleanup: could not remove the cgroups of $(node_cgroot "$i")"
			[ "$rc" = 0 ] && rc=1
		}
		# The supervisors were killed: their eBPF pins are still there.
		rm -rf "/sys/fs/bpf/acre/$(node_cgroot "$i")"
	done
	rmdir /sys/fs/bpf/acre 2>/dev/null # the parent too, when nothing else is pinned there
	net_cleanup
	unmount_under "$TEST_DIR"
	[ -n "${KEEP:-}" ] && echo "kept $TEST_DIR" || rm -rf "$TEST_DIR"
	[ -n "$SKIP_REASON" ] && printf '%s\n' "$SKIP_REASON"
	exit "$rc"
}

cluster_init() {
	TEST_SHELL_PID=$BASHPID
	trap cluster_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	[ "$(id -u)" = 0 ] || skip "cluster tests run as root"
	for b in acre acre-supervisor acre-init acre-controller; do
		[ -x "$ACRE_BIN/$b" ] || skip "$ACRE_BIN/$b is missing: run make"
	done
	require jq python3 curl openssl ip nsenter setsid timeout
	RAND_ID=$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')
	TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/acre-test.XXXXXX") || fail "mktemp"
	record "dir $TEST_DIR"
	chmod 0700 "$TEST_DIR"
	od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$TEST_DIR/join-token"
	od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$TEST_DIR/api-token"
	API_TOKEN=$(cat "$TEST_DIR/api-token")
	: >"$TEST_DIR/controller.log"
}
