#!/bin/bash
# A slice has a pid namespace of its own: acre-init is PID 1, the task its
# child (PID 2), nothing of the host is visible, orphans are reaped, and
# /proc/1/exe cannot be opened for writing -- not even with capabilities
# and seccomp lifted (the runc /proc/self/exe escape, CVE-2019-5736).
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

# Only PID 1 and the task (ls itself) in /proc.
pids=$(acre slice run --rm -- ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ')
assert_eq "$pids" "1 2 " "numeric entries of /proc in a slice whose task is ls"

out=$(acre slice run --rm -- ps -e -o pid=,comm=) || fail "ps in a slice: $out"
assert_eq "$(awk '{print $1, $2}' <<<"$out" | tr '\n' ';')" "1 acre-init;2 ps;" "ps -e in a slice"

cmdline=$(acre slice run --rm -- cat /proc/1/cmdline | tr '\0' ' ')
assert_eq "${cmdline% }" acre-init "/proc/1/cmdline"
assert_eq "$(acre slice run --rm -- sh -c 'echo $$ $PPID')" "2 1" "the task's pid and parent pid"

# Host processes are invisible and unreachable.
sleep 600 &
host_pid=$!
track_bg "$host_pid"
out=$(acre slice run --rm -- sh -c "ps -e -o args= ; kill -0 $host_pid && echo REA''CHED" 2>&1)
assert_not_contains "$out" "sleep 600" "a host process seen from a slice"
assert_not_contains "$out" "REACHED" "signalling a host pid from a slice"

# On the host, acre-init is the task's parent, and show reports both.
acre slice run -d --name long -- sleep 600 >/dev/null || fail "run -d"
wait_state long running 10
show=$(acre -j slice show long)
init_pid=$(jq -r .pid <<<"$show")
assert_eq "$(jq -r .task_pid <<<"$show")" 2 "task_pid of slice long"
assert_eq "$(cat "/proc/$init_pid/comm")" acre-init "comm of the slice's pid $init_pid on the host"
child=$(pgrep -P "$init_pid" | head -n 1)
[ -n "$child" ] || fail "acre-init ($init_pid) has no child on the host"
assert_eq "$(tr '\0' ' ' <"/proc/$child/cmdline")" "sleep 600 " "acre-init's child on the host"

# Orphans are reaped by acre-init: no zombie stays behind.
out=$(acre slice run --rm -- sh -c '( sleep 0.2 & ) ; ( true & ) ; sleep 1; ps -e -o stat=,comm=')
assert_not_contains "$out" "Z" "process states in a slice after orphans exited"

# /proc/1/exe cannot be opened for writing.
init_sum=$(sha256sum <"$ACRE_BIN/acre-init")
try_write='
import errno, os
for path in ("/proc/1/exe",):
    for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC):
        try:
            fd = os.open(path, flags)
            os.write(fd, b"x")
            print("WRITABLE", path)
        except OSError as e:
            print("refused", path, errno.errorcode.get(e.errno, e.errno))
'
out=$(acre slice run --rm -- python3 -c "$try_write" 2>&1)
log "default slice: $out"
assert_contains "$out" "refused /proc/1/exe" "opening /proc/1/exe for writing in a default slice"
assert_not_contains "$out" "WRITABLE" "opening /proc/1/exe for writing in a default slice"
out=$(acre slice run --rm --seccomp unconfined --cap SYS_PTRACE --cap DAC_OVERRIDE \
	--cap SYS_ADMIN --cap FOWNER -- python3 -c "$try_write" 2>&1)
log "privileged slice: $out"
assert_contains "$out" "refused /proc/1/exe" "opening /proc/1/exe for writing with capabilities"
assert_not_contains "$out" "WRITABLE" "opening /proc/1/exe for writing with capabilities"
assert_eq "$(sha256sum <"$ACRE_BIN/acre-init")" "$init_sum" "acre-init on the host after the attempts"
