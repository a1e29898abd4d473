#!/usr/bin/env bash
# make run: a working one-node pool on this machine with an example
# workload, in the foreground until Ctrl-C (or SIGTERM, or the terminal
# closing); then everything it made is removed.  acre-controller and one
# acre-supervisor joined to it (plain TCP on loopback: --insecure is refused
# anywhere else), their sockets, ports and state in a temporary directory
# (under $TMPDIR, default /tmp), so it never disturbs an installed node.
# Its cgroup subtree is acre-demo-<pid>, or $ACRE_DEMO_CGROUP_ROOT (the
# tests give theirs).  $ACRE_DEMO_CONTROLLER_ARGS: more acre-controller
# flags (the tests give the pool's address ranges their own).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
[ "$(id -u)" = 0 ] || { echo "make run: the supervisor needs root"; exit 1; }
cgroot=${ACRE_DEMO_CGROUP_ROOT:-acre-demo-$$}
# The clean-up kills whatever is in it: never a real node's subtree.
case $cgroot in
acre-demo-* | acre-test-*) ;;
*) echo "make run: ACRE_DEMO_CGROUP_ROOT must start with acre-demo- or acre-test-" >&2; exit 1 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/acre-demo.XXXXXX")
export ACRE_SOCKET=$work/supervisor.sock
acre() { "$bin/acre" "$@"; }
pool() { "$bin/acre" --controller "$controller" --token-file "$work/api-token" "$@"; }
names() { python3 -c 'import json,sys; [print(s["name"]) for s in json.load(sys.stdin)]'; }
count() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# The clean-up runs to its end whatever became of our output: after Ctrl-C
# on `make run | tee demo.log` the reader is gone (a write fails with EPIPE),
# after the terminal closed a write fails with EIO.  So SIGPIPE is ignored
# from the start: bash, which reports a foreground child killed by SIGHUP
# ("Hangup") on stderr, would otherwise take SIGPIPE for that write to a
# dead reader and die of it at some point of the clean-up.  A failed write
# is then an error like any other (set -e ends a start-up, through stop).
# In stop, no signal, no failed write and no failed command stops it; what
# it says goes to stderr, and may be lost.
trap '' PIPE
# (its message to stderr; printf's own complaint when that write fails, nowhere)
say() { printf '%s\n' "$*" >&2 2>/dev/null || true; }

# stop_daemon PID: SIGTERM, then SIGKILL if it is still there after 10 s.
stop_daemon() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# What the supervisor left in the demo's cgroups (it died, or a slice did not
# go): killed, and the demo's subtree removed in every hierarchy.
sweep_cgroups() {
	local d pid left
	for _ in $(seq 50); do
		left=0
		for d in /sys/fs/cgroup/"$cgroot" /sys/fs/cgroup/*/"$cgroot"; do
			[ -d "$d" ] || continue
			left=1
			[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill"
			find "$d" -name cgroup.procs -exec cat {} + | while read -r pid; do
				kill -KILL "$pid"
			done
			find "$d" -depth -type d -exec rmdir {} +
		done
		[ "$left" = 0 ] && return 0
		sleep 0.1
	done
	say "make run: could not remove the cgroups $cgroot"
}

stop() {
	trap '' INT TERM HUP PIPE
	trap - EXIT
	set +eu
	say ""
	say "== stopping: removing the demo's slices, its supervisor and its controller"
	export ACRE_TIMEOUT=10s # a daemon that hangs must not hang the clean-up
	local s
	if [ -n "$controller" ]; then
		# Apps first: their instances would come back as they are removed.
		for s in $(pool -j app list 2>/dev/null | names 2>/dev/null); do
			pool app rm --force --detach "$s" >/dev/null 2>&1
		done
		for _ in $(seq 100); do
			[ "$(pool -j app list 2>/dev/null | count 2>/dev/null)" = 0 ] && break
			sleep 0.1
		done
		for s in $(pool -j slice list 2>/dev/null | names 2>/dev/null); do
			pool slice rm --force "$s" >/dev/null 2>&1
		done
	fi
	for s in $(acre -j slice list 2>/dev/null | names 2>/dev/null); do
		acre slice rm --force "$s" >/dev/null 2>&1
	done
	[ -n "$sv" ] && stop_daemon "$sv"
	[ -n "$ctl" ] && stop_daemon "$ctl"
	sweep_cgroups 2>/dev/null
	# Writable layers of slices the supervisor could not remove, mounted under the work directory.
	grep -o " $work/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	# The node's NAT table and bridge, when the demo's supervisor made them.
	nft delete table ip "$cgroot" 2>/dev/null
	[ -n "$bridge_was_there" ] || ip link delete acre0 2>/dev/null
	# Pins of a supervisor that could not stop cleanly (a clean stop removes its own).
	rm -rf "/sys/fs/bpf/acre/$cgroot"
	rm -rf "$work"
	say "== stopped"
	exit 0
}
sv='' ctl='' controller=''
# The pool's bridge, if this host had one before (a node of a real pool): then it stays.
bridge_was_there=$(ip link show acre0 2>/dev/null || true)
trap stop EXIT INT TERM HUP

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
node_port=$(free_port)
api_port=$(free_port)
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/join-token"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/api-token"
controller=http://127.0.0.1:$api_port

# Their own sessions: a Ctrl-C here must reach this script, which removes the slices first.
# Nor do they hold our stdout: a reader of it (tee) would wait for them too.
setsid "$bin/acre-controller" --data-dir "$work/controller" --insecure \
	--node-listen "127.0.0.1:$node_port" --api-listen "127.0.0.1:$api_port" \
	--join-token-file "$work/join-token" --api-token-file "$work/api-token" \
	${ACRE_DEMO_CONTROLLER_ARGS:-} </dev/null >"$work/controller.log" 2>&1 &
ctl=$!
setsid "$bin/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$work/state" \
	--cgroup-root "$cgroot" --controller "127.0.0.1:$node_port" --insecure \
	--join-token-file "$work/join-token" --attr zone=demo \
	</dev/null >"$work/supervisor.log" 2>&1 &
sv=$!
for _ in $(seq 100); do acre slice list >/dev/null 2>&1 && break; sleep 0.05; done
for _ in $(seq 100); do
	[ "$(pool -j node list 2>/dev/null | count 2>/dev/null)" = 1 ] && break
	sleep 0.1
done

echo "== acre-controller: API on $controller, nodes on 127.0.0.1:$node_port"
echo "== acre-supervisor serves $ACRE_SOCKET and has joined the pool"
pool node list
echo
pool pool show
echo
echo "== a foreground slice: its output streams back, its status is the client's"
acre slice run --rm --memory 64M --cpus 0.5 -- sh -c 'echo "hello from $(hostname), pid $$ of $(ls /proc | grep -c "^[0-9]")"'
echo "== two detached slices: a ticker and a CPU-bound loop held to a quarter of a CPU"
acre slice run -d --name ticker --memory 32M --pids 16 -- \
	sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 1; done'
acre slice run -d --name busy --cpus 0.25 --memory 32M -- sh -c 'while :; do :; done'
echo "== and one placed by the controller, through the pool's API"
pool slice run -d --name pooled --memory 16M -- sh -c 'while :; do date; sleep 5; done'
echo "== an app: two instances of a web server, placed, checked and kept by the controller"
pool app run hello --instances 2 --net host --port http --memory 64M \
	--check-http http/ --check-interval 1s --check-grace 10s -- \
	sh -c 'cd /usr/share/doc && exec python3 -m http.server "$PORT_HTTP"'
sleep 1
acre slice list
echo
acre slice logs ticker | tail -3
echo
acre slice stat
echo
pool slice list
echo
pool app show hello
echo
cat <<EOF
The pool is up.  In another shell, as root, the node:
    export ACRE_SOCKET=$ACRE_SOCKET
    $bin/acre slice stat --watch
    $bin/acre slice run --rm --memory 16M -- python3 -c 'bytearray(64 << 20)'
and the pool:
    export ACRE_CONTROLLER=$controller ACRE_TOKEN=$(cat "$work/api-token")
    $bin/acre node list
    $bin/acre pool show
    $bin/acre slice run --name web --cpus 0.5 --memory 64M -- sleep 3600
    $bin/acre app scale hello 3
    $bin/acre app update hello --env GREETING=hi
    $bin/acre app logs hello
Ctrl-C here stops it and removes everything it made.
EOF
while kill -0 "$sv" 2>/dev/null && kill -0 "$ctl" 2>/dev/null; do sleep 1; done
echo "a daemon exited; see $work/supervisor.log and $work/controller.log"
