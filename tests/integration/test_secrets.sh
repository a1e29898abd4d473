#!/bin/bash
# Secrets: a slice's secrets are files on a tmpfs of its own at
# /run/secrets (mode 0400, the task's user's), not in its environment; acre
# slice show (table and -j) and the supervisor's log show no value, nor does
# any file of the state directory but the slice's checkpoint (slice.json,
# mode 0600, which a relaunch after a supervisor restart reads them from);
# and a kill -9 and restart of the supervisor keeps the slice running with
# its secrets, which a restart of its task then finds again.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

pw="pw-$RANDOM$RANDOM-$$"
key="key-$RANDOM$RANDOM-$$"
printf '%s\nsecond line\n' "$key" >"$TEST_DIR/api.key"

# Bad input, named by the flag, never echoing the value.
out=$(acre slice run --rm --secret .hidden=x -- true 2>&1) && fail "a name starting with '.' was taken"
assert_contains "$out" "--secret .hidden" "error for a bad secret name"
out=$(acre slice run --rm --secret "a/b=$pw" -- true 2>&1) && fail "a name with '/' was taken"
assert_not_contains "$out" "$pw" "error for a bad secret name"
head -c 70000 /dev/zero | tr '\0' x >"$TEST_DIR/big"
out=$(acre slice run --rm --secret-file "big=$TEST_DIR/big" -- true 2>&1) && fail "a 70000-byte secret was taken"
assert_contains "$out" "--secret-file big" "error for a secret over 64 KiB"

# The most a spec holds: four of 64 KiB (256 KiB in all), byte for byte.
head -c 65536 /dev/zero | tr '\0' y >"$TEST_DIR/full"
out=$(in_slice --secret-file "a=$TEST_DIR/full" --secret-file "b=$TEST_DIR/full" \
	--secret-file "c=$TEST_DIR/full" --secret-file "d=$TEST_DIR/full" -- 'cat /run/secrets/* | sha256sum')
assert_eq "$out" "$(cat "$TEST_DIR/full" "$TEST_DIR/full" "$TEST_DIR/full" "$TEST_DIR/full" | sha256sum)" \
	"four secrets of 64 KiB"
out=$(acre slice run --rm --secret-file "a=$TEST_DIR/full" --secret-file "b=$TEST_DIR/full" \
	--secret-file "c=$TEST_DIR/full" --secret-file "d=$TEST_DIR/full" --secret e=1 -- true 2>&1) &&
	fail "more than 256 KiB of secrets was taken"
assert_contains "$out" "--secret: at most 262144 bytes" "error for too many bytes of secrets"

# One shot, as the user nobody: the files, their modes and owner, the tmpfs, the environment.
out=$(in_slice --user nobody --secret "db_password=$pw" --secret-file "api.key=$TEST_DIR/api.key" -- '
	printf "content=%s\n" "$(cat /run/secrets/db_password)"
	sha256sum </run/secrets/api.key | sed "s/^/api_key=/"
	stat -c "file=%a %U %G" /run/secrets/db_password
	stat -c "dir=%a %U" /run/secrets
	findmnt -n -o FSTYPE,OPTIONS /run/secrets | sed "s/^/mount=/"
	ls /run/secrets | tr "\n" " " | sed "s/^/names=/"; echo
	env | grep -c -- "'"$pw"'" | sed "s/^/env_hits=/"
	echo x >/run/secrets/db_password 2>/dev/null && echo writable')
assert_contains "$out" "content=$pw" "the secret read in the slice"
assert_contains "$out" "api_key=$(sha256sum <"$TEST_DIR/api.key")" "the secret from a file, byte for byte"
assert_contains "$out" "file=400 nobody nogroup" "mode and owner of /run/secrets/db_password"
assert_contains "$out" "dir=700 nobody" "mode and owner of /run/secrets"
grep -q 'mount=tmpfs .*nosuid' <<<"$out" || fail "no tmpfs nosuid on /run/secrets: $out"
grep -q 'mount=tmpfs .*nodev.*noexec' <<<"$out" || fail "/run/secrets not nodev,noexec: $out"
assert_contains "$out" "names=api.key db_password " "the files in /run/secrets"
assert_contains "$out" "env_hits=0" "the value in the task's environment"
assert_not_contains "$out" "writable" "writing to /run/secrets"

# A detached slice that restarts on failure: its secrets across a supervisor restart.
acre slice run -d --name sec --restart always --secret "db_password=$pw" \
	--secret-file "api.key=$TEST_DIR/api.key" -- sleep 600 >/dev/null || fail "run sec"
wait_state sec running 10
in_ns() { nsenter -t "$(pgrep -P "$(slice_field sec .pid)" | head -1)" -m "$@"; }
assert_eq "$(in_ns cat /run/secrets/db_password)" "$pw" "the secret of the detached slice"

show=$(acre slice show sec)
assert_contains "$show" "/run/secrets/db_password (<redacted>)" "acre slice show"
assert_not_contains "$show" "$pw" "acre slice show"
show=$(acre -j slice show sec)
assert_eq "$(jq -r '.spec.secrets.db_password' <<<"$show")" "<redacted>" "acre -j slice show"
assert_eq "$(jq -r '.spec.secrets["api.key"]' <<<"$show")" "<redacted>" "acre -j slice show"
assert_not_contains "$show" "$pw" "acre -j slice show"
assert_not_contains "$(acre -j slice list)" "$pw" "acre -j slice list"

# Only the checkpoint holds the values, and only root can read it.
ckpt=$STATE_DIR/slices/sec/slice.json
grep -q -- "$pw" "$ckpt" || fail "the checkpoint lacks the secret: a relaunch could not have it"
assert_eq "$(stat -c %a "$ckpt")" 600 "mode of the checkpoint"
leaks=$(grep -rl -- "$pw" "$STATE_DIR" | grep -v '/slice\.json$')
assert_eq "$leaks" "" "files of the state directory holding the value"
leaks=$(grep -rl -- "$key" "$STATE_DIR" | grep -v '/slice\.json$')
assert_eq "$leaks" "" "files of the state directory holding the file's value"

pid=$(slice_field sec .pid)
kill_supervisor
restart_supervisor
assert_eq "$(slice_state sec)" running "state of sec after the restart"
assert_eq "$(slice_field sec .pid)" "$pid" "pid of sec after the restart"
assert_eq "$(in_ns cat /run/secrets/db_password)" "$pw" "the secret after the restart"

# Its task ends: the new supervisor relaunches it, from the checkpoint, secrets and all.
pkill -KILL -P "$pid" sleep
wait_for "[ \"\$(slice_field sec .restarts)\" = 1 ] && [ \"\$(slice_state sec)\" = running ]" 20 ||
	fail "sec was not relaunched: $(acre -j slice show sec)"
[ "$(slice_field sec .pid)" != "$pid" ] || fail "sec has the same acre-init after its relaunch"
assert_eq "$(in_ns cat /run/secrets/api.key)" "$(cat "$TEST_DIR/api.key")" "the secret after the relaunch"

assert_not_contains "$(cat "$SUP_LOG")" "$pw" "the supervisor's log"
assert_not_contains "$(cat "$SUP_LOG")" "$key" "the supervisor's log"
acre slice rm --force sec >/dev/null || fail "rm sec"
echo ok
