#!/usr/bin/env bash
# A slice's log and a foreground run through the pool (the controller),
# not only on the node: `acre slice logs [-f] NAME --controller URL` prints
# what the node's own `slice logs` prints, relayed over the node's
# connection (GET /v1/slices/NAME/logs); -f follows new lines; ?tail=N
# gives the last N lines; an unknown slice, a bad parameter and a node that
# is not connected (or goes away mid-stream) get clear errors; a client
# that goes away closes the stream on the node; a chatty slice read by a
# slow client costs the controller and the node a bounded buffer and stalls
# neither the node's connection nor its other logs.  A foreground `acre
# slice run` through the pool streams the task's output, exits with its
# status, passes Ctrl-C on to the task, ends the slice when the client is
# told to go (SIGTERM), and with --rm leaves no slice behind.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init

log "network, certificates, controller, two nodes"
net_setup 2
make_certs
CTL_ARGS=(--node-timeout 2s --lost-after 60s)
pool_net_ctl_args
start_controller
start_node 1
start_node 2
ready_nodes() { api GET /v1/nodes | jq '[.nodes[] | select(.state == "ready")] | length'; }
wait_for '[ "$(ready_nodes)" = 2 ]' 15 || fail "two nodes ready: $(api GET /v1/nodes | jq -c '.nodes[] | {id, state}')"
N1=$(node_id 1)
N2=$(node_id 2)
pool_state() { api GET "/v1/slices/$1" | jq -r .state; }
# The pool CLI itself, not a shell around it: for clients run in the background and signalled.
ACRE_POOL=("$ACRE_BIN/acre" --controller "$CONTROLLER" --token-file "$TEST_DIR/api-token")

# ---- the log of a running slice ---------------------------------------------------------------

log "logs of a running slice, through the controller and on its node"
pool slice run -d --name logs-a --constraint "node.id==$N1" -- \
	sh -c 'for i in 1 2 3; do echo line$i; done; echo to-stderr >&2; printf "\377\376 not utf-8\n"; exec sleep 600' >/dev/null ||
	fail "running logs-a"
wait_for '[ "$(pool_state logs-a)" = running ]' 15 || fail "logs-a: $(api GET /v1/slices/logs-a)"
wait_for "node_acre 1 slice logs logs-a | grep -q 'not utf-8'" 10 || fail "logs-a wrote nothing"
node_acre 1 slice logs logs-a >"$TEST_DIR/a.node" || fail "logs of logs-a on its node"
pool slice logs logs-a >"$TEST_DIR/a.pool" || fail "acre slice logs logs-a through the pool"
cmp -s "$TEST_DIR/a.node" "$TEST_DIR/a.pool" ||
	fail "the pool's log differs from the node's: $(od -c "$TEST_DIR/a.pool" | head -5)"
assert_eq "$(head -n 1 "$TEST_DIR/a.pool")" "line1" "the log starts with the first line"
assert_contains "$(cat "$TEST_DIR/a.pool")" "to-stderr" "stderr is in the log too"

log "?tail=N: the last lines"
out=$(curl -sf -H "Authorization: Bearer $API_TOKEN" "$CONTROLLER/v1/slices/logs-a/logs?tail=2" | tr -d '\377\376')
assert_eq "$out" "to-stderr
 not utf-8" "tail=2"
out=$(curl -sf -H "Authorization: Bearer $API_TOKEN" "$CONTROLLER/v1/slices/logs-a/logs?tail=0")
assert_eq "$out" "" "tail=0"
out=$(curl -sf -H "Authorization: Bearer $API_TOKEN" "$CONTROLLER/v1/slices/logs-a/logs?tail=100")
assert_eq "$out" "$(cat "$TEST_DIR/a.node")" "tail past the log's start is the whole log"

log "bad requests and unknown slices"
for q in tail=abc tail=-1 follow=maybe stream=stdout color=red; do
	out=$(api GET "/v1/slices/logs-a/logs?$q")
	assert_eq "$(last_code) $(jq -r .error.code <<<"$out")" "400 invalid" "GET logs?$q"
	assert_eq "$(jq -r .error.field <<<"$out")" "${q%%=*}" "GET logs?$q names the parameter"
done
assert_contains "$(api GET "/v1/slices/logs-a/logs?stream=stderr" | jq -r .error.message)" "one log"
out=$(api GET /v1/slices/no-such-slice/logs)
assert_eq "$(last_code) $(jq -r .error.code <<<"$out")" "404 not_found" "the log of an unknown slice"
out=$(pool slice logs no-such-slice 2>&1) && fail "acre slice logs of an unknown slice succeeded"
assert_contains "$out" "no slice named no-such-slice in the pool"
out=$(pool slice logs -f no-such-slice 2>&1) && fail "acre slice logs -f of an unknown slice succeeded"
assert_contains "$out" "no slice named no-such-slice in the pool"
pool slice run -d --name never-placed --constraint "node.id==$N1" --cpus "$(($(nproc) * 2))" -- true >/dev/null 2>&1 &&
	fail "a slice larger than its node was accepted"

# ---- -f follows new lines ---------------------------------------------------------------------

log "logs -f follows the lines a slice writes"
pool slice run -d --name ticker --constraint "node.id==$N1" -- \
	sh -c 'i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.2; done' >/dev/null || fail "running ticker"
wait_for '[ "$(pool_state ticker)" = running ]' 15 || fail "ticker: $(api GET /v1/slices/ticker)"
"${ACRE_POOL[@]}" slice logs -f ticker >"$TEST_DIR/ticker.out" 2>&1 &
follower=$!
track_bg "$follower"
wait_for "grep -q tick3 '$TEST_DIR/ticker.out'" 10 || fail "no ticks followed: $(cat "$TEST_DIR/ticker.out")"
last=$(grep -c tick "$TEST_DIR/ticker.out")
wait_for "[ \$(grep -c tick '$TEST_DIR/ticker.out') -ge $((last + 10)) ]" 10 ||
	fail "logs -f did not follow: $(tail -3 "$TEST_DIR/ticker.out")"
kill -0 "$follower" || fail "logs -f ended while the slice runs"
# Lines in order, none twice, none missing.
n=$(grep -c tick "$TEST_DIR/ticker.out")
assert_eq "$(grep -o 'tick[0-9]*' "$TEST_DIR/ticker.out" | head -n "$n" | tr '\n' ' ')" \
	"$(seq -f 'tick%g' 1 "$n" | tr '\n' ' ')" "the followed ticks, in order"
log "a follower that goes away closes the stream on the node"
kill "$follower"
wait "$follower" 2>/dev/null
wait_for "grep -q 'slice=ticker event=log_stream_closed' '$TEST_DIR/n1/supervisor.log'" 10 ||
	fail "the node still reads ticker's log for a follower that left"
log "... and so does one of a quiet slice (nothing is being written to it)"
"${ACRE_POOL[@]}" slice logs -f logs-a >"$TEST_DIR/quiet.out" 2>&1 &
follower=$!
track_bg "$follower"
wait_for "grep -q line3 '$TEST_DIR/quiet.out'" 10 || fail "no log of logs-a followed"
kill "$follower"
wait "$follower" 2>/dev/null
wait_for "grep -q 'slice=logs-a event=log_stream_closed' '$TEST_DIR/n1/supervisor.log'" 10 ||
	fail "the node still reads logs-a's log for a follower that left"
log "logs -f ends when the slice ends"
"${ACRE_POOL[@]}" slice logs -f ticker >"$TEST_DIR/ticker2.out" 2>&1 &
follower=$!
track_bg "$follower"
wait_for "grep -q tick '$TEST_DIR/ticker2.out'" 10 || fail "the second follower got nothing"
pool slice kill ticker >/dev/null || fail "killing ticker"
wait_for "! kill -0 $follower" 10 || fail "logs -f still runs after the slice ended"
rc=0
wait "$follower" || rc=$?
assert_eq "$rc" 0 "logs -f's status once the slice ended"

# ---- bounds: a chatty slice and a slow reader ---------------------------------------------------

log "a chatty slice and a slow reader: bounded memory, the node connection not stalled"
pool slice run -d --name chatty --constraint "node.id==$N1" -- \
	sh -c 'head -c 64000000 /dev/zero | tr "\0" x; echo; echo chatty-done; exec sleep 600' >/dev/null ||
	fail "running chatty"
chatty_log=$TEST_DIR/n1/state/slices/chatty/log
wait_for "tail -c 20 '$chatty_log' 2>/dev/null | grep -q chatty-done" 30 || fail "chatty did not write its 64 MB"
# All of it, in order, through a reader faster than a held stream but slower than the disk.
assert_eq "$(pool slice logs chatty | md5sum)" "$(md5sum <"$chatty_log")" "chatty's 64 MB log through the pool"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
ctl_before=$(rss "$CTL_PID")
node_before=$(rss "${NODE_PID[1]}")
curl -sN --limit-rate 100k -H "Authorization: Bearer $API_TOKEN" \
	"$CONTROLLER/v1/slices/chatty/logs?follow=1" -o "$TEST_DIR/slow.out" &
slow=$!
track_bg "$slow"
wait_for "[ -s '$TEST_DIR/slow.out' ]" 10 || fail "the slow reader got nothing"
sleep 3
# The same node's connection carries other logs, at once, while the slow one is held.
start=$(now_ms)
timeout 5 "${ACRE_POOL[@]}" slice logs logs-a >"$TEST_DIR/meanwhile.out" ||
	fail "another log of node 1 while a slow reader is held"
assert_contains "$(cat "$TEST_DIR/meanwhile.out")" line3 "another log of node 1 meanwhile"
assert_le $(($(now_ms) - start)) 2000 "ms for another log of the same node meanwhile"
assert_eq "$(api GET "/v1/nodes/$N1" | jq -r .state)" ready "node 1 keeps its heartbeats meanwhile"
ctl_during=$(rss "$CTL_PID")
node_during=$(rss "${NODE_PID[1]}")
got=$(stat -c %s "$TEST_DIR/slow.out")
assert_le "$got" 20000000 "bytes the slow reader has after ~4 s at 100 KB/s (and socket buffers)"
# Unbounded, the controller would hold the 64 MB the node can read in a moment.
assert_le $((ctl_during - ctl_before)) 16384 "KiB the controller grew by for a held stream"
assert_le $((node_during - node_before)) 16384 "KiB the node grew by for a held stream"
kill "$slow"
wait "$slow" 2>/dev/null
wait_for "grep -q 'slice=chatty event=log_stream_closed' '$TEST_DIR/n1/supervisor.log'" 10 ||
	fail "the node still reads chatty's log for the slow reader that left"
pool slice rm --force chatty >/dev/null || fail "removing chatty"

# ---- a foreground run through the pool ----------------------------------------------------------

log "a foreground run: output, exit status 3"
rc=0
out=$(pool slice run --name fg-3 -- sh -c 'echo hello from the pool; echo oops >&2; exit 3' 2>"$TEST_DIR/fg-3.err") || rc=$?
assert_eq "$rc" 3 "a foreground run's status through the pool"
assert_eq "$out" "hello from the pool
oops" "a foreground run's output, stdout and stderr in the order written"
assert_eq "$(api GET /v1/slices/fg-3 | jq -r '.state + " " + .reason')" "failed exit 3" \
	"fg-3 stays without --rm, as it ended"
out=$(pool -j slice run --name fg-j -- sh -c 'exit 0' | tail -1)
assert_eq "$(jq -c '[.name, .state, .exit.exit_code, .removed]' <<<"$out")" '["fg-j","exited",0,false]' \
	"-j of a foreground run through the pool"

log "--rm leaves no slice"
rc=0
out=$(pool slice run --rm --name fg-rm -- sh -c 'echo bye; exit 4') || rc=$?
assert_eq "$rc" 4 "--rm keeps the task's status"
assert_eq "$out" "bye" "--rm's output"
api GET /v1/slices/fg-rm >/dev/null
assert_eq "$(last_code)" 404 "fg-rm is gone from the pool"
assert_not_contains "$(node_acre 1 slice list; node_acre 2 slice list)" "fg-rm" "fg-rm is gone from its node"
out=$(pool slice run -d --rm -- true 2>&1) && fail "-d --rm through the pool was accepted"
assert_contains "$out" "--rm with --detach"

log "Ctrl-C reaches the task"
trapper='trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.1; done'
env --default-signal=INT "${ACRE_POOL[@]}" slice run --rm --name fg-int -- sh -c "$trapper" >"$TEST_DIR/fg-int.out" 2>&1 &
client=$!
track_bg "$client"
wait_for "grep -q ready '$TEST_DIR/fg-int.out'" 15 || fail "fg-int did not start: $(cat "$TEST_DIR/fg-int.out")"
kill -INT "$client"
wait_for "! kill -0 $client" 15 || fail "the client did not exit after SIGINT"
rc=0
wait "$client" || rc=$?
assert_eq "$rc" 5 "the client's status after Ctrl-C"
assert_contains "$(cat "$TEST_DIR/fg-int.out")" "got INT" "the task's output after Ctrl-C"
api GET /v1/slices/fg-int >/dev/null
assert_eq "$(last_code)" 404 "fg-int (--rm) is gone after Ctrl-C"

log "a client told to go (SIGTERM) ends its slice, and with --rm removes it"
"${ACRE_POOL[@]}" slice run --rm --name fg-term -- sh -c 'echo ready; exec sleep 600' \
	>"$TEST_DIR/fg-term.out" 2>&1 &
client=$!
track_bg "$client"
wait_for "grep -q ready '$TEST_DIR/fg-term.out'" 15 || fail "fg-term did not start: $(cat "$TEST_DIR/fg-term.out")"
kill -TERM "$client"
wait_for "! kill -0 $client" 15 || fail "the client did not exit after SIGTERM"
rc=0
wait "$client" || rc=$?
assert_eq "$rc" 143 "the client's status after SIGTERM (the task's: signal 15)"
api GET /v1/slices/fg-term >/dev/null
assert_eq "$(last_code)" 404 "fg-term (--rm) is gone after SIGTERM"

log "a foreground run of an impossible slice fails at once"
out=$(pool slice run --constraint zone==mars -- true 2>&1) && fail "an impossible foreground run succeeded"
assert_contains "$out" "constraints"

# ---- a node that is not connected ------------------------------------------------------------

log "a slice whose node goes away: the stream breaks, then a clear error"
pool slice run -d --name on-n2 --constraint "node.id==$N2" -- sh -c 'echo on node two; exec sleep 600' >/dev/null ||
	fail "running on-n2"
wait_for '[ "$(pool_state on-n2)" = running ]' 15 || fail "on-n2: $(api GET /v1/slices/on-n2)"
"${ACRE_POOL[@]}" slice logs -f on-n2 >"$TEST_DIR/n2.out" 2>"$TEST_DIR/n2.err" &
follower=$!
track_bg "$follower"
wait_for "grep -q 'on node two' '$TEST_DIR/n2.out'" 10 || fail "no log from node 2"
kill_node 2
wait_for "! kill -0 $follower" 10 || fail "logs -f still runs after its node went"
rc=0
wait "$follower" || rc=$?
assert_eq "$rc" 1 "logs -f's status when its node went away"
assert_contains "$(cat "$TEST_DIR/n2.err")" "broke off" "logs -f says the stream broke off"
out=$(api GET /v1/slices/on-n2/logs)
assert_eq "$(last_code) $(jq -r .error.code <<<"$out")" "503 unavailable" "the log of a slice on a node away"
out=$(pool slice logs on-n2 2>&1) && fail "logs of a slice on a disconnected node succeeded"
assert_contains "$out" "node $N2, where slice on-n2 is, is not connected"

log "node 1 is still served"
pool slice logs logs-a | grep -q line3 || fail "logs-a after node 2 went"

log "done"
