#!/usr/bin/env bash
# make run: a working one-node pool on this machine with an example
# workload, in the foreground until Ctrl-C; then everything it made is
# removed.  acre-controller and one acre-supervisor joined to it (plain TCP
# on loopback: --insecure is refused anywhere else), their sockets, ports and
# state in a temporary directory, so it never disturbs an installed node.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
[ "$(id -u)" = 0 ] || { echo "make run: the supervisor needs root"; exit 1; }
work=$(mktemp -d /tmp/acre-demo.XXXXXX)
export ACRE_SOCKET=$work/supervisor.sock
acre() { "$bin/acre" "$@"; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
node_port=$(free_port)
api_port=$(free_port)
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/join-token"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/api-token"
controller=http://127.0.0.1:$api_port
pool() { "$bin/acre" --controller "$controller" --token-file "$work/api-token" "$@"; }
names() { python3 -c 'import json,sys; [print(s["name"]) for s in json.load(sys.stdin)]'; }
count() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

stop() {
	trap - EXIT INT TERM
	echo
	echo "== stopping: removing the demo's slices, its supervisor and its controller"
	for s in $(pool -j slice list 2>/dev/null | names 2>/dev/null); do
		pool slice rm --force "$s" >/dev/null 2>&1 || true
	done
	for s in $(acre -j slice list 2>/dev/null | names 2>/dev/null); do
		acre slice rm --force "$s" >/dev/null 2>&1 || true
	done
	[ -n "${sv:-}" ] && kill "$sv" 2>/dev/null && wait "$sv" 2>/dev/null || true
	[ -n "${ctl:-}" ] && kill "$ctl" 2>/dev/null && wait "$ctl" 2>/dev/null || true
	rm -rf "$work"
	exit 0
}
trap stop EXIT INT TERM

# Their own sessions: a Ctrl-C here must reach this script, which removes the slices first.
setsid "$bin/acre-controller" --data-dir "$work/controller" --insecure \
	--node-listen "127.0.0.1:$node_port" --api-listen "127.0.0.1:$api_port" \
	--join-token-file "$work/join-token" --api-token-file "$work/api-token" \
	2>"$work/controller.log" &
ctl=$!
setsid "$bin/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$work/state" \
	--cgroup-root "acre-demo-$$" --controller "127.0.0.1:$node_port" --insecure \
	--join-token-file "$work/join-token" --attr zone=demo 2>"$work/supervisor.log" &
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
pool slice run --name pooled --memory 16M -- sh -c 'while :; do date; sleep 5; done'
sleep 3
acre slice list
echo
acre slice logs ticker | tail -3
echo
acre slice stat
echo
pool slice list
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
Ctrl-C here stops it and removes everything it made.
EOF
while kill -0 "$sv" 2>/dev/null && kill -0 "$ctl" 2>/dev/null; do sleep 1; done
echo "a daemon exited; see $work/supervisor.log and $work/controller.log"
