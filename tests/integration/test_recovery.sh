#!/bin/bash
# kill -9 of the supervisor takes no slice down, and a new supervisor on the
# same socket, state directory and cgroup root re-adopts the live slices
# (same pid), reports how the others ended meanwhile (exit 7, oom), removes
# the cgroups that belong to no slice, and a foreground client that waited
# through the restart still gets its task's status.
. "$(dirname "$0")/lib.sh"
# No prelaunch slots: the cgroups under the root are then exactly the slices'.
start_supervisor --prelaunch 0

alive() { # alive PID: exists and is not a zombie
	[ -e "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

acre slice run -d --name long -- sleep 600 >/dev/null || fail "run long"
acre slice run -d --name short -- sh -c "sleep $((2 * SLOW)); exit 7" >/dev/null || fail "run short"
acre slice run -d --name balloon --memory 32M -- sh -c "sleep $((2 * SLOW)); exec python3 -c 'bytearray(200 << 20)'" \
	>/dev/null || fail "run balloon"
acre slice run --name fg -- sh -c "sleep $((3 * SLOW)); exit 5" >"$TEST_DIR/fg.out" 2>"$TEST_DIR/fg.err" &
fg_client=$!
track_bg "$fg_client"
for n in long short balloon fg; do
	wait_state $n running 10
done
long_pid=$(slice_field long .pid)
short_pid=$(slice_field short .pid)
balloon_pid=$(slice_field balloon .pid)
long_task=$(pgrep -P "$long_pid")
[ -n "$long_task" ] || fail "slice long has no task process"

kill_supervisor
alive "$long_pid" || fail "slice long died with the supervisor"
alive "$long_task" || fail "the task of slice long died with the supervisor"
wait_for "! alive $short_pid && ! alive $balloon_pid" 15 || fail "short and balloon did not end"
alive "$long_pid" || fail "slice long died while the supervisor was down"

# A cgroup that belongs to no slice, with a process in it, in every hierarchy.
orphan=sdeadbeef0001
sleep 600 &
orphan_proc=$!
track_bg "$orphan_proc"
for d in $(cgroup_dirs); do
	mkdir "$d/$orphan" || fail "mkdir $d/$orphan"
	echo "$orphan_proc" >"$d/$orphan/cgroup.procs" || fail "moving a process into $d/$orphan"
done

restart_supervisor
show=$(acre -j slice show long)
assert_eq "$(jq -r .state <<<"$show")" running "state of long after the restart"
assert_eq "$(jq -r .pid <<<"$show")" "$long_pid" "pid of long after the restart"
alive "$long_task" || fail "the task of slice long died across the restart"
show=$(acre -j slice show short)
assert_eq "$(jq -r .state <<<"$show")" failed "state of short after the restart"
assert_eq "$(jq -r .reason <<<"$show")" "exit 7" "reason of short after the restart"
assert_eq "$(jq -r .exit.exit_code <<<"$show")" 7 "exit code of short after the restart"
show=$(acre -j slice show balloon)
assert_eq "$(jq -r .state <<<"$show")" failed "state of balloon after the restart"
assert_eq "$(jq -r .reason <<<"$show")" oom "reason of balloon after the restart"

# The foreground client reconnected and exits with its task's status.
wait_for "! kill -0 $fg_client" 20 || fail "the foreground client did not finish: $(cat "$TEST_DIR/fg.err")"
rc=0
wait "$fg_client" || rc=$?
assert_eq "$rc" 5 "exit status of the foreground client across the restart ($(cat "$TEST_DIR/fg.err"))"

# No orphan cgroup: exactly the slices' own, and the orphan's process was ended.
want=$(for n in long short balloon fg; do slice_field $n .cgroup.name; done | sort -u)
assert_eq "$(cgroup_children)" "$want" "cgroups under the root after the restart"
wait_for "! alive $orphan_proc" 10 || fail "the process of the orphan cgroup survived"
# The reported cgroup of a slice is where its processes are.
v2=$(cgroup_v2_mount)
grep -qx "$long_pid" "$v2/$CGROOT/$(slice_field long .cgroup.name)/cgroup.procs" ||
	fail "acre-init of long is not in the cgroup show reports"

# The re-adopted slice still obeys: kill and rm work on it.
acre slice kill long >/dev/null || fail "kill long after the restart"
wait_for '[ "$(slice_state long)" = killed ]' 15 || fail "long not killed: $(acre -j slice show long)"
alive "$long_task" && fail "the task of long survived its kill"
for n in long short balloon fg; do
	acre slice rm --force $n >/dev/null || fail "rm --force $n"
done
assert_eq "$(acre -j slice list)" "[]" "slices after removing all"
assert_eq "$(cgroup_children | wc -l)" 0 "cgroups after removing all"
stop_supervisor || fail "the supervisor exited with $?"
assert_eq "$(cgroup_dirs | wc -l)" 0 "cgroup root directories after the supervisor stopped with no slices"
