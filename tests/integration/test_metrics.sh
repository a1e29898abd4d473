#!/bin/bash
# The supervisor's Prometheus endpoint (--metrics-listen): off by default;
# a bad address refused at start with an error naming the flag; GET
# /metrics answers text 0.0.4 that `promtool check metrics` accepts (HELP
# and TYPE for every family, names with their units); each slice's series
# carry slice, app and install (empty when the slice has none, escaped when
# a label holds a quote, a backslash or a newline); a slice burning CPU
# under --cpus sees its CPU seconds grow and its throttling counted; the
# limits are the spec's; a slice that wakes often and talks over loopback
# shows run-queue and network counts (with eBPF accounting); the node's
# capacity, reservations and slices by state add up; other paths get 404,
# other methods 405, and a client stalled mid-request holds nothing up.
# Once the slices are removed their series go and the node's counters (CPU,
# and the eBPF totals) do not go back; a port already taken fails the start with the reason.
. "$(dirname "$0")/lib.sh"
require curl promtool awk python3 ss

# ---- refused before anything starts ------------------------------------------------
for bad in nope 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 :9100x; do
	out=$("$ACRE_BIN/acre-supervisor" --metrics-listen "$bad" 2>&1) && fail "--metrics-listen $bad accepted"
	assert_contains "$out" "--metrics-listen $bad: expected ADDR:PORT" "error for --metrics-listen $bad"
done
"$ACRE_BIN/acre-supervisor" --help | matches -- '--metrics-listen ADDR:PORT' ||
	fail "--help does not document --metrics-listen"

# A free port below the kernel's ephemeral range, where no outgoing connection takes it.
for _ in $(seq 50); do
	port=$((20000 + RANDOM % 12000))
	[ -z "$(ss -Hltn "sport = :$port")" ] && break
done
URL=http://127.0.0.1:$port/metrics
start_supervisor --metrics-listen "127.0.0.1:$port"
grep -q "event=metrics_listening listen=127.0.0.1:$port" "$SUP_LOG" || fail "no metrics_listening line"
accounting=0
grep -q 'event=accounting_on' "$SUP_LOG" && accounting=1

scrape() { # scrape FILE: one GET of /metrics, checked by promtool
	curl -sS --max-time "$(scaled 5)" -D "$TEST_DIR/$1.headers" -o "$TEST_DIR/$1" "$URL" ||
		fail "GET $URL failed"
	promtool check metrics <"$TEST_DIR/$1" >"$TEST_DIR/$1.promtool" 2>&1 ||
		fail "promtool check metrics: $(cat "$TEST_DIR/$1.promtool")"
}
value() { # value FILE SERIES: the sample's value, "" when absent
	# From the environment: awk -v would read the backslashes of escaped labels as escapes.
	SERIES=$2 awk '$1 == ENVIRON["SERIES"] { print $2 }' "$TEST_DIR/$1"
}
gt() { # gt A B: A > B as numbers
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 > b + 0) }'
}

# ---- slices: one of an app and an install, one with neither -----------------------
install=$'si"te\\x\ny'
acre slice run -d --name burner --cpus 0.2 --memory 64M --pids 32 --label acre.app=web \
	--label "acre.install=$install" -- sh -c 'while :; do :; done' >/dev/null || fail "run burner"
acre slice run -d --name waker --net host -- sh -c \
	"while :; do curl -s -o /dev/null $URL; sleep 0.05; done" >/dev/null || fail "run waker"
wait_state burner running 5
wait_state waker running 5
sleep "$(scaled 1)"
scrape first
headers=$(tr -d '\r' <"$TEST_DIR/first.headers")
assert_contains "$headers" "HTTP/1.1 200" "status of GET /metrics"
assert_contains "$headers" "Content-Type: text/plain; version=0.0.4" "content type"

# Every family has its HELP and TYPE, and nothing of ours is typed untyped.
for fam in $(awk '/^# TYPE / { print $3 }' "$TEST_DIR/first"); do
	grep -q "^# HELP $fam " "$TEST_DIR/first" || fail "family $fam has no HELP"
done
for fam in acre_slice_cpu_seconds_total acre_slice_cpu_throttled_periods_total \
	acre_slice_cpu_throttled_seconds_total acre_slice_memory_usage_bytes \
	acre_slice_memory_bytes acre_slice_memory_limit_bytes acre_slice_pids \
	acre_slice_pids_limit acre_slice_oom_kills_total acre_node_cpus acre_node_memory_bytes \
	acre_node_slices acre_node_slices_cpu_seconds_total acre_node_supervisor_uptime_seconds \
	acre_node_build_info; do
	grep -q "^# TYPE $fam " "$TEST_DIR/first" || fail "no family $fam"
done

B='slice="burner",app="web",install="si\"te\\x\ny"'
W='slice="waker",app="",install=""'
cpu1=$(value first "acre_slice_cpu_seconds_total{$B}")
[ -n "$cpu1" ] || fail "no cpu series labelled $B: $(grep '^acre_slice_cpu_seconds_total' "$TEST_DIR/first")"
[ -n "$(value first "acre_slice_cpu_seconds_total{$W}")" ] ||
	fail "no cpu series for waker with empty app and install"
assert_eq "$(value first "acre_slice_memory_limit_bytes{$B}")" 67108864 "burner's memory limit"
assert_eq "$(value first "acre_slice_pids_limit{$B}")" 32 "burner's pids limit"
assert_eq "$(value first "acre_slice_cpus_limit{$B}")" 0.2 "burner's cpus limit"
[ -z "$(value first "acre_slice_memory_limit_bytes{$W}")" ] || fail "waker has no memory limit"
gt "$(value first "acre_slice_memory_usage_bytes{$B}")" 0 || fail "burner uses no memory"
gt "$(value first "acre_slice_memory_bytes{$B,kind=\"anon\"}")" 0 || fail "burner has no anon memory"
pids=$(value first "acre_slice_pids{$B}")
[ "$pids" -ge 2 ] || fail "burner's pids: $pids (acre-init and sh at least)"

node=$(grep -o '^acre_node_build_info{node="[^"]*"' "$TEST_DIR/first" | sed 's/.*node="//; s/"$//')
[ -n "$node" ] || fail "no node label on acre_node_build_info"
N="node=\"$node\""
assert_eq "$(value first "acre_node_slices{$N,state=\"running\"}")" 2 "running slices"
assert_eq "$(value first "acre_node_slices{$N,state=\"exited\"}")" 0 "exited slices"
assert_eq "$(value first "acre_node_cpus{$N,kind=\"capacity\"}")" "$(nproc)" "node cpu capacity"
assert_eq "$(value first "acre_node_cpus{$N,kind=\"reserved\"}")" 0.2 "cpus reserved"
assert_eq "$(value first "acre_node_memory_bytes{$N,kind=\"reserved\"}")" 67108864 "memory reserved"
version=$("$ACRE_BIN/acre-supervisor" --version | awk '{ print $2 }')
assert_eq "$(value first "acre_node_build_info{$N,version=\"$version\"}")" 1 "build info"

# ---- counters move ------------------------------------------------------------------
sleep "$(scaled 2)"
scrape second
cpu2=$(value second "acre_slice_cpu_seconds_total{$B}")
log "burner cpu seconds: $cpu1 then $cpu2"
# At --cpus 0.2 two seconds give 0.4 s; a third of that leaves room for a slow machine.
awk -v a="$cpu1" -v b="$cpu2" 'BEGIN { exit !(b - a >= 0.13) }' ||
	fail "burner's cpu seconds grew from $cpu1 to $cpu2 only"
gt "$(value second "acre_slice_cpu_throttled_periods_total{$B}")" 0 ||
	fail "burner at --cpus 0.2 was never throttled"
gt "$(value second "acre_slice_cpu_throttled_seconds_total{$B}")" 0 ||
	fail "burner's throttled seconds are zero"
node_cpu2=$(value second "acre_node_slices_cpu_seconds_total{$N}")
gt "$node_cpu2" "$(awk -v a="$cpu2" 'BEGIN { print a * 0.9 }')" ||
	fail "the node's slices' cpu seconds $node_cpu2 are below burner's $cpu2"
gt "$(value second "acre_node_supervisor_uptime_seconds{$N}")" 1 || fail "uptime"

if [ "$accounting" = 1 ]; then
	W_RQ=$(value second "acre_slice_runqueue_latency_seconds_count{$W}")
	gt "$W_RQ" 0 || fail "waker's run-queue count is $W_RQ"
	assert_eq "$(value second "acre_slice_runqueue_latency_seconds_bucket{$W,le=\"+Inf\"}")" "$W_RQ" \
		"the +Inf bucket against _count"
	rx=$(P="acre_slice_network_bytes_total{$W," awk '
		index($1, ENVIRON["P"]) == 1 && $1 ~ /direction="rx"/ { s += $2 } END { print s + 0 }' "$TEST_DIR/second")
	gt "$rx" 10000 || fail "waker received $rx bytes over loopback (its scrapes are larger)"
	grep -q "^acre_slice_network_bytes_total{$W,class=\"outside\",direction=\"tx\"} " \
		"$TEST_DIR/second" || fail "no class/direction series for waker"
	# The node's totals hold the slices' counts (a scrape later, so at least as many).
	w_out=$(value second "acre_slice_network_bytes_total{$W,class=\"outside\",direction=\"rx\"}")
	node_rx2=$(value second "acre_node_slices_network_bytes_total{$N,class=\"outside\",direction=\"rx\"}")
	[ "$node_rx2" -ge "$w_out" ] || fail "the node's outside rx $node_rx2 is below waker's $w_out"
	node_rq2=$(value second "acre_node_slices_runqueue_latency_seconds_count{$N}")
	[ "$node_rq2" -ge "$W_RQ" ] || fail "the node's run-queue count $node_rq2 is below waker's $W_RQ"
else
	log "accounting off: eBPF families not checked"
	grep -q '^acre_slice_network_bytes_total{' "$TEST_DIR/second" &&
		fail "network series written with accounting off"
fi

# ---- anything but GET /metrics, and a client that stalls ----------------------------
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
assert_eq "$code" 404 "GET /nope"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
assert_eq "$code" 404 "GET /"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$URL")
assert_eq "$code" 405 "POST /metrics"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /metr' >&3
code=$(curl -s -o /dev/null --max-time "$(scaled 3)" -w '%{http_code}' "$URL?x=1")
assert_eq "$code" 200 "GET /metrics beside a stalled client"
exec 3<&-
acre_ping >/dev/null || fail "the socket stopped answering"

# ---- removed slices leave; the node's counter does not go back -------------------------
acre slice rm --force burner >/dev/null || fail "rm burner"
acre slice rm --force waker >/dev/null || fail "rm waker"
scrape third
grep -q '^acre_slice_[a-z_]*{slice="burner"' "$TEST_DIR/third" && fail "burner's series outlived it"
grep -q '^acre_slice_[a-z_]*{slice="waker"' "$TEST_DIR/third" && fail "waker's series outlived it"
node_cpu3=$(value third "acre_node_slices_cpu_seconds_total{$N}")
awk -v a="$node_cpu2" -v b="$node_cpu3" 'BEGIN { exit !(b >= a) }' ||
	fail "the node's cpu seconds went back from $node_cpu2 to $node_cpu3 when the slices left"
assert_eq "$(value third "acre_node_slices{$N,state=\"running\"}")" 0 "running slices after rm"
if [ "$accounting" = 1 ]; then
	node_rx3=$(value third "acre_node_slices_network_bytes_total{$N,class=\"outside\",direction=\"rx\"}")
	[ "$node_rx3" -ge "$node_rx2" ] ||
		fail "the node's outside rx went back from $node_rx2 to $node_rx3 when the slices left"
	node_rq3=$(value third "acre_node_slices_runqueue_latency_seconds_count{$N}")
	[ "$node_rq3" -ge "$node_rq2" ] ||
		fail "the node's run-queue count went back from $node_rq2 to $node_rq3"
fi
assert_eq "$(value third "acre_node_cpus{$N,kind=\"reserved\"}")" 0 "cpus reserved after rm"

# ---- a port another process holds: the start fails and says why ------------------------
stop_supervisor || fail "supervisor exited with an error"
spawn_bg python3 -c "import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(600)"
wait_for "ss -Hltn 'sport = :$port' | matches ." 5 || fail "the port holder did not listen"
rc=0
out=$("$ACRE_BIN/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$STATE_DIR" \
	--cgroup-root "$CGROOT" --slice-cidr "$TEST_SLICE_CIDR" --metrics-listen "127.0.0.1:$port" \
	</dev/null 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status with the port taken"
assert_contains "$out" "--metrics-listen 127.0.0.1:$port: Address already in use" "the error"
holder=${BG_PIDS[-1]}
kill "$holder" && wait "$holder" 2>/dev/null
wait_for "[ -z \"\$(ss -Hltn 'sport = :$port')\" ]" 5 || fail "the port holder did not let go"

# ---- off by default ---------------------------------------------------------------------
start_supervisor
code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$URL")
assert_eq "$code" 000 "GET /metrics without --metrics-listen (no connection)"
[ -z "$(ss -Hltn "sport = :$port")" ] || fail "something listens on $port without --metrics-listen"
grep -c 'event=metrics_listening' "$SUP_LOG" | matches -x 1 || fail "metrics served on the second start"
exit 0
