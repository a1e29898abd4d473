#!/usr/bin/env bash
# make check: the unit tests (plain, then under AddressSanitizer and UBSan),
# the integration suite against this machine's kernel, and the tests that
# depend on the cgroup version again inside a pure cgroup v2 VM.  Ends with
# one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
passed=0
failed=0
log=$(mktemp -d /tmp/acre-check.XXXXXX)
trap 'rm -rf "$log"' EXIT

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)...".
count_unit() {
	local out=$1 p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	echo "${p:-0} ${f:-0}"
}

run_unit() {
	local dir=$1 label=$2
	for t in "$dir"/test_*; do
		[ -x "$t" ] || continue
		local out
		out=$log/$(basename "$t").$label
		"$t" >"$out" 2>&1
		local rc=$?
		read -r p f < <(count_unit "$out")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			# A crash or a sanitizer report, not a failed assertion: one failure.
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			echo "FAIL unit/$label $(basename "$t")"
			sed 's/^/    /' "$out" | tail -40
		else
			echo "PASS unit/$label $(basename "$t") ($p)"
		fi
	done
}

# run-integration.sh ends with "integration: N passed, N failed, N skipped".
run_suite() {
	local label=$1
	shift
	local out=$log/$label
	"$@" 2>&1 | tee "$out"
	suite_rc=${PIPESTATUS[0]}
	# After a guest kernel lockup the caller runs the suite once more.
	if [ "$suite_rc" = 123 ] && [ "${LOCKUP_RETRY:-0}" = 1 ]; then
		return
	fi
	local line
	line=$(grep -a '^integration: ' "$out" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL $label: the suite did not finish"
		failed=$((failed + 1))
		return
	fi
	local p f
	p=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

# Each suite's time, so the budget of a CI run stays seen.
suite_start=$SECONDS
suite_time() {
	echo "-- $1: $((SECONDS - suite_start)) s"
	suite_start=$SECONDS
}

echo "== unit tests"
run_unit build/test plain
suite_time "unit tests"
echo "== unit tests under AddressSanitizer and UBSan"
run_unit build/test-san sanitizers
suite_time "unit tests under sanitizers"

# tests/fuzz/run.sh ends with "fuzz: N passed, N failed".
run_fuzz_replay() {
	local out=$log/fuzz
	tests/fuzz/run.sh --replay 2>&1 | tee "$out"
	local line p f
	line=$(grep -a '^fuzz: ' "$out" | tail -1)
	p=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	[ -n "$line" ] || f=1
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

echo "== no global symbol defined twice in a binary's modules"
symbols_seen=0
while read -r line; do
	echo "$line"
	symbols_seen=1
	case $line in
	*"no symbol defined twice") passed=$((passed + 1)) ;;
	*"more than once:"* | *"no objects"*) failed=$((failed + 1)) ;;
	esac
done < <(make --no-print-directory -s symbols 2>&1)
[ "$symbols_seen" = 1 ] || { echo "FAIL symbols: the check did not run"; failed=$((failed + 1)); }
suite_time "symbols"

echo "== fuzz corpora replayed"
run_fuzz_replay
suite_time "fuzz corpora"

# bpf/ and netns/ against this kernel: each ends with "[WHAT: ]N passed, N failed".
echo "== kernel tests of bpf/ and netns/"
for t in build/test/bpf_test build/test/bpf_vip_test build/test/bpf_isolate_test \
	build/test/netns_test build/test/pool_routes_test; do
	out=$log/$(basename "$t")
	"$t" >"$out" 2>&1
	rc=$?
	line=$(grep -aE '(^|: )[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
	p=$(echo "$line" | sed -nE 's/(.*: )?([0-9]+) passed.*/\2/p')
	f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed$/\1/p')
	# No summary, or a bad exit with none failed: a crash, one failure.
	if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; }; then
		f=$((${f:-0} + 1))
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL kernel $(basename "$t")"
		grep -a '^FAIL' "$out" | sed 's/^/    /' | head -20
		tail -5 "$out" | sed 's/^/    /'
	else
		echo "PASS kernel $(basename "$t") (${p:-0})"
	fi
done
suite_time "kernel tests"

echo "== integration tests on this machine ($(uname -r))"
run_suite integration tests/run-integration.sh
suite_time "integration tests"

echo "== integration tests in a pure cgroup v2 VM"
if [ -x tests/vm/run.sh ] && [ -f tests/vm/tests.list ]; then
	mapfile -t vm_tests < <(grep -v '^#' tests/vm/tests.list | grep .)
	LOCKUP_RETRY=1 run_suite vm tests/vm/run.sh -- tests/run-integration.sh "${vm_tests[@]}"
	# 123: the guest kernel itself locked up (TCG, rarely). The trace is above
	# and in build/vm/kernel.log; the suite runs once more, and only once.
	if [ "$suite_rc" = 123 ]; then
		echo "vm: the guest kernel locked up (trace above); the VM suite once more"
		run_suite vm tests/vm/run.sh -- tests/run-integration.sh "${vm_tests[@]}"
	fi
else
	echo "FAIL vm: tests/vm is missing"
	failed=$((failed + 1))
fi
suite_time "VM suite"

# The Debian packages built, installed, upgraded and purged on a booted
# Debian 12 guest (tests/vm/install-test.sh): one test; 77 means this
# machine cannot run it (no qemu, debootstrap or Debian archive).
echo "== Debian packages on a booted Debian 12 VM (make vm-install-test)"
make --no-print-directory vm-install-test 2>&1 | tee "$log/deb"
case ${PIPESTATUS[0]} in
0) passed=$((passed + 1)) ;;
77) echo "SKIP vm-install-test: $(grep -a 'skipped' "$log/deb" | tail -1)" ;;
*)
	echo "FAIL vm-install-test"
	failed=$((failed + 1))
	;;
esac
suite_time "Debian packages VM"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
