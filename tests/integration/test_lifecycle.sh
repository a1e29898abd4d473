#!/bin/bash
# A slice's life as a user drives it: kill (TERM, then KILL after the stop
# timeout), rm (refused while running unless --force), logs of a detached
# slice, restart policies (on-failure:N, always; a wait on one killed between
# two runs returns), --rm, Ctrl-C reaching the task, and a killed client
# ending its foreground slice.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0 --stop-timeout 2s

cg_of() { slice_field "$1" .cgroup.name; }
has_cgroup() { cgroup_children | matches -x "$1"; }
gone() { ! acre slice show "$1" >/dev/null 2>&1; }

# ---- kill: TERM by default -> killed; a task ignoring TERM gets KILL after the timeout ----
acre slice run -d --name k1 -- sleep 600 >/dev/null || fail "run k1"
acre slice run -d --name k2 -- sh -c 'trap "echo got TERM" TERM; echo up; while :; do sleep 0.1; done' \
	>/dev/null || fail "run k2"
wait_state k1 running 10
wait_for 'acre slice logs k2 | matches up' 10 || fail "k2 did not start"
acre slice kill k1 >/dev/null || fail "kill k1"
wait_state k1 killed 10
assert_eq "$(slice_field k1 .reason)" "signal 15" "reason of k1 after kill"
t0=$(now_ms)
acre slice kill k2 >/dev/null || fail "kill k2"
wait_state k2 killed 15
t1=$(now_ms)
assert_eq "$(slice_field k2 .reason)" "signal 9" "reason of k2 (ignores TERM) after kill"
assert_contains "$(acre slice logs k2)" "got TERM" "log of k2: the TERM reached the task"
[ $((t1 - t0)) -ge 1500 ] || fail "k2 was KILLed after $((t1 - t0)) ms, before --stop-timeout 2s"
# A non-ending signal is only passed on.
acre slice run -d --name hup -- sh -c 'trap "echo got HUP" HUP; echo up; while :; do sleep 0.1; done' \
	>/dev/null || fail "run hup"
wait_for 'acre slice logs hup | matches up' 10 || fail "hup did not start"
acre slice kill --signal HUP hup >/dev/null || fail "kill --signal HUP hup"
wait_for 'acre slice logs hup | matches "got HUP"' 10 || fail "HUP did not reach the task"
assert_eq "$(slice_state hup)" running "state of a slice after a trapped HUP"
rc=0
err=$(acre slice kill --signal NOPE hup 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of kill --signal NOPE"
assert_contains "$err" "NOPE" "error of kill --signal NOPE"

# ---- rm: refused while running, --force removes slice and cgroup --------------------
cg=$(cg_of hup)
has_cgroup "$cg" || fail "cgroup $cg of slice hup not found under the root"
rc=0
err=$(acre slice rm hup 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of rm of a running slice"
assert_contains "$err" "--force" "error of rm of a running slice"
assert_eq "$(slice_state hup)" running "state of hup after a refused rm"
acre slice rm --force hup >/dev/null || fail "rm --force hup"
gone hup || fail "hup still listed after rm --force"
! has_cgroup "$cg" || fail "cgroup $cg of hup left after rm --force"
# An ended slice is removed without --force.
cg=$(cg_of k1)
acre slice rm k1 >/dev/null || fail "rm of the ended slice k1"
gone k1 || fail "k1 still listed after rm"
! has_cgroup "$cg" || fail "cgroup $cg of k1 left after rm"
rc=0
acre slice rm k1 2>/dev/null || rc=$?
assert_eq "$rc" 1 "exit status of rm of an unknown slice"

# ---- logs of a detached slice, and --follow until it ends ---------------------------
acre slice run -d --name talk -- sh -c 'echo to-stdout; echo to-stderr >&2; sleep 1; echo later' \
	>/dev/null || fail "run talk"
out=$(timeout "$(scaled 15)" "$ACRE_BIN/acre" slice logs --follow talk)
assert_eq "$out" "$(printf 'to-stdout\nto-stderr\nlater')" "logs --follow of talk"
assert_eq "$(slice_state talk)" exited "state of talk after logs --follow returned"
assert_eq "$(acre slice logs talk)" "$(printf 'to-stdout\nto-stderr\nlater')" "logs of talk"

# ---- restart policies ------------------------------------------------------------------
acre slice run -d --name onf --restart on-failure:2 -- sh -c 'echo run; exit 3' >/dev/null || fail "run onf"
wait_for '[ "$(slice_field onf .restarts)" = 2 ] && [ "$(slice_state onf)" = failed ]' 15 ||
	fail "on-failure:2: $(acre -j slice show onf)"
sleep 0.5
assert_eq "$(slice_field onf .restarts)" 2 "restarts of on-failure:2"
assert_eq "$(slice_state onf)" failed "state of on-failure:2 after its retries"
assert_eq "$(slice_field onf .reason)" "exit 3" "reason of on-failure:2"
assert_eq "$(acre slice logs onf | grep -c run)" 3 "runs of on-failure:2 in its log"
# Ended for good after its restarts: a kill finds nothing to end and changes
# nothing, and waiting for its end (logs -f) returns at once.
rc=0
err=$(acre slice kill onf 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of kill of a slice ended after its restarts"
assert_contains "$err" "not running" "error of kill of a slice ended after its restarts"
assert_eq "$(slice_state onf)" failed "state of on-failure:2 after a kill of the ended slice"
timeout "$(scaled 10)" "$ACRE_BIN/acre" slice logs onf -f >/dev/null ||
	fail "logs -f of a slice ended after its restarts did not return"
# A success is not retried by on-failure.
acre slice run -d --name onf-ok --restart on-failure:2 -- true >/dev/null || fail "run onf-ok"
wait_for '[ "$(slice_state onf-ok)" = exited ]' 10 || fail "onf-ok did not exit"
sleep 0.5
assert_eq "$(slice_field onf-ok .restarts)" 0 "restarts of on-failure after exit 0"

acre slice run -d --name alw --restart always -- sh -c 'echo run; sleep 0.1' >/dev/null || fail "run alw"
wait_for '[ "$(slice_field alw .restarts)" -ge 3 ]' 20 || fail "always: $(acre -j slice show alw)"
acre slice kill alw >/dev/null || fail "kill alw"
wait_for '[ "$(slice_state alw)" = killed ]' 10 || fail "always after kill: $(acre -j slice show alw)"
n=$(slice_field alw .restarts)
sleep 1
assert_eq "$(slice_field alw .restarts)" "$n" "restarts of always after kill"
assert_eq "$(slice_state alw)" killed "state of always after kill"

# Killed between two runs: a client waiting for its end (logs -f) is answered.
acre slice run -d --name alw2 --restart always -- sh -c 'echo run; exit 1' >/dev/null ||
	fail "run alw2"
# After five runs the next waits 3.2 s: time enough to ask between two runs.
wait_for '[ "$(slice_field alw2 .restarts)" -ge 5 ] && [ "$(slice_state alw2)" = failed ]' 20 ||
	fail "always, failing: $(acre -j slice show alw2)"
timeout "$(scaled 10)" "$ACRE_BIN/acre" slice logs alw2 -f >"$TEST_DIR/alw2.out" 2>&1 &
follower=$!
track_bg "$follower"
sleep 0.3
acre slice kill alw2 >/dev/null || fail "kill alw2 between two runs"
assert_eq "$(slice_state alw2)" killed "state of always killed between two runs"
assert_eq "$(slice_field alw2 .reason)" "killed before restart" "reason of alw2"
rc=0
wait "$follower" || rc=$?
assert_eq "$rc" 0 "exit status of logs -f of a slice killed between two runs"
assert_contains "$(cat "$TEST_DIR/alw2.out")" run "output of logs -f of alw2"

# ---- --rm: nothing left behind -----------------------------------------------------------
before=$(cgroup_children)
out=$(acre slice run --rm --name tmp1 -- echo hello) || fail "run --rm"
assert_eq "$out" hello "output of a --rm run"
gone tmp1 || fail "tmp1 still listed after its --rm run"
assert_eq "$(cgroup_children)" "$before" "cgroups after a --rm run"
[ ! -e "$STATE_DIR/slices/tmp1" ] || fail "state of tmp1 left after its --rm run"
rc=0
acre slice run --rm --name tmp2 -- sh -c 'exit 9' || rc=$?
assert_eq "$rc" 9 "exit status of a --rm run"
gone tmp2 || fail "tmp2 still listed after its --rm run"
assert_eq "$(cgroup_children)" "$before" "cgroups after a failed --rm run"

# ---- a command that cannot start: 127, reason launch_failed, nothing left with --rm ------
rc=0
err=$(acre slice run --rm --name nocmd -- /nonexistent/command 2>&1 >/dev/null) || rc=$?
assert_eq "$rc" 127 "exit status of a run whose command does not exist"
assert_contains "$err" "/nonexistent/command" "error of a run whose command does not exist"
gone nocmd || fail "nocmd still listed after its --rm run"
assert_eq "$(cgroup_children)" "$before" "cgroups after a --rm run that failed to launch"
acre slice run -d --name nocmd2 -- /nonexistent/command >/dev/null 2>&1
wait_for '[ "$(slice_state nocmd2)" = failed ]' 10 || fail "nocmd2: $(acre -j slice show nocmd2)"
assert_contains "$(slice_field nocmd2 .reason)" "launch_failed" "reason of a detached run whose command does not exist"
cg=$(cg_of nocmd2)
acre slice rm nocmd2 >/dev/null || fail "rm nocmd2"
! has_cgroup "$cg" || fail "cgroup of nocmd2 left after rm"

# ---- Ctrl-C reaches the task --------------------------------------------------------------
# (A background job of a script ignores SIGINT; env --default-signal restores it.)
trapper='trap "echo got INT; exit 3" INT; echo ready; while :; do sleep 0.1; done'
env --default-signal=INT "$ACRE_BIN/acre" slice run --name ctrlc -- sh -c "$trapper" \
	>"$TEST_DIR/ctrlc.out" 2>&1 &
client=$!
track_bg "$client"
wait_for "grep -q ready '$TEST_DIR/ctrlc.out'" 10 || fail "ctrlc did not start: $(cat "$TEST_DIR/ctrlc.out")"
kill -INT "$client"
wait_for "! kill -0 $client" 10 || fail "the client did not exit after SIGINT"
rc=0
wait "$client" || rc=$?
assert_eq "$rc" 3 "exit status of the client after Ctrl-C"
assert_contains "$(cat "$TEST_DIR/ctrlc.out")" "got INT" "output of the task after Ctrl-C"
assert_eq "$(slice_field ctrlc .reason)" "exit 3" "reason of ctrlc"

# ---- a client told to go ends its foreground slice ------------------------------------------
for sig in TERM KILL; do
	for rm in "" --rm; do
		name=fg-$sig${rm:+-rm}
		"$ACRE_BIN/acre" slice run $rm --name "$name" -- sh -c 'echo ready; exec sleep 600' \
			>"$TEST_DIR/$name.out" 2>&1 &
		client=$!
		track_bg "$client"
		wait_for "grep -q ready '$TEST_DIR/$name.out'" 10 || fail "$name did not start"
		cg=$(cg_of "$name")
		task=$(pgrep -P "$(slice_field "$name" .pid)")
		kill -"$sig" "$client"
		wait "$client" 2>/dev/null
		wait_for "! kill -0 $task 2>/dev/null" 15 || fail "the task of $name survived SIG$sig of its client"
		if [ -n "$rm" ]; then
			wait_for "gone $name" 10 || fail "$name still listed after SIG$sig of its --rm client"
			wait_for "! has_cgroup $cg" 10 || fail "cgroup of $name left after SIG$sig of its --rm client"
		else
			wait_for '[ "$(slice_state '"$name"')" = killed ]' 10 ||
				fail "$name after SIG$sig of its client: $(acre -j slice show "$name")"
		fi
	done
done

# ---- the command grammar of the design: options after the name --------------------------
# (acre slice kill NAME [--signal SIG], rm NAME [--force], logs NAME [-f])
acre slice run -d --name gram -- sh -c 'echo up; sleep 2' >/dev/null || fail "run gram"
wait_state gram running 10
acre slice kill gram --signal CONT >/dev/null || fail "acre slice kill NAME --signal SIG is refused"
out=$(timeout "$(scaled 10)" "$ACRE_BIN/acre" slice logs gram -f) || fail "acre slice logs NAME -f is refused"
assert_eq "$out" up "acre slice logs NAME -f"
acre slice rm gram --force >/dev/null || fail "acre slice rm NAME --force is refused"

# Names are unique; prefixes of commands work.
acre slice run -d --name dup -- sleep 600 >/dev/null || fail "run dup"
rc=0
err=$(acre slice run -d --name dup -- true 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of a second slice named dup"
assert_contains "$err" "already exists" "error of a second slice named dup"
assert_contains "$(acre sl li)" "dup" "acre sl li"
rc=0
err=$(acre slice show nope 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of show of an unknown slice"
assert_contains "$err" "nope" "error of show of an unknown slice"

# A hung supervisor (stopped here): a request gives up after --timeout and
# says so, instead of hanging the script that asked.
kill -STOP "$SUP_PID"
t0=$(now_ms)
rc=0
err=$(acre --timeout 1s slice list 2>&1) || rc=$?
t1=$(now_ms)
kill -CONT "$SUP_PID"
assert_eq "$rc" 1 "exit status of a request to a hung supervisor"
assert_contains "$err" "no reply from the supervisor" "error of a request to a hung supervisor"
[ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -le "$(scaled 5000)" ] ||
	fail "--timeout 1s gave up after $((t1 - t0)) ms"
assert_contains "$(acre slice list)" "dup" "list once the supervisor goes on"
rc=0
err=$(acre --timeout 5x slice list 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of --timeout 5x"
assert_contains "$err" "--timeout 5x: unknown unit" "error of --timeout 5x"
rc=0
err=$(ACRE_TIMEOUT=2d acre slice list 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of ACRE_TIMEOUT=2d"
assert_contains "$err" "ACRE_TIMEOUT 2d" "error of ACRE_TIMEOUT=2d"
