#!/bin/bash
# The supervisor serves its socket within a second of starting, exits
# within a few seconds of SIGTERM leaving detached slices running (their
# processes alive), re-adopts them when it starts again, and, stopped with
# no slice left, leaves no cgroup behind.  A second supervisor on the same
# state directory is refused.
. "$(dirname "$0")/lib.sh"

alive() { [ -e "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }

start_supervisor # with its default prelaunch slots
log "first start: serving after ${SUP_READY_MS} ms"
[ "$SUP_READY_MS" -le "$(scaled 1000 | cut -d. -f1)" ] ||
	fail "the supervisor answered ping only after ${SUP_READY_MS} ms"

acre slice run -d --name a -- sleep 600 >/dev/null || fail "run a"
acre slice run -d --name b --memory 64M --pids 16 -- sh -c 'while :; do sleep 1; done' >/dev/null || fail "run b"
acre slice run -d --name finished -- true >/dev/null || fail "run finished"
for n in a b; do wait_state $n running 10; done
wait_for '[ "$(slice_state finished)" = exited ]' 10 || fail "finished did not exit"
a_pid=$(slice_field a .pid)
b_pid=$(slice_field b .pid)
a_task=$(pgrep -P "$a_pid")
b_task=$(pgrep -P "$b_pid")
[ -n "$a_task" ] && [ -n "$b_task" ] || fail "tasks of a and b not found"

# A second supervisor on the same state directory and socket is refused.
rc=0
err=$(timeout "$(scaled 10)" "$ACRE_BIN/acre-supervisor" --socket "$ACRE_SOCKET" \
	--state-dir "$STATE_DIR" --cgroup-root "$CGROOT" 2>&1) || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "a second supervisor on the same state directory: exit $rc: $err"
assert_contains "$err" "another supervisor" "error of a second supervisor"
acre_ping >/dev/null || fail "the first supervisor stopped answering after the second was refused"
# And on the same socket with a state directory of its own: the first one answers there.
rc=0
err=$(timeout "$(scaled 10)" "$ACRE_BIN/acre-supervisor" --socket "$ACRE_SOCKET" \
	--state-dir "$TEST_DIR/other-state" --cgroup-root "$CGROOT-other" 2>&1) || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "a second supervisor on the same socket: exit $rc: $err"
assert_contains "$err" "another supervisor is serving it" "error of a second supervisor on the socket"
acre_ping >/dev/null || fail "the first supervisor stopped answering after the second was refused"

# SIGTERM: gone within a few seconds, exit status 0, slices untouched.
t0=$(now_ms)
rc=0
stop_supervisor 5 || rc=$?
log "stopped after $(($(now_ms) - t0)) ms"
assert_eq "$rc" 0 "exit status of the supervisor after SIGTERM"
for p in "$a_pid" "$a_task" "$b_pid" "$b_task"; do
	alive "$p" || fail "process $p of a detached slice died with the supervisor"
done
[ ! -S "$ACRE_SOCKET" ] || fail "the socket file is left after a clean stop"
sleep 0.5
for p in "$a_pid" "$a_task" "$b_pid" "$b_task"; do
	alive "$p" || fail "process $p of a detached slice died after the supervisor stopped"
done

# Restart: re-adopted, same pids, still limited, and serving within a second.
restart_supervisor
log "restart: serving after ${SUP_READY_MS} ms"
[ "$SUP_READY_MS" -le "$(scaled 1000 | cut -d. -f1)" ] ||
	fail "the restarted supervisor answered ping only after ${SUP_READY_MS} ms"
assert_eq "$(slice_state a)" running "state of a after the restart"
assert_eq "$(slice_field a .pid)" "$a_pid" "pid of a after the restart"
assert_eq "$(slice_state b)" running "state of b after the restart"
assert_eq "$(slice_field b .pid)" "$b_pid" "pid of b after the restart"
assert_eq "$(slice_state finished)" exited "state of finished after the restart"
st=$(acre -j slice stat b)
assert_eq "$(jq -r '.[0].memory.limit' <<<"$st")" $((64 << 20)) "memory.limit of b after the restart"
assert_eq "$(jq -r '.[0].pids.limit' <<<"$st")" 16 "pids.limit of b after the restart"

# The re-adopted slices end as usual, and with none left the stop leaves no cgroup.
acre slice kill a >/dev/null || fail "kill a"
wait_state a killed 15
alive "$a_task" && fail "the task of a survived its kill"
for n in a b finished; do
	acre slice rm --force $n >/dev/null || fail "rm --force $n"
done
wait_for "! alive $b_task" 10 || fail "the task of b survived rm --force"
stop_supervisor 5 || fail "the supervisor exited with $? after SIGTERM"
assert_eq "$(cgroup_dirs | tr '\n' ' ')" "" "cgroups left by a supervisor stopped with no slice"
