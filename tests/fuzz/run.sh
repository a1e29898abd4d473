#!/usr/bin/env bash
# The fuzz targets of tests/fuzz/ (built by `make fuzz-build` into build/fuzz/).
#
#   tests/fuzz/run.sh --replay [NAME...]      every seed of tests/fuzz/corpus/NAME once:
#                                             a crash, a leak or a sanitizer report fails it
#   tests/fuzz/run.sh --seconds N [NAME...]   fuzz each target for N seconds, new inputs kept
#                                             in build/fuzz/corpus/NAME; prints executions
#                                             per second and inputs tried per target
#
# Ends with "fuzz: N passed, N failed"; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
mode=replay seconds=60
case ${1:-} in
--replay) shift ;;
--seconds) mode=fuzz seconds=$2; shift 2 ;;
esac
if [ $# -eq 0 ]; then
	set -- $(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_\(.*\)\.c|\1|')
fi
passed=0 failed=0
log=$(mktemp -d /tmp/acre-fuzz.XXXXXX)
trap 'rm -rf "$log"' EXIT
for name in "$@"; do
	bin=build/fuzz/fuzz_$name seeds=tests/fuzz/corpus/$name
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "FAIL fuzz/$name: $bin or $seeds is missing"
		failed=$((failed + 1))
		continue
	fi
	out=$log/$name
	if [ "$mode" = replay ]; then
		# Given files, libFuzzer runs each once and exits.
		"$bin" "$seeds"/* >"$out" 2>&1
		rc=$?
		what="$(ls "$seeds" | wc -l) seeds replayed"
	else
		work=build/fuzz/corpus/$name
		mkdir -p "$work" "$log/artifacts-$name"
		"$bin" -max_total_time="$seconds" -print_final_stats=1 \
			-artifact_prefix="build/fuzz/crash-$name-" "$work" "$seeds" >"$out" 2>&1
		rc=$?
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
		speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -1)
		what="${runs:-?} inputs in ${seconds}s, ${speed:-?} exec/s, corpus $(ls "$work" | wc -l)"
	fi
	if [ "$rc" -eq 0 ]; then
		echo "PASS fuzz/$name ($what)"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz/$name ($what)"
		grep -a -m 20 -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$out" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
