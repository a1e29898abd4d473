#!/bin/bash
# The default seccomp profile refuses the dangerous calls with EPERM (not
# ENOSYS), and it is the filter -- not a missing capability -- that refuses
# new namespaces: with CAP_SYS_ADMIN present, unshare(CLONE_NEWUSER|
# CLONE_NEWNS) still fails, and only --seccomp unconfined lets it through.
# A JSON profile file (OCI format) is applied too.
#
# The calls are made by seccomp_probe.c, compiled here with cc -static and
# handed to the slice on stdin (the slice's /tmp is its own).
. "$(dirname "$0")/lib.sh"
require cc
cc -static -O1 -o "$TEST_DIR/probe" "$ACRE_TEST_LIB/seccomp_probe.c" 2>"$TEST_DIR/cc.err" ||
	skip "cannot build a static binary: $(tail -n 1 "$TEST_DIR/cc.err")"
start_supervisor --prelaunch 0

# probe [RUN FLAGS] -- [CALLS]: runs the probe in a slice, prints name=ERRNO lines.
probe() {
	local flags=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	shift
	acre slice run --rm "${flags[@]}" -- sh -c \
		'cat >/tmp/probe && chmod +x /tmp/probe && grep "^CapEff" /proc/self/status && exec /tmp/probe "$@"' \
		probe "$@" <"$TEST_DIR/probe"
}

result() { # result OUTPUT NAME
	sed -n "s/^$2=//p" <<<"$1"
}

out=$(probe --) || fail "probe in a default slice exited $?: $out"
log "$out"
for call in mount ptrace bpf keyctl add_key kexec_load init_module finit_module \
	open_by_handle_at perf_event_open userfaultfd unshare_newuser unshare_newns \
	unshare_newnet clone_newuser setns reboot personality; do
	assert_eq "$(result "$out" "$call")" EPERM "$call in a default slice"
done
# clone3 cannot be filtered on its flags (they sit behind a pointer): like
# Docker, the profile may answer ENOSYS so that libc falls back to clone.
case $(result "$out" clone3_newuser) in
EPERM | ENOSYS) ;;
*) fail "clone3(CLONE_NEWUSER) in a default slice: $(result "$out" clone3_newuser), expected EPERM or ENOSYS" ;;
esac

# With CAP_SYS_ADMIN the filter alone refuses namespaces ...
out=$(probe --cap SYS_ADMIN -- unshare_newuser_newns getpid) || fail "probe --cap SYS_ADMIN: $out"
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' <<<"$out")
[ $((0x$capeff >> 21 & 1)) = 1 ] || fail "--cap SYS_ADMIN: CapEff $capeff lacks CAP_SYS_ADMIN"
assert_eq "$(result "$out" unshare_newuser_newns)" EPERM \
	"unshare(CLONE_NEWUSER|CLONE_NEWNS) with --cap SYS_ADMIN"
assert_eq "$(result "$out" getpid)" OK "getpid with --cap SYS_ADMIN"

# ... which --seccomp unconfined lifts.
out=$(probe --seccomp unconfined --cap SYS_ADMIN -- unshare_newuser_newns) ||
	fail "probe --seccomp unconfined: $out"
assert_eq "$(result "$out" unshare_newuser_newns)" OK \
	"unshare(CLONE_NEWUSER|CLONE_NEWNS) with --seccomp unconfined --cap SYS_ADMIN"
status=$(acre slice run --rm --seccomp unconfined -- grep '^Seccomp:' /proc/self/status)
assert_eq "$(awk '{print $2}' <<<"$status")" 0 "Seccomp mode with --seccomp unconfined"

# A profile file, OCI format: getcwd denied with errno 1, the rest allowed.
cat >"$TEST_DIR/profile.json" <<'JSON'
{
	"defaultAction": "SCMP_ACT_ALLOW",
	"syscalls": [
		{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
	]
}
JSON
out=$(probe --seccomp "$TEST_DIR/profile.json" -- getcwd getpid 2>/dev/null) ||
	fail "probe --seccomp FILE: $out"
assert_eq "$(result "$out" getcwd)" EPERM "getcwd under the profile file"
assert_eq "$(result "$out" getpid)" OK "getpid under the profile file"
# ... and in a default slice getcwd works.
out=$(probe -- getcwd) || fail "probe getcwd: $out"
assert_eq "$(result "$out" getcwd)" OK "getcwd in a default slice"

# A profile that is not JSON is refused before anything runs.
echo 'not json' >"$TEST_DIR/bad.json"
rc=0
err=$(acre slice run --rm --seccomp "$TEST_DIR/bad.json" -- true 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status with a malformed profile"
assert_contains "$err" "--seccomp" "error for a malformed profile"
