#!/bin/bash
# make run's clean-up survives what ends it.  Two demos (tests/run-demo.sh)
# run side by side, each as a job of its own with its output piped into a
# reader, as in `make run | tee demo.log`.  Once they are up, their readers
# are killed (tee dies first on Ctrl-C, so the clean-up's writes meet a
# broken pipe), and SIGINT (Ctrl-C) goes to one job's process group, SIGHUP
# (the terminal closed) to the other's.  Each demo must end by itself with
# status 0, having removed all it made: its acre-controller and
# acre-supervisor, every process of the job, its slices and cgroup subtree
# in every hierarchy, its bpf pins and its work directory.  The demos'
# cgroup subtrees are this test's own (acre-test-*), their work directories
# are under this test's directory.
. "$(dirname "$0")/lib.sh"
require ps

SIGNALS=(INT HUP)
declare -A ROOT PGID READER CTL SV WORK SLICES
ROOT[INT]=$CGROOT
ROOT[HUP]=$CGROOT-hup
record "cgroot ${ROOT[HUP]}"

DEMO_PIDS=() # "PID START" of the demos' processes, killed by the clean-up if still there

running() { # running PID: alive and not a zombie
	local state
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $1 }')
	[ -n "$state" ] && [ "$state" != Z ]
}

demo_track() { # demo_track PID
	DEMO_PIDS+=("$1 $(start_time "$1")")
	record_pid "$1"
}

# Before lib.sh's clean-up (which removes $CGROOT, the pins under its name
# and our directories): the demos' processes, only those still the ones we
# started, and the second demo's cgroups and pins.
demo_cleanup() {
	local entry pid start
	for entry in "${DEMO_PIDS[@]}"; do
		read -r pid start <<<"$entry"
		[ -n "$start" ] && [ "$(start_time "$pid")" = "$start" ] && kill -KILL "$pid" 2>/dev/null
	done
	kill_cgroup_procs "${ROOT[HUP]}"
	remove_cgroup_root "${ROOT[HUP]}"
	rm -rf "/sys/fs/bpf/acre/${ROOT[HUP]}"
	return 0
}
trap 'rc=$?; demo_cleanup; (exit "$rc"); cleanup' EXIT

root_dirs() { # root_dirs ROOT: the directories of a cgroup root, one per hierarchy
	local d
	for d in /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1"; do
		[ -d "$d" ] && printf '%s ' "$d"
	done
	return 0
}

root_children() { # root_children ROOT: the names of its cgroups (union over the hierarchies)
	local d
	for d in $(root_dirs "$1"); do
		find "$d" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'
	done | sort -u | tr '\n' ' '
}

# Processes of a process group, zombies aside.
group_members() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(sed 's/^.*) //' "$p/stat" 2>/dev/null | awk '$1 != "Z" { print $3 }')" = "$1" ] &&
			printf '%s ' "${p#/proc/}"
	done
	return 0
}

start_demo() { # start_demo SIGNAL: the demo that SIGNAL will end
	local sig=$1
	# A job of its own (job control on): a process group, and SIGINT not
	# ignored as it is in background commands without job control.  The
	# reader is a process substitution, in the job's process group too: the
	# demo is then $!, whose exit status `wait` can give.
	set -m
	# The pool's addresses in the test range, not the product's default 10.64.0.0/10.
	ACRE_DEMO_CONTROLLER_ARGS="--pool-cidr 198.19.192.0/19 --vip-cidr 198.19.240.0/24" \
		ACRE_DEMO_CGROUP_ROOT=${ROOT[$sig]} TMPDIR=$TEST_DIR "$ACRE_ROOT/tests/run-demo.sh" \
		> >(cat >"$TEST_DIR/demo-$sig.out") 2>&1 &
	PGID[$sig]=$!
	set +m
	demo_track "${PGID[$sig]}"
}

# demo_up SIGNAL: once it is up, its reader, daemons, work directory and slices.
demo_up() {
	local sig=$1 pgid=${PGID[$1]} out=$TEST_DIR/demo-$1.out
	READER[$sig]=$(ps -o pid= -o comm= --ppid "$pgid" | awk '$2 == "cat" { print $1 }')
	[ -n "${READER[$sig]}" ] || fail "the reader of the demo's output not found"
	demo_track "${READER[$sig]}"
	assert_eq "$(ps -o pgid= -p "$pgid" | tr -d ' ')" "$pgid" "process group of the demo"
	assert_eq "$(ps -o pgid= -p "${READER[$sig]}" | tr -d ' ')" "$pgid" "process group of the reader"
	wait_for "grep -q 'Ctrl-C here stops it' '$out'" 30 ||
		fail "the demo did not come up: $(tail -n 5 "$out")"
	CTL[$sig]=$(ps -o pid= -o comm= --ppid "$pgid" | awk '$2 == "acre-controller" { print $1 }')
	SV[$sig]=$(ps -o pid= -o comm= --ppid "$pgid" | awk '$2 == "acre-supervisor" { print $1 }')
	[ -n "${CTL[$sig]}" ] && [ -n "${SV[$sig]}" ] ||
		fail "the demo's daemons not found: controller '${CTL[$sig]}', supervisor '${SV[$sig]}'"
	demo_track "${CTL[$sig]}"
	demo_track "${SV[$sig]}"
	WORK[$sig]=$(sed -n 's|^ *export ACRE_SOCKET=\(.*\)/supervisor.sock$|\1|p' "$out")
	case ${WORK[$sig]} in
	"$TEST_DIR"/acre-demo.*) ;;
	*) fail "the demo's work directory: '${WORK[$sig]}'" ;;
	esac
	[ -d "${WORK[$sig]}" ] || fail "the demo's work directory ${WORK[$sig]} does not exist"
	SLICES[$sig]=$(root_children "${ROOT[$sig]}")
	[ "$(wc -w <<<"${SLICES[$sig]}")" -ge 3 ] ||
		fail "the demo's slices are not all in ${ROOT[$sig]}: ${SLICES[$sig]}"
}

# demo_end SIGNAL: it ends by itself; its exit status in RC[SIGNAL].
declare -A RC
demo_end() {
	local sig=$1 pgid=${PGID[$1]}
	wait_for "! running $pgid" 20 || fail "SIG$sig: the demo did not end within $(scaled 20)s"
	RC[$sig]=0
	wait "$pgid" || RC[$sig]=$?
	log "SIG$sig: the demo ended in $(($(now_ms) - T0)) ms, exit status ${RC[$sig]}"
}

# demo_gone SIGNAL: it ended with status 0 and left nothing.
demo_gone() {
	local sig=$1 pgid=${PGID[$1]} rc=${RC[$1]}
	local left=""
	running "${CTL[$sig]}" && left+="acre-controller (${CTL[$sig]}) "
	running "${SV[$sig]}" && left+="acre-supervisor (${SV[$sig]}) "
	assert_eq "$left" "" "SIG$sig: the demo's daemons left running"
	assert_eq "$(group_members "$pgid")" "" "SIG$sig: processes left in the demo's process group"
	assert_eq "$(root_dirs "${ROOT[$sig]}")" "" \
		"SIG$sig: the demo's cgroups left (its slices were ${SLICES[$sig]})"
	[ ! -e "/sys/fs/bpf/acre/${ROOT[$sig]}" ] ||
		fail "SIG$sig: the demo's bpf pins /sys/fs/bpf/acre/${ROOT[$sig]} left"
	[ ! -e "${WORK[$sig]}" ] ||
		fail "SIG$sig: the demo's work directory ${WORK[$sig]} left: $(ls "${WORK[$sig]}")"
	# 141 (SIGPIPE): a write to the dead reader killed it, however far it got.
	assert_eq "$rc" 0 "SIG$sig: exit status of the demo"
}

T_START=$(now_ms)
for sig in "${SIGNALS[@]}"; do
	log "SIG$sig: the demo's cgroup root ${ROOT[$sig]}"
	start_demo "$sig"
done
for sig in "${SIGNALS[@]}"; do
	demo_up "$sig"
done
log "both up after $(($(now_ms) - T_START)) ms"
for sig in "${SIGNALS[@]}"; do
	kill -KILL "${READER[$sig]}"
	wait_for "! running ${READER[$sig]}" 5 || fail "the reader did not die"
done
T0=$(now_ms)
for sig in "${SIGNALS[@]}"; do
	kill -"$sig" -- -"${PGID[$sig]}" || fail "kill -$sig -${PGID[$sig]}"
done
for sig in "${SIGNALS[@]}"; do
	demo_end "$sig"
done
# Each demo's leftovers reported, whichever of them fails.
for sig in "${SIGNALS[@]}"; do
	soft demo_gone "$sig"
done
