#!/bin/bash
# Only stdin, stdout and stderr are open in a task: nothing of the
# supervisor's (its socket, pidfds, logs) and nothing the client had open
# beyond its stdio, in the foreground or detached.
. "$(dirname "$0")/lib.sh"
start_supervisor

fds_of() { # fds_of [RUN FLAGS]: the fd numbers ls sees in its own /proc/self/fd
	acre slice run --rm "$@" -- ls /proc/self/fd | sort -n | tr '\n' ' '
}

# ls itself holds one more: the directory it reads (3).
assert_eq "$(fds_of)" "0 1 2 3 " "fds of a task"
assert_eq "$(fds_of 3>/dev/null 7</etc/passwd 9>>"$TEST_DIR/nine")" "0 1 2 3 " \
	"fds of a task whose client had 3, 7 and 9 open"

# A process started by the task sees the same.
out=$(acre slice run --rm -- sh -c 'ls /proc/self/fd' 3>/dev/null 7</etc/passwd | sort -n | tr '\n' ' ')
assert_eq "$out" "0 1 2 3 " "fds of a process started by the task"

# What the open fds are: stdio and nothing else, even through a prelaunched slot.
list='import os
for fd in sorted(int(f) for f in os.listdir("/proc/self/fd")):
    try:
        print(fd, os.readlink("/proc/self/fd/%d" % fd))
    except OSError:
        print(fd, "?")'
out=$(acre slice run --rm -- python3 -c "$list" 3>/dev/null 7</etc/passwd)
log "$out"
assert_not_contains "$out" "/etc/passwd" "fds of a task"
assert_not_contains "$out" "socket:" "fds of a task"
assert_not_contains "$out" "anon_inode" "fds of a task (pidfds, eventfds, ...)"
assert_eq "$(awk '$1 > 3' <<<"$out")" "" "fds above 3 in a python task"

# Detached: stdio is /dev/null and the log.
acre slice run -d --name det -- sh -c 'ls /proc/self/fd; ls -l /proc/$$/fd' 3>/dev/null 7</etc/passwd >/dev/null ||
	fail "run -d"
wait_for '[ "$(slice_state det)" = exited ]' 10 || fail "slice det did not exit: $(acre -j slice show det)"
out=$(acre slice logs det)
assert_eq "$(sed -n '1,4p' <<<"$out" | tr '\n' ' ')" "0 1 2 3 " "fds of a process in a detached slice"
assert_contains "$out" "0 -> /dev/null" "stdin of a detached task"
assert_eq "$(grep -c -- ' -> ' <<<"$out")" 3 "fds of a detached task: $out"
