#!/bin/bash
# Runs acre's integration tests (as root, against the real kernel), each in
# its own process group under a time limit, and sums them up:
#
#   PASS name (1.2s)
#   FAIL name (3.4s)          followed by the test's output, indented
#   SKIP name: reason         (exit status 77, the reason is its last line)
#   integration: N passed, N failed, N skipped
#
# Usage: tests/run-integration.sh [TEST...]   (default: tests/integration/test_*.sh)
# Exit status 1 when any test failed.  ACRE_TEST_SLOW=N (default 1) scales
# every timeout, for slow machines (the TCG VM of tests/vm/ sets 10);
# ACRE_TEST_LIMIT=SECONDS caps each test's run (default 120 × ACRE_TEST_SLOW),
# so that one hung test leaves the others their time.  A test that needs
# longer says so in a line of its own, `# limit: SECONDS` (times
# ACRE_TEST_SLOW), which ACRE_TEST_LIMIT, when set, overrides.
# ACRE_TEST_VERBOSE=1 prints the output of passing tests too.

set -u

HERE=$(cd "$(dirname "$0")" && pwd -P)
SLOW=${ACRE_TEST_SLOW:-1}
LIMIT=${ACRE_TEST_LIMIT:-$(awk -v s="$SLOW" 'BEGIN { printf "%d\n", 120 * s }')}
[[ $LIMIT =~ ^[1-9][0-9]*$ ]] || { echo "run-integration: ACRE_TEST_LIMIT must be whole seconds, not '$LIMIT'" >&2; exit 2; }

if [ $# -eq 0 ]; then
	set -- "$HERE"/integration/test_*.sh
fi

passed=0 failed=0 skipped=0
failed_names=()
out=$(mktemp "${TMPDIR:-/tmp}/acre-it-out.XXXXXX")
record=$(mktemp "${TMPDIR:-/tmp}/acre-it-record.XXXXXX")
trap 'rm -f "$out" "$record"' EXIT

# Whatever a test killed by the time limit left behind (its trap may not have run).
reap() {
	(
		ACRE_TEST_LIB_ONLY=1
		# shellcheck source=integration/lib.sh
		. "$HERE/integration/lib.sh"
		reap_record "$1"
	) >/dev/null 2>&1
}

for t in "$@"; do
	if [ ! -f "$t" ]; then
		echo "FAIL $t: no such test"
		failed=$((failed + 1))
		failed_names+=("$t")
		continue
	fi
	name=$(basename "$t" .sh)
	name=${name#test_}
	: >"$record"
	start=$(date +%s%N)
	# timeout(1) puts the test in a process group of its own and signals all of it
	# (the braces keep bash's "Killed" notice off our output).
	limit=$LIMIT
	own=$(awk '/^# limit: [0-9]+$/ { print $3; exit }' "$t")
	[ -n "$own" ] && [ -z "${ACRE_TEST_LIMIT:-}" ] &&
		limit=$(awk -v o="$own" -v s="$SLOW" 'BEGIN { printf "%d\n", o * s }')
	{ ACRE_TEST_RECORD=$record timeout -k 15 "$limit" bash "$t" </dev/null >"$out" 2>&1; } 2>/dev/null
	rc=$?
	reap "$record"
	secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		[ "${ACRE_TEST_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$out"
		;;
	77)
		reason=$(grep -v '^[[:space:]]*$' "$out" | tail -n 1)
		echo "SKIP $name: ${reason#skipped: }"
		skipped=$((skipped + 1))
		;;
	*)
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "FAIL $name (${secs}s, timed out after ${limit}s)"
		else
			echo "FAIL $name (${secs}s, exit $rc)"
		fi
		sed 's/^/    /' "$out"
		failed=$((failed + 1))
		failed_names+=("$name")
		;;
	esac
done

echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
