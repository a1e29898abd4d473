#!/usr/bin/env bash
# bench/pool: one acre-controller on this machine (node port on loopback,
# TLS with a CA made for the run, as supervisors connect; PLAIN=1 for plain
# TCP with --insecure), 10,000 simulated nodes in 4 processes, and 1,000,000
# slices POSTed in batches of 1,000 over 8 connections.  Prints registration
# time, placements per second, the time from request to acknowledged launch
# (p50/p99), the controller's RSS and CPU, next to Nomad's published C1M
# figures.  APPS=1: 100,000 slices (the peer), then bench/pool/apps.sh on the
# same pool (an app scaled to 100,000, a rolling update, why), no kill -9.
# Usage: bench/pool/run.sh [NODES [SLICES]]
#   (environment: PROCS, BATCH, CONNS, PLAIN; APPS, and apps.sh's SCALE, ROLL, WHY_TIMES)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${ACRE_BENCH_BIN:-$here/build/bin}
bench=$here/build/bench/acre-bench-pool
nodes=${1:-10000}
slices=${2:-$([ -n "${APPS:-}" ] && echo 100000 || echo 1000000)}
[ -x "$bench" ] || { echo "bench/pool: $bench is missing (make bench)"; exit 1; }
work=$(mktemp -d /tmp/acre-bench-pool.XXXXXX)
ctl=""
sim=""
cleanup() {
	# The simulators and the controller go with the run, however it ends.
	if [ -n "$sim" ]; then
		pkill -TERM -P "$sim" 2>/dev/null || true
		kill "$sim" 2>/dev/null || true
	fi
	if [ -n "$ctl" ]; then
		kill "$ctl" 2>/dev/null || true
		wait "$ctl" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
node_port=$(free_port)
api_port=$(free_port)
join=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
ulimit -n "$(ulimit -Hn)"

tls_ctl=(--insecure)
tls_sim=()
if [ -z "${PLAIN:-}" ]; then
	(
		cd "$work" &&
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key &&
			openssl req -x509 -new -key ca.key -days 1 -subj /CN=bench-ca -out ca.crt &&
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ctl.key &&
			openssl req -new -key ctl.key -subj /CN=acre-controller -out ctl.csr &&
			printf 'subjectAltName=IP:127.0.0.1\n' >ctl.ext &&
			openssl x509 -req -in ctl.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
				-extfile ctl.ext -out ctl.crt
	) >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log"; exit 1; }
	tls_ctl=(--tls-cert "$work/ctl.crt" --tls-key "$work/ctl.key")
	tls_sim=(--tls-ca "$work/ca.crt")
fi

"$bin/acre-controller" --data-dir "$work/data" --node-listen "127.0.0.1:$node_port" \
	--api-listen "127.0.0.1:$api_port" "${tls_ctl[@]}" --join-token "$join" \
	--api-token "$token" --log-level warn 2>"$work/controller.log" &
ctl=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$api_port/healthz" >/dev/null && break
	sleep 0.05
done

after=()
if [ -n "${APPS:-}" ]; then
	export ACRE_BENCH_API="127.0.0.1:$api_port" ACRE_BENCH_TOKEN="$token" ACRE_BENCH_CTL="$ctl"
	after=(--after "$here/bench/pool/apps.sh")
fi
status=0
"$bench" --node-addr "127.0.0.1:$node_port" --api "127.0.0.1:$api_port" --join-token "$join" \
	--api-token "$token" --controller-pid "$ctl" --work-dir "$work" --nodes "$nodes" \
	--slices "$slices" --procs "${PROCS:-4}" --batch "${BATCH:-1000}" \
	--conns "${CONNS:-8}" "${tls_sim[@]}" "${after[@]}" &
sim=$!
wait "$sim" || status=$?
sim=""
echo "  controller state on disk:       $(du -sh "$work/data" | cut -f1)"

# kill -9 of the controller with the whole pool acknowledged: how long until it serves
# again, and whether every slice is back.
if [ "$status" = 0 ] && [ -z "${APPS:-}" ]; then
	kill -KILL "$ctl"
	wait "$ctl" 2>/dev/null || true
	t0=$(date +%s%N)
	"$bin/acre-controller" --data-dir "$work/data" --node-listen "127.0.0.1:$node_port" \
		--api-listen "127.0.0.1:$api_port" "${tls_ctl[@]}" --join-token "$join" \
		--api-token "$token" --log-level warn 2>>"$work/controller.log" &
	ctl=$!
	until curl -sf "http://127.0.0.1:$api_port/healthz" >/dev/null; do sleep 0.02; done
	t1=$(date +%s%N)
	back=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$api_port/v1/pool" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["slices"]["total"])')
	printf '  after kill -9, serving again in %.2f s with %s of %s slices\n' \
		"$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$back" "$slices"
	[ "$back" = "$slices" ] || status=1
fi
if [ -s "$work/controller.log" ]; then
	echo "--- controller warnings (last 5):"
	tail -n 5 "$work/controller.log"
fi
exit $status
