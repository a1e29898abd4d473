#!/bin/bash
# --memory is a hard limit enforced by the kernel: a balloon ends with the
# OOM killer, a foreground client exits 137 with a line naming the limit,
# and a detached slice ends "failed" with reason "oom".
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

balloon='bytearray(200 << 20)'

# Foreground: exit status 137 and one stderr line naming the limit.
rc=0
acre slice run --name fg --memory 32M -- python3 -c "$balloon" >"$TEST_DIR/out" 2>"$TEST_DIR/err" || rc=$?
assert_eq "$rc" 137 "exit status of an OOM-killed foreground run"
err=$(cat "$TEST_DIR/err")
assert_contains "$err" "32M" "stderr of the OOM-killed run"
assert_contains "$err" "memory" "stderr of the OOM-killed run"
assert_eq "$(slice_field fg .state)" failed "state of the foreground slice"
assert_eq "$(slice_field fg .reason)" oom "reason of the foreground slice"

# A shell whose child was OOM-killed exits 137 itself: still the OOM.
rc=0
acre slice run --rm --memory 32M -- sh -c "python3 -c '$balloon'; exit \$?" 2>"$TEST_DIR/err2" || rc=$?
assert_eq "$rc" 137 "exit status of a shell whose child was OOM-killed"
assert_contains "$(cat "$TEST_DIR/err2")" "32M" "stderr when the task's child was OOM-killed"

# The limit is the kernel's, as stat reports it from the slice's cgroup.
acre slice run -d --name idle --memory 32M -- sleep 600 >/dev/null || fail "detached sleep"
wait_state idle running 10
limit=$(acre -j slice stat idle | jq -r '.[0].memory.limit')
assert_eq "$limit" $((32 << 20)) "memory.limit of slice idle"

# Detached: state failed, reason oom, and the kernel counted the kill.
acre slice run -d --name bal --memory 32M -- python3 -c "$balloon" >/dev/null || fail "detached balloon"
wait_for '[ "$(slice_state bal)" = failed ]' 20 || fail "balloon not failed: $(acre -j slice show bal)"
show=$(acre -j slice show bal)
assert_eq "$(jq -r .reason <<<"$show")" oom "reason of the detached balloon"
assert_eq "$(jq -r .exit.oom <<<"$show")" true "exit.oom of the detached balloon"
assert_eq "$(jq -r .exit.status <<<"$show")" 137 "exit.status of the detached balloon"
list=$(acre slice list)
assert_contains "$(grep '^bal ' <<<"$list")" oom "REASON column of slice list"

# A slice within its limit is not an OOM: it exits 0.
rc=0
acre slice run --rm --memory 64M -- python3 -c 'bytearray(8 << 20)' || rc=$?
assert_eq "$rc" 0 "a task within its memory limit"
