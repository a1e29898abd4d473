# shellcheck shell=bash
#
# Sourced by every tests/integration/test_*.sh.  It finds the build, makes a
# private temporary directory and a unique cgroup root (acre-test-<random>),
# starts supervisors on a unique socket and state directory, and removes
# everything again in an EXIT trap, even when the test fails or is killed:
# the slices (through the supervisor, else by killing every process found in
# the test's own cgroups), the supervisor, the test's cgroup subtree in every
# hierarchy (and nothing outside it), background helpers and the temporary
# directories.
#
# Exit status of a test: 0 pass, 1 fail, 77 skip (the reason is then the
# last line of output).  ACRE_TEST_SLOW (default 1) scales every timeout, for
# slow machines such as the TCG VM of tests/vm/.
#
# Helpers: start_supervisor, stop_supervisor, kill_supervisor,
# restart_supervisor, acre, acre_ping, fail, skip, assert_eq, assert_contains,
# assert_not_contains, assert_le, soft, wait_for, wait_state, slice_field, spawn_bg, track_bg,
# cgroup_v2_mount, cgroup_dirs, scaled, matches, in_slice.

set -u
set -o pipefail

ACRE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
ACRE_BIN=$ACRE_ROOT/build/bin
ACRE_TEST_LIB=$ACRE_ROOT/tests/integration
SLOW=${ACRE_TEST_SLOW:-1}

# ---- small helpers -------------------------------------------------------------

# in_slice [RUN-FLAG...] -- SCRIPT: runs sh -c SCRIPT in a slice of its own (--rm),
# printing its output, stderr too.
in_slice() {
	local flags=()
	while [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	acre slice run --rm "${flags[@]}" -- sh -c "$2" 2>&1
}

# matches [GREP-OPTION...] PATTERN: whether a line of stdin matches, for the end of a
# pipeline. `grep -q` stops reading at the first match, and under pipefail the writer
# then dies of SIGPIPE and the pipeline counts as failed: a log read after a
# restart once failed that way in the slow VM. This reads to the end.
matches() {
	grep "$@" >/dev/null
}

# N seconds scaled by ACRE_TEST_SLOW (fractions allowed).
scaled() {
	awk -v n="$1" -v s="$SLOW" 'BEGIN { printf "%g\n", n * s }'
}

now_ms() {
	date +%s%3N
}

log() {
	printf '%s\n' "$*"
}

fail() {
	printf 'FAIL: %s\n' "$*"
	if [ -n "${SUP_LOG:-}" ] && [ -s "$SUP_LOG" ] && [ "$BASHPID" = "${TEST_SHELL_PID:-}" ]; then
		echo "--- last lines of the supervisor's log ($SUP_LOG):"
		tail -n 25 "$SUP_LOG"
		echo "---"
	fi
	exit 1
}

# soft ASSERTION [ARGS...]: a check whose failure is reported without ending
# the test, which then fails at the end.  For checks that a known product bug
# breaks, so that what follows them is still tested.
SOFT_FAILURES=0
soft() {
	if ! ("$@"); then
		SOFT_FAILURES=$((SOFT_FAILURES + 1))
	fi
	return 0
}

SKIP_REASON=
skip() {
	SKIP_REASON="skipped: $*"
	exit 77
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "${3:-output}: expected to contain '$2', got: $1" ;;
	esac
}

assert_not_contains() {
	case $1 in
	*"$2"*) fail "${3:-output}: expected not to contain '$2', got: $1" ;;
	*) ;;
	esac
}

# assert_le A B [WHAT]: integers, A <= B
assert_le() {
	[ "$1" -le "$2" ] || fail "${3:-value}: expected at most $2, got $1"
}

# wait_for 'COMMAND' SECONDS: poll COMMAND (eval'ed) every 0.1 s until it
# succeeds, for SECONDS scaled by ACRE_TEST_SLOW.  Returns 1 on timeout.
wait_for() {
	local cmd=$1 limit_ms
	limit_ms=$(awk -v n="${2:-10}" -v s="$SLOW" 'BEGIN { printf "%d\n", n * s * 1000 }')
	local deadline=$(($(now_ms) + limit_ms))
	while :; do
		if eval "$cmd" >/dev/null 2>&1; then
			return 0
		fi
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

# ---- the product ------------------------------------------------------------------

acre() {
	"$ACRE_BIN/acre" "$@"
}

# One ping over the socket, raw protocol: prints the reply, 0 when it is ok.
acre_ping() {
	python3 - "${1:-$ACRE_SOCKET}" "$(scaled 2)" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(float(sys.argv[2]))
try:
    s.connect(sys.argv[1])
    s.sendall(b'{"op":"ping","id":1}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    reply = json.loads(buf)
except Exception as e:
    print(e)
    sys.exit(1)
print(json.dumps(reply))
sys.exit(0 if reply.get("ok") is True and reply.get("id") == 1 else 1)
EOF
}

# slice_field NAME JQ: one field of `acre -j slice show NAME`.
slice_field() {
	acre -j slice show "$1" | jq -r "$2"
}

slice_state() {
	acre -j slice show "$1" 2>/dev/null | jq -r .state
}

# wait_state NAME STATE SECONDS
wait_state() {
	wait_for "[ \"\$(slice_state '$1')\" = '$2' ]" "${3:-10}" ||
		fail "slice $1: expected state $2 within $(scaled "${3:-10}")s, it is $(slice_state "$1"): $(acre -j slice show "$1" 2>&1)"
}

# Where the cgroup v2 tree is mounted (pure v2: /sys/fs/cgroup, hybrid: .../unified).
cgroup_v2_mount() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

# Every existing directory of this test's cgroup root, one per hierarchy.
cgroup_dirs() {
	local d
	for d in /sys/fs/cgroup/"$CGROOT" /sys/fs/cgroup/*/"$CGROOT"; do
		[ -d "$d" ] && printf '%s\n' "$d"
	done
	return 0
}

# Names of the cgroups under this test's root (union over the hierarchies).
cgroup_children() {
	local d
	cgroup_dirs | while read -r d; do
		find "$d" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'
	done | sort -u
}

# Files a test makes outside its temporary directory, removed by the cleanup.
CLEAN_PATHS=()

# track_bg PID: a background process of the test, killed by the cleanup.
BG_PIDS=()
track_bg() {
	BG_PIDS+=("$1")
	record_pid "$1"
}

# spawn_bg CMD...: starts a background helper, killed by the cleanup.
spawn_bg() {
	"$@" &
	track_bg $!
}

# ---- the supervisor -----------------------------------------------------------------

SUP_PID=
SUP_ARGS=()
# A command the supervisor runs under, e.g. (ip netns exec NS) for a network of the test's own.
SUP_WRAP=()

# make_netns NAME: a network namespace of the test's own, deleted by the cleanup.
NETNS_LIST=()
make_netns() {
	ip netns add "$1" || fail "ip netns add $1"
	NETNS_LIST+=("$1")
	ip -n "$1" link set lo up
}
# start_supervisor [EXTRA ARGS...]: a supervisor of this test's own, serving
# $ACRE_SOCKET once it answers ping.
start_supervisor() {
	SUP_ARGS=("$@")
	launch_supervisor
}

# The same supervisor again (same socket, state directory and cgroup root).
restart_supervisor() {
	launch_supervisor
}

# unmount_under DIR: the writable layers (tmpfs) that a supervisor gone too soon left
# mounted in a state directory under DIR, deepest first, so DIR can be removed.
unmount_under() {
	local m
	for m in $(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m"
	done
}

launch_supervisor() {
	local t0
	t0=$(now_ms)
	echo "=== $(date +%T.%3N) start: ${SUP_ARGS[*]}" >>"$SUP_LOG"
	# A session of its own: a signal to the test's process group (timeout(1))
	# must not take the supervisor down before the cleanup has used it.
	# The slice subnet (and the DNS server on its gateway) in the test range, never the
	# default 10.88.0.0/16; a test's own --slice-cidr, given later, wins.
	setsid "${SUP_WRAP[@]}" "$ACRE_BIN/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$STATE_DIR" \
		--cgroup-root "$CGROOT" --log-level debug --slice-cidr "$TEST_SLICE_CIDR" "${SUP_ARGS[@]}" \
		</dev/null >>"$SUP_LOG" 2>&1 &
	SUP_PID=$!
	record_pid "$SUP_PID"
	local deadline=$((t0 + $(scaled 10 | cut -d. -f1) * 1000))
	until acre_ping >/dev/null 2>&1; do
		kill -0 "$SUP_PID" 2>/dev/null || fail "acre-supervisor exited during start-up"
		[ "$(now_ms)" -lt "$deadline" ] || fail "acre-supervisor does not answer ping"
		sleep 0.05
	done
	SUP_READY_MS=$(($(now_ms) - t0))
}

# stop_supervisor [SECONDS]: SIGTERM, and it must be gone within SECONDS (scaled).
# Returns its exit status.
stop_supervisor() {
	local pid=$SUP_PID
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_for "! kill -0 $pid" "${1:-10}"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		SUP_PID=
		fail "acre-supervisor did not exit within $(scaled "${1:-10}")s of SIGTERM"
	fi
	local rc=0
	wait "$pid" 2>/dev/null || rc=$?
	SUP_PID=
	return "$rc"
}

kill_supervisor() {
	[ -n "$SUP_PID" ] || return 0
	kill -KILL "$SUP_PID" 2>/dev/null
	wait "$SUP_PID" 2>/dev/null
	SUP_PID=
	return 0
}

# ---- cleanup ---------------------------------------------------------------------------

# A line for tests/run-integration.sh, which cleans up after a test killed
# before its own trap could run.
record() {
	if [ -n "${ACRE_TEST_RECORD:-}" ]; then
		printf '%s\n' "$*" >>"$ACRE_TEST_RECORD"
	fi
	return 0
}

# Start time of a process (field 22 of /proc/PID/stat): tells it from a later
# process with the same pid.
start_time() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}

record_pid() {
	record "pid $1 $(start_time "$1")"
}

# kill_cgroup_procs ROOT: SIGKILL every process in this root's cgroups, in
# every hierarchy, until they are empty.
kill_cgroup_procs() {
	local root=$1 d f pid round
	case $root in acre-test-*) ;; *) return 1 ;; esac
	for round in $(seq 1 50); do
		local found=0
		for d in /sys/fs/cgroup/"$root" /sys/fs/cgroup/*/"$root"; do
			[ -d "$d" ] || continue
			# v2: one write kills the subtree; a fork bomb cannot outrun it.
			[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
			while read -r f; do
				while read -r pid; do
					[ -n "$pid" ] || continue
					found=1
					kill -KILL "$pid" 2>/dev/null
				done <"$f"
			done < <(find "$d" -name cgroup.procs 2>/dev/null)
		done
		[ "$found" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# remove_cgroup_root ROOT: rmdir this root's cgroup subtree in every hierarchy.
remove_cgroup_root() {
	local root=$1 d round left
	case $root in acre-test-*) ;; *) return 1 ;; esac
	for round in $(seq 1 50); do
		left=0
		for d in /sys/fs/cgroup/"$root" /sys/fs/cgroup/*/"$root"; do
			[ -d "$d" ] || continue
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$d" ] && left=1
		done
		[ "$left" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# reap_record FILE: what tests/run-integration.sh calls after a test, in case
# it was killed before its trap ran.  Only what the record names is touched.
reap_record() {
	local file=$1 kind value extra
	[ -s "$file" ] || return 0
	while read -r kind value extra; do
		case $kind in
		pid)
			# Only our own processes: the pid may have been reused meanwhile.
			if [ -n "$extra" ] && [ "$(start_time "$value")" = "$extra" ]; then
				kill -KILL "$value" 2>/dev/null
			fi
			;;
		esac
	done <"$file"
	while read -r kind value; do
		case $kind in
		cgroot)
			kill_cgroup_procs "$value"
			remove_cgroup_root "$value"
			;;
		esac
	done <"$file"
	while read -r kind value; do
		case $kind in
		dir) case $value in */acre-test.*) rm -rf "$value" ;; esac ;;
		esac
	done <"$file"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	# A background child of the test killed before its exec inherits the trap: not its job.
	[ "$BASHPID" = "$TEST_SHELL_PID" ] || exit "$rc"
	set +e
	{
		echo "=== $(date +%T.%3N) cleanup (test status $rc)"
		# The slices, through the supervisor while it still answers.
		if [ -n "$SUP_PID" ] && kill -0 "$SUP_PID" 2>/dev/null; then
			local name names
			if [ "$(awk '{print $3}' "/proc/$SUP_PID/stat" 2>/dev/null)" != T ] &&
				names=$(timeout "$(scaled 5)" "$ACRE_BIN/acre" -j slice list | jq -r '.[].name'); then
				for name in $names; do
					timeout "$(scaled 10)" "$ACRE_BIN/acre" slice rm --force "$name"
				done
			fi
			kill -TERM "$SUP_PID" 2>/dev/null
			local i
			for i in $(seq 1 100); do
				kill -0 "$SUP_PID" 2>/dev/null || break
				# Stopped or hung: no point in waiting.
				[ "$(awk '{print $3}' "/proc/$SUP_PID/stat" 2>/dev/null)" = T ] && break
				sleep 0.1
			done
			kill -KILL "$SUP_PID" 2>/dev/null
			wait "$SUP_PID" 2>/dev/null
		fi
		local pid
		for pid in "${BG_PIDS[@]}"; do
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		done
	} >>"${SUP_LOG:-/dev/null}" 2>&1
	if [ "$rc" = 0 ] && [ "$SOFT_FAILURES" -gt 0 ]; then
		echo "FAIL: $SOFT_FAILURES check(s) failed (see above)"
		rc=1
	fi
	# Whatever is left in our cgroups (a supervisor gone or hung), and the cgroups.
	if [ -n "${CGROOT:-}" ]; then
		kill_cgroup_procs "$CGROOT" || echo "cleanup: processes left in $CGROOT"
		remove_cgroup_root "$CGROOT" || {
			echo "cleanup: could not remove cgroups: $(cgroup_dirs | tr '\n' ' ')"
			[ "$rc" = 0 ] && rc=1
		}
	fi
	local ns
	for ns in "${NETNS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	# Pins left by a supervisor killed with -9 (a clean stop with no slice removes its own).
	[ -n "${CGROOT:-}" ] && rm -rf "/sys/fs/bpf/acre/$CGROOT"
	rmdir /sys/fs/bpf/acre 2>/dev/null # the parent too, when nothing else is pinned there
	[ ${#CLEAN_PATHS[@]} -gt 0 ] && rm -rf "${CLEAN_PATHS[@]}"
	[ -n "${TEST_DIR:-}" ] && unmount_under "$TEST_DIR"
	[ -n "${TEST_DIR:-}" ] && rm -rf "$TEST_DIR"
	[ -n "${RUN_DIR:-}" ] && rm -rf "$RUN_DIR"
	[ -n "$SKIP_REASON" ] && printf '%s\n' "$SKIP_REASON"
	exit "$rc"
}

# ---- set-up, unless a caller only wants the functions ---------------------------------

if [ -z "${ACRE_TEST_LIB_ONLY:-}" ]; then
	TEST_SHELL_PID=$BASHPID
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	[ "$(id -u)" = 0 ] || skip "integration tests run as root"
	for b in acre acre-supervisor acre-init; do
		[ -x "$ACRE_BIN/$b" ] || skip "$ACRE_BIN/$b is missing: run make"
	done
	require jq python3 timeout setsid
	CGROOT=acre-test-$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')
	TEST_SLICE_CIDR=198.19.$((RANDOM % 40 + 200)).0/24
	record "cgroot $CGROOT"
	TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/acre-test.XXXXXX") || fail "mktemp"
	record "dir $TEST_DIR"
	# The socket lives under /run, where a real one would; slices must not see it.
	RUN_DIR=$(mktemp -d /run/acre-test.XXXXXX 2>/dev/null) || RUN_DIR=
	if [ -n "$RUN_DIR" ]; then
		record "dir $RUN_DIR"
		ACRE_SOCKET=$RUN_DIR/supervisor.sock
	else
		ACRE_SOCKET=$TEST_DIR/run/supervisor.sock
	fi
	export ACRE_SOCKET
	STATE_DIR=$TEST_DIR/state
	SUP_LOG=$TEST_DIR/supervisor.log
	: >"$SUP_LOG"
fi
