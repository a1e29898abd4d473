#!/bin/bash
# --pids caps the number of tasks in a slice, acre-init included: a fork
# bomb stays within it, forks fail inside, and the host keeps forking.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

pids_current() {
	acre -j slice stat "$1" | jq -r '.[0].pids.current'
}

# A counting forker: exactly how many children the limit let it have.
acre slice run -d --name counter --pids 32 -- python3 -c '
import os, time
kids = fails = 0
for i in range(200):
    try:
        pid = os.fork()
    except OSError:
        fails += 1
        continue
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    kids += 1
print("forked=%d failed=%d" % (kids, fails), flush=True)
time.sleep(600)
' >/dev/null || fail "starting the counter"
wait_for 'acre slice logs counter | matches forked=' 20 || fail "counter printed nothing: $(acre slice logs counter)"
counts=$(acre slice logs counter | grep forked=)
# 32 = acre-init + python + 30 children.
assert_eq "$counts" "forked=30 failed=170" "forks inside a --pids 32 slice"
assert_eq "$(pids_current counter)" 32 "pids.current of the counter"
assert_eq "$(acre -j slice stat counter | jq -r '.[0].pids.limit')" 32 "pids.limit of the counter"
acre slice rm --force counter >/dev/null || fail "rm --force counter"

# A real fork bomb (bash retries failed forks, so it keeps pushing).
acre slice run -d --name bomb --pids 32 -- bash -c ':(){ :|:& };:; sleep 600' >/dev/null ||
	fail "starting the fork bomb"
wait_state bomb running 10
wait_for '[ "$(pids_current bomb)" -ge 20 ]' 10 || fail "the bomb does not grow: $(acre -j slice stat bomb)"

# Meanwhile the host forks 50 processes without trouble ...
host=()
for i in $(seq 1 50); do
	sleep 30 &
	host+=($!)
done
alive=0
for p in "${host[@]}"; do
	kill -0 "$p" 2>/dev/null && alive=$((alive + 1))
done
kill "${host[@]}" 2>/dev/null
wait "${host[@]}" 2>/dev/null
assert_eq "$alive" 50 "host processes forked while the bomb runs"
out=$(timeout "$(scaled 10)" sh -c 'for i in $(seq 1 50); do /bin/true || exit 1; done; echo ok')
assert_eq "$out" ok "50 short host processes while the bomb runs"

# ... and the bomb never exceeds its limit.
for i in $(seq 1 10); do
	n=$(pids_current bomb)
	assert_le "$n" 32 "pids.current of the fork bomb"
	sleep 0.2
done
assert_eq "$(slice_state bomb)" running "state of the fork bomb"
assert_contains "$(acre slice logs bomb)" "Resource temporarily unavailable" "the bomb's log (failed forks)"

# The slice ends cleanly: kill reaches every process of the bomb.
acre slice kill --signal KILL bomb >/dev/null || fail "kill the bomb"
wait_for '[ "$(slice_state bomb)" != running ]' 10 || fail "the bomb survives SIGKILL"
wait_for '[ "$(pids_current bomb)" = 0 ]' 10 || fail "processes of the bomb left: $(acre -j slice stat bomb)"
