#!/bin/bash
# A task's environment is exactly PATH, HOME, HOSTNAME (the slice name) and
# the --env variables: nothing of the client's or the supervisor's leaks in.
. "$(dirname "$0")/lib.sh"
export ACRE_LEAK_SUPERVISOR=from-the-supervisor
start_supervisor
unset ACRE_LEAK_SUPERVISOR

std_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# env prints its own environment: the task's, unchanged (no shell adds PWD and the like).
export FOO=bar ACRE_LEAK_CLIENT=from-the-client
out=$(acre slice run --rm --name envy -- env | sort)
unset FOO ACRE_LEAK_CLIENT
expected=$(printf '%s\n' "HOME=/root" "HOSTNAME=envy" "PATH=$std_path" | sort)
assert_eq "$out" "$expected" "environment of a task (root)"

# As another user, HOME follows the user; --env adds and overrides.
out=$(FOO=bar acre slice run --rm --name envy2 --user nobody --env A=1 --env 'B=two words' \
	--env HOME=/tmp -- env | sort)
expected=$(printf '%s\n' "A=1" "B=two words" "HOME=/tmp" "HOSTNAME=envy2" "PATH=$std_path" | sort)
assert_eq "$out" "$expected" "environment with --user nobody and --env"
out=$(acre slice run --rm --name envy3 --user nobody -- env | grep ^HOME=)
assert_eq "$out" "HOME=$(getent passwd nobody | cut -d: -f6)" "HOME of --user nobody"

# --cwd sets the working directory (PWD is the shell's own doing, not acre's).
assert_eq "$(acre slice run --rm --cwd /etc -- pwd)" /etc "working directory with --cwd /etc"
assert_eq "$(acre slice run --rm -- pwd)" / "default working directory"

# The hostname is the slice's name too.
assert_eq "$(acre slice run --rm --name hosty -- hostname)" hosty "hostname in slice hosty"

# Detached, the same.
FOO=bar acre slice run -d --name envd --env X=y -- env >/dev/null || fail "run -d"
wait_for '[ "$(slice_state envd)" = exited ]' 10 || fail "envd did not exit"
out=$(acre slice logs envd | sort)
expected=$(printf '%s\n' "HOME=/root" "HOSTNAME=envd" "PATH=$std_path" "X=y" | sort)
assert_eq "$out" "$expected" "environment of a detached task"

# A malformed --env is refused.
rc=0
err=$(acre slice run --rm --env NOEQUALS -- true 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of --env NOEQUALS"
assert_contains "$err" "--env NOEQUALS" "error of --env NOEQUALS"
