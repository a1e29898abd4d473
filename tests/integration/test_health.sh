#!/bin/bash
# Health and readiness checks, run by the supervisor on its node, with
# intervals of 200 ms: an HTTP server slice (python3 -m http.server) with an
# http check becomes healthy and joins GROUP.acre; with the file it serves
# removed it is unhealthy after `failures` intervals and leaves GROUP.acre
# within 1 s of the transition; it recovers when the file is back, and again
# after a SIGSTOP (a timeout) is ended by SIGCONT.  A command check runs
# inside the slice (its /tmp, its user, its hostname); a tcp check passes on
# a listening port and fails on a closed one; a readiness check keeps a
# slice out of its group until it passes.  Bad check specs are refused with
# the flag named.  After kill -9 of the supervisor, the checks resume on
# the slices it adopts.  The supervisor runs in a network namespace of the test's
# own; slices get addresses from lib.sh's 198.19.x range.
. "$(dirname "$0")/lib.sh"
require ip dig python3 jq pgrep
T0=$(now_ms)
ns=${CGROOT#acre-}
make_netns "$ns"
SUP_WRAP=(nsenter --net="/run/netns/$ns")
bridge=acrh$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
gw=${TEST_SLICE_CIDR%.0/24}.1
printf 'nameserver 127.0.0.1\n' >"$TEST_DIR/resolv.conf"
start_supervisor --bridge "$bridge" --resolv-conf "$TEST_DIR/resolv.conf"

in_ns() { ip netns exec "$ns" "$@"; }
members() { in_ns dig +short +time=1 +tries=1 @"$gw" "$1" | sort | tr '\n' ' '; }
addr_of() { slice_field "$1" .network.address | cut -d/ -f1; }
health() { acre -j slice show "$1" | jq -r '.health.status + "/" + (.health.ready | tostring)'; }
wait_health() {
	wait_for "[ \"\$(health '$1')\" = '$2' ]" "${3:-5}" ||
		fail "$1: expected health $2, it is $(health "$1"): $(acre -j slice show "$1" | jq -c .health)"
}
root_of() { echo "/proc/$(slice_field "$1" .pid)/root"; }
FAST=(--check-interval 200ms --check-timeout 200ms --check-failures 3)

# ---- bad specs are refused, naming the flag -----------------------------------------------
for bad in "--check-http 0/" "--check-http 80/a%20b --check-interval 10ms" "--check-tcp 70000" \
	"--check-cmd x --check-interval 1s --check-timeout 2s" "--check-failures 0 --check-tcp 1" \
	"--check-interval 1s" "--ready-http 80x"; do
	# shellcheck disable=SC2086 # the flags are words
	out=$(acre slice run -d $bad -- true 2>&1) && fail "accepted: $bad"
	assert_contains "$out" "--" "the error for '$bad' names a flag: $out"
	log "refused: $bad: $out"
done
out=$(python3 - "$ACRE_SOCKET" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
spec = {"command": ["true"], "checks": [{"kind": "http", "port": 80, "path": "nope"}]}
s.sendall((json.dumps({"op": "slice.run", "id": 1, "spec": spec, "detach": True}) + "\n").encode())
print(s.makefile().readline())
EOF
)
assert_eq "$(jq -r .error.field <<<"$out")" "checks[0].path" "a bad spec over the socket: $out"
assert_eq "$(acre -j slice list | jq length)" 0 "nothing created by a refused spec"

# ---- http: healthy, unhealthy after `failures` intervals, out of GROUP.acre, back ----------
acre slice run -d --name web-2 --net bridge --label acre.service=web -- sleep 600 >/dev/null ||
	fail "run web-2"
t=$(now_ms)
acre slice run -d --name web-1 --net bridge --label acre.service=web \
	--check-http 8000/index.html "${FAST[@]}" --check-grace 10s -- \
	sh -c 'mkdir -p /tmp/www && echo ok >/tmp/www/index.html && cd /tmp/www &&
	       exec python3 -m http.server 8000' >/dev/null || fail "run web-1"
wait_state web-1 running 10
wait_health web-1 healthy/true 10
log "web-1 healthy $(($(now_ms) - t)) ms after run"
want=$(printf '%s\n' "$(addr_of web-1)" "$(addr_of web-2)" | sort | tr '\n' ' ')
wait_for "[ \"\$(members web.acre)\" = '$want' ]" 1 || fail "web.acre: want $want, got $(members web.acre)"
assert_eq "$(members web-1.acre)" "$(addr_of web-1) " "web-1.acre while healthy"
acre slice list | grep -q 'web-1 .*running *healthy' || fail "list shows no HEALTH: $(acre slice list)"
acre slice show web-1 | grep -q '^health: *healthy' || fail "show: $(acre slice show web-1)"

only_web2="$(addr_of web-2) "
rm "$(root_of web-1)/tmp/www/index.html" || fail "removing the served file"
t=$(now_ms)
# The answers as a client sees them, asked in a loop: when web-1 leaves them.
until [ "$(members web.acre)" = "$only_web2" ]; do
	[ $(($(now_ms) - t)) -lt $(($(scaled 5 | cut -d. -f1) * 1000)) ] || fail "web-1 never left web.acre"
done
left=$(now_ms)
wait_health web-1 unhealthy/true 5
show=$(acre -j slice show web-1)
changed=$(jq -r .health.changed_at <<<"$show")
took=$((changed - t))
log "web-1 unhealthy $took ms after its file went (3 failures at 200 ms intervals)"
assert_le 400 "$took" "not before 3 intervals"
gone=$((left - changed))
log "web-1 out of web.acre $gone ms after the transition"
assert_le "$gone" 1000 "out of the group within 1 s"
grep -q 'slice=web-1 event=health health=unhealthy .*reason="GET /index.html: HTTP 404"' "$SUP_LOG" ||
	fail "no transition to unhealthy for HTTP 404 in the log"
assert_le 3 "$(jq -r .health.failures <<<"$show")" "failures in a row"
assert_eq "$(members web-1.acre)" "" "web-1.acre while unhealthy"
grep -q 'slice=web-1 event=health health=unhealthy' "$SUP_LOG" || fail "no transition event logged"

echo ok >"$(root_of web-1)/tmp/www/index.html"
wait_health web-1 healthy/true 3
wait_for "[ \"\$(members web.acre)\" = '$want' ]" 1 || fail "web-1 not back in web.acre"
log "web-1 recovered and back in web.acre"

pid=$(slice_field web-1 .pid)
kill -STOP $(pgrep -P "$pid") || fail "SIGSTOP"
wait_health web-1 unhealthy/true 5
grep -q 'slice=web-1 event=health health=unhealthy .*reason="timed out after 200ms"' "$SUP_LOG" ||
	fail "no transition to unhealthy for a timeout in the log"
kill -CONT $(pgrep -P "$pid")
wait_health web-1 healthy/true 3

# ---- command: inside the slice, as its user -------------------------------------------------
acre slice run -d --name cmd-1 --user nobody "${FAST[@]}" --check-grace 0 \
	--check-cmd 'test -e /tmp/ok && test "$(id -u)" = 65534 && test "$(cat /proc/sys/kernel/hostname)" = cmd-1' \
	-- sh -c 'touch /tmp/ok; exec sleep 600' >/dev/null || fail "run cmd-1"
wait_health cmd-1 healthy/true 5
rm "$(root_of cmd-1)/tmp/ok"
wait_health cmd-1 unhealthy/true 5
assert_eq "$(slice_field cmd-1 .health.reason)" "exit 1" "a failing command's reason"

# ---- tcp: an open port passes, a closed one fails once grace is over --------------------------
acre slice run -d --name tcp-1 --net bridge "${FAST[@]}" --check-grace 0 --check-tcp 8001 \
	--ready-tcp 8001 -- python3 -m http.server 8001 >/dev/null || fail "run tcp-1"
acre slice run -d --name tcp-2 --net bridge "${FAST[@]}" --check-grace 300ms --check-tcp 8009 \
	-- sleep 600 >/dev/null || fail "run tcp-2"
wait_health tcp-1 healthy/true 5
wait_health tcp-2 unhealthy/true 5
assert_contains "$(slice_field tcp-2 .health.reason)" "Connection refused" "tcp-2's reason"

# ---- readiness: out of its group until it passes --------------------------------------------
acre slice run -d --name rdy-1 --net bridge --label acre.service=rdy "${FAST[@]}" \
	--ready-cmd 'test -e /tmp/ready' -- sleep 600 >/dev/null || fail "run rdy-1"
wait_health rdy-1 none/false 5
sleep 0.5
assert_eq "$(members rdy.acre)" "" "not ready: not in rdy.acre"
touch "$(root_of rdy-1)/tmp/ready"
wait_health rdy-1 none/true 3
wait_for "[ \"\$(members rdy.acre)\" = '$(addr_of rdy-1) ' ]" 1 || fail "rdy-1 not in rdy.acre once ready"

# ---- a supervisor killed and started again resumes the checks of the slices it adopts ---------
kill_supervisor
restart_supervisor
wait_health web-1 healthy/true 5
wait_for "[ \"\$(members web.acre)\" = '$want' ]" 2 || fail "web.acre after a restart: $(members web.acre)"
wait_health cmd-1 unhealthy/true 5
log "checks resumed after kill -9 of the supervisor"

# ---- checks end with their slice -------------------------------------------------------------
acre slice kill web-1 >/dev/null
wait_state web-1 killed 10
n=$(grep -c 'slice=web-1 event=health' "$SUP_LOG")
sleep 0.5
assert_eq "$(grep -c 'slice=web-1 event=health' "$SUP_LOG")" "$n" "no check runs after the slice ended"
for s in web-1 web-2 cmd-1 tcp-1 tcp-2 rdy-1; do acre slice rm --force "$s" >/dev/null; done
wait_for '[ "$(acre -j slice list | jq length)" = 0 ]' 10 || fail "slices left: $(acre slice list)"
log "test_health: $(($(now_ms) - T0)) ms"
