#!/usr/bin/env bash
# A node cut off from the controller (its namespace's link set down) for
# its disconnect grace — half the controller's --lost-after, told at
# registration — stops the pool's slices labelled acre.on-partition=replace
# itself (logged event=partition_stop), well before the controller would
# declare them lost and run them elsewhere; slices labelled wait, and a
# slice started on the node's own socket (labelled replace even), run on.
# A link back before the grace stops nothing.  Healed, the node registers
# again and reports the stopped slices ended (killed, reason "partition:
# ..."), not lost; nothing is killed for registering again.
. "$(dirname "$0")/cluster_lib.sh"

cluster_init

LOST_AFTER=8
GRACE_MS=$((LOST_AFTER * 1000 / 2))
# shellcheck disable=SC2034 # read by start_controller
CTL_ARGS=(--node-timeout 2s --lost-after "${LOST_AFTER}s")

log "network, certificates, controller, one node"
net_setup 1
make_certs
start_controller
start_node 1
NS=acre-test-$RAND_ID-n1
NLOG=$TEST_DIR/n1/supervisor.log
node_ready() { [ "$(api GET /v1/nodes | jq -r '.nodes[0].state')" = ready ] && [ "$(api GET /v1/nodes | jq -r '.nodes[0].schedulable')" = true ]; }
wait_for node_ready 15 || fail "the node is not ready: $(api GET /v1/nodes)"
wait_for "grep -q 'event=partition_grace grace_ms=$GRACE_MS' '$NLOG'" 5 ||
	fail "the node was not told its grace of $GRACE_MS ms: $(grep partition "$NLOG")"
assert_eq "$(jq -c . "$TEST_DIR/n1/state/controller-grace.json")" "{\"disconnect_grace_ms\":$GRACE_MS}" \
	"the grace is kept in the state directory"

state_of() { api GET "/v1/slices/$1" | jq -r .state; }
node_state_of() { node_acre 1 -j slice show "$1" | jq -r .state; }
node_pid_of() { node_acre 1 -j slice show "$1" | jq -r .pid; }

log "a slice of each policy through the pool, and one on the node's socket"
pool slice run -d --name rep --label acre.on-partition=replace -- sleep 1000 >/dev/null ||
	fail "placing rep"
pool slice run -d --name wt --label acre.on-partition=wait -- sleep 1000 >/dev/null ||
	fail "placing wt"
pool slice run -d --name plain -- sleep 1000 >/dev/null || fail "placing plain"
node_acre 1 slice run -d --name loc --label acre.on-partition=replace -- sleep 1000 >/dev/null ||
	fail "running loc on the node's socket"
for s in rep wt plain; do
	wait_for "[ \"\$(state_of $s)\" = running ]" 15 || fail "$s does not run: $(api GET /v1/slices/$s)"
done
wait_for '[ "$(node_state_of loc)" = running ]' 10 || fail "loc does not run"
declare -A PID
for s in rep wt plain loc; do PID[$s]=$(node_pid_of $s); done

log "cut off for less than the grace: nothing stops"
ip -n "$NS" link set eth0 down || fail "setting the node's link down"
sleep "$(scaled 1.5)"
ip -n "$NS" link set eth0 up || fail "setting the node's link up"
sleep "$(awk "BEGIN {print $GRACE_MS / 1000 + 1}")"
assert_not_contains "$(grep event=partition_stop "$NLOG")" "slice=" "a short cut stops nothing"
assert_eq "$(node_state_of rep)" running "rep runs after a short cut"
wait_for node_ready 10 || fail "the node is not ready after a short cut"

log "cut off for good: rep is stopped by its node after about the grace"
REGISTERED=$(grep -c event=controller_registered "$NLOG")
ip -n "$NS" link set eth0 down || fail "setting the node's link down"
t0=$(now_ms)
wait_for "grep -q 'event=partition_stop slice=rep ' '$NLOG'" $((GRACE_MS / 1000 + 4)) ||
	fail "rep was not stopped: $(grep partition "$NLOG")"
took=$(($(now_ms) - t0))
# Counted from the last line heard: up to a heartbeat (a third of --node-timeout) before the cut.
assert_le $((GRACE_MS - 1000)) "$took" "stopped only once the grace was out (after $took ms)"
assert_le "$took" $((GRACE_MS + $(scaled 2000 | cut -d. -f1))) "stopped soon after the grace (after $took ms)"
after=$(grep -o 'event=partition_stop slice=rep after_ms=[0-9]*' "$NLOG" | head -1)
assert_le "$GRACE_MS" "${after##*=}" "after_ms in the log"
assert_not_contains "$(grep event=partition_stop "$NLOG")" "slice=wt" "wt waits"
assert_not_contains "$(grep event=partition_stop "$NLOG")" "slice=plain" "an unlabelled slice waits"
assert_not_contains "$(grep event=partition_stop "$NLOG")" "slice=loc" "the node's own slice"
wait_for '[ "$(node_state_of rep)" = killed ]' 5 || fail "rep not ended: $(node_acre 1 -j slice show rep)"
assert_contains "$(node_acre 1 -j slice show rep | jq -r .reason)" "partition: cut off from the controller"
for s in wt plain loc; do
	assert_eq "$(node_state_of $s)" running "$s runs on through the partition"
done
# The controller has not heard a word: to it the node is only unreachable, rep still running.
assert_eq "$(state_of rep)" running "the controller cannot know yet"

log "healed: the node registers again and reports rep ended, not lost"
# Past the link's own timeout, so the node does register anew (a TCP connection alive across a
# short cut would simply resume).
wait_for "grep -q 'event=controller_disconnected' '$NLOG'" 10 || fail "the node never noticed the cut"
ip -n "$NS" link set eth0 up || fail "setting the node's link up"
wait_for "[ \$(grep -c event=controller_registered '$NLOG') -gt $REGISTERED ]" 15 ||
	fail "the node did not register again: $(tail -5 "$NLOG")"
wait_for '[ "$(state_of rep)" = killed ]' 10 || fail "rep not reported: $(api GET /v1/slices/rep)"
assert_contains "$(api GET /v1/slices/rep | jq -r .reason)" "partition: cut off from the controller"
elapsed=$(($(now_ms) - t0))
assert_le "$elapsed" $(((2 + LOST_AFTER) * 1000)) "healed before the controller's lost timeout"
wait_for node_ready 10 || fail "the node is not ready after healing"
sleep "$(scaled 1)"
for s in wt plain loc; do
	assert_eq "$(node_state_of $s)" running "$s still runs after registering again"
	assert_eq "$(node_pid_of $s)" "${PID[$s]}" "$s was not restarted"
done
for s in wt plain; do assert_eq "$(state_of $s)" running "the pool has $s running"; done
assert_not_contains "$(cat "$TEST_DIR/controller.log")" "event=lost" "nothing lost"
assert_not_contains "$(grep 'event=signal' "$NLOG")" "slice=wt" "wt was sent no signal"

pool slice rm --force rep wt plain >/dev/null || fail "removing the slices"
node_acre 1 slice rm --force loc >/dev/null || fail "removing loc"
log "ok"
