#!/usr/bin/env bash
# make run: a working one-node pool on this machine with an example
# workload, in the foreground until Ctrl-C; then everything it made is
# removed.  Its socket and state live in a temporary directory, so it never
# disturbs an installed supervisor.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
[ "$(id -u)" = 0 ] || { echo "make run: the supervisor needs root"; exit 1; }
work=$(mktemp -d /tmp/acre-demo.XXXXXX)
export ACRE_SOCKET=$work/supervisor.sock
acre() { "$bin/acre" "$@"; }

stop() {
	trap - EXIT INT TERM
	echo
	echo "== stopping: removing the demo's slices and its supervisor"
	for s in $(acre -j slice list 2>/dev/null | python3 -c \
		'import json,sys; [print(s["name"]) for s in json.load(sys.stdin)]' 2>/dev/null); do
		acre slice rm --force "$s" >/dev/null 2>&1 || true
	done
	[ -n "${sv:-}" ] && kill "$sv" 2>/dev/null && wait "$sv" 2>/dev/null || true
	rm -rf "$work"
	exit 0
}
trap stop EXIT INT TERM

"$bin/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$work/state" \
	--cgroup-root "acre-demo-$$" 2>"$work/supervisor.log" &
sv=$!
for _ in $(seq 100); do acre slice list >/dev/null 2>&1 && break; sleep 0.05; done

echo "== acre-supervisor is serving $ACRE_SOCKET (log: $work/supervisor.log)"
echo "== a foreground slice: its output streams back, its status is the client's"
acre slice run --rm --memory 64M --cpus 0.5 -- sh -c 'echo "hello from $(hostname), pid $$ of $(ls /proc | grep -c "^[0-9]")"'
echo "== two detached slices: a ticker and a CPU-bound loop held to a quarter of a CPU"
acre slice run -d --name ticker --memory 32M --pids 16 -- \
	sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 1; done'
acre slice run -d --name busy --cpus 0.25 --memory 32M -- sh -c 'while :; do :; done'
sleep 3
acre slice list
echo
acre slice logs ticker | tail -3
echo
acre slice stat
echo
cat <<EOF
The pool is up.  In another shell, as root:
    export ACRE_SOCKET=$ACRE_SOCKET
    $bin/acre slice list
    $bin/acre slice stat --watch
    $bin/acre slice run --rm --memory 16M -- python3 -c 'bytearray(64 << 20)'
Ctrl-C here stops it and removes everything it made.
EOF
while kill -0 "$sv" 2>/dev/null; do sleep 1; done
echo "acre-supervisor exited; see $work/supervisor.log"
