#!/bin/bash
# kill -9 of the supervisor, 100 times at random moments (0-300 ms apart)
# while a driver in the background keeps launching slices that exit with
# varied codes, some bridged, some under --restart on-failure:2, some
# sleeping until `acre slice kill` or `rm --force` ends them, and removing
# others; each kill is followed by a restart on the same socket, state
# directory and cgroup root (Nomad's client-state test does the same).  The
# driver records what it asked and whether the request was acknowledged.
# After the last kill a final supervisor settles everything, and then: every
# slice whose creation was acknowledged is known (once), unless an
# acknowledged rm removed it, in which case it is gone; each is in the state
# its task and the requests made of it call for, with its task's exit code
# and the restarts its policy allows; each hierarchy under the test's
# cgroup root holds exactly the listed slices' cgroups; no veth, IPAM lease
# or eBPF map entry is left of a slice that is not listed; and once they
# are all removed, a clean stop leaves no cgroup, pin or bridge.
# ACRE_TEST_SLOW > 1 (the TCG VM) makes fewer kills: 100 / ACRE_TEST_SLOW,
# at least 10.  On a machine so loaded that 70 s (scaled) of kills are not
# enough for all of them, the loop stops there and says so.
. "$(dirname "$0")/lib.sh"
require ip jq

t_start=$(now_ms)
kills=$(awk -v s="$SLOW" 'BEGIN { n = int(100 / s); print (n < 10 ? 10 : n) }')
[ "$kills" -lt 100 ] && log "ACRE_TEST_SLOW=$SLOW: $kills kills instead of 100"
budget_ms=$(awk -v s="$SLOW" 'BEGIN { printf "%d\n", 70000 * s }')
# A request hung on a supervisor that died is answered by the lost connection, not this.
ACRE_TIMEOUT=$(scaled 20)s
export ACRE_TIMEOUT

# One line of words, for messages.
words() { tr '\n' ' ' | sed 's/ $//'; }

# The supervisor lives in a network namespace of the test's own (as in
# test_network.sh): its bridge, the slices' veths and their addresses stay there.
ns=${CGROOT#acre-}
make_netns "$ns"
# nsenter, not ip netns exec: the latter mounts a new /sys, hiding the cgroup hierarchies.
# shellcheck disable=SC2034 # read by launch_supervisor (lib.sh)
SUP_WRAP=(nsenter --net="/run/netns/$ns")
bridge=acrt$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
net_args=(--slice-cidr 198.18.0.0/24 --bridge "$bridge")
# A small prelaunch pool while crashing: slices take parked launches too, and every
# restart finds the previous pool's cgroups orphaned.
start_supervisor "${net_args[@]}" --prelaunch 2

# ---- the workload driver ------------------------------------------------------------------
LEDGER=$TEST_DIR/ledger
STOP=$TEST_DIR/driver.stop
: >"$LEDGER"

# outcome RC STDERR: ack (done), refused-* (the supervisor answered no) or nack (no answer).
outcome() {
	if [ "$1" = 0 ]; then
		echo ack
	elif [[ $2 == *"no slice named"* ]]; then
		echo refused-unknown
	elif [[ $2 == *"kill it first"* ]]; then
		echo refused-busy
	elif [[ $2 == *"is not running"* ]]; then
		echo refused-notrunning
	else
		echo nack
	fi
}

# A line of the ledger per request: what was asked, and how it came out.
driver() {
	local n=0 name err rc res pick i
	local -a live=() sleepers=() flags cmd
	local codes=(0 0 0 1 2 3 7 42 255)
	while [ ! -e "$STOP" ]; do
		local r=$((RANDOM % 100))
		[ ${#live[@]} -gt 20 ] && r=$((60 + RANDOM % 40))
		if [ "$r" -lt 55 ] || [ ${#live[@]} -eq 0 ]; then
			n=$((n + 1))
			name=c$n
			local kind=exit k=${codes[RANDOM % ${#codes[@]}]} restart=never net=none
			[ $((RANDOM % 3)) = 0 ] && kind=sleep k=-
			[ $((RANDOM % 4)) = 0 ] && restart=on-failure:2
			[ $((RANDOM % 7)) = 0 ] && net=bridge
			flags=(--name "$name" --net "$net" --restart "$restart")
			if [ "$kind" = sleep ]; then cmd=(sleep 600); else cmd=(sh -c "exit $k"); fi
			rc=0
			err=$(acre slice run -d "${flags[@]}" -- "${cmd[@]}" 2>&1 >/dev/null) || rc=$?
			res=$(outcome "$rc" "$err")
			echo "run $name $kind $k $restart $net $res${err:+ # ${err//$'\n'/ }}" >>"$LEDGER"
			live+=("$name")
			[ "$kind" = sleep ] && [ "$res" = ack ] && sleepers+=("$name")
		elif [ "$r" -lt 70 ] && [ ${#sleepers[@]} -gt 0 ]; then
			pick=$((RANDOM % ${#sleepers[@]}))
			name=${sleepers[pick]}
			sleepers=("${sleepers[@]:0:pick}" "${sleepers[@]:pick+1}")
			rc=0
			err=$(acre slice kill "$name" 2>&1 >/dev/null) || rc=$?
			res=$(outcome "$rc" "$err")
			echo "kill $name $res${err:+ # ${err//$'\n'/ }}" >>"$LEDGER"
			# Unanswered: asked again later.
			[ "$res" = nack ] && sleepers+=("$name")
		else
			pick=$((RANDOM % ${#live[@]}))
			name=${live[pick]}
			live=("${live[@]:0:pick}" "${live[@]:pick+1}")
			for i in "${!sleepers[@]}"; do
				[ "${sleepers[i]}" = "$name" ] && unset 'sleepers[i]'
			done
			sleepers=("${sleepers[@]}")
			local force=
			[ $((RANDOM % 2)) = 0 ] && force=--force
			rc=0
			err=$(acre slice rm $force "$name" 2>&1 >/dev/null) || rc=$?
			res=$(outcome "$rc" "$err")
			echo "rm $name ${force:-plain} $res${err:+ # ${err//$'\n'/ }}" >>"$LEDGER"
			case $res in nack | refused-busy) live+=("$name") ;; esac
		fi
		# While the supervisor is down every request fails at once: no need to pile them up.
		# Otherwise a pause of 0-40 ms, which leaves the restarts some of the CPU.
		if [ "$res" = nack ]; then sleep 0.05; else sleep "0.0$((RANDOM % 5))"; fi
	done
}
driver &
driver_pid=$!
track_bg "$driver_pid"

# ---- the kills ------------------------------------------------------------------------------
ready_total=0 ready_max=0 killed=0
while [ "$killed" -lt "$kills" ]; do
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f\n", (r % 301) / 1000 }')"
	kill_supervisor
	killed=$((killed + 1))
	[ "$killed" -lt "$kills" ] || break
	if [ $(($(now_ms) - t_start)) -gt "$budget_ms" ]; then
		log "stopping after $killed kills: the $((budget_ms / 1000)) s budget for them is spent (a loaded machine?)"
		break
	fi
	restart_supervisor
	ready_total=$((ready_total + SUP_READY_MS))
	[ "$SUP_READY_MS" -gt "$ready_max" ] && ready_max=$SUP_READY_MS
done
touch "$STOP"
wait_for "! kill -0 $driver_pid" 30 || fail "the driver did not stop"
wait "$driver_pid"
t_kills=$(now_ms)

# The last start: no prelaunch pool, so that the cgroups under the root are the slices' own.
# shellcheck disable=SC2034 # read by launch_supervisor (lib.sh)
SUP_ARGS=("${net_args[@]}" --prelaunch 0)
launch_supervisor
t_ready=$(now_ms)

# ---- what the driver asked ------------------------------------------------------------------
declare -A kind code policy net run_res kill_ack kill_tried rm_gone rm_tried lost
runs=0 acked=0 nkill=0 nrm=0
# A slice acknowledged, then unknown to a kill or rm with no rm asked before: lost.
unknown_to() {
	[ "${run_res[$1]}" = ack ] && [ -z "${rm_gone[$1]:-}${rm_tried[$1]:-}" ] &&
		lost[$1]="unknown to a $2 after its creation was acknowledged"
}
while read -r op name a b c d e _; do
	case $op in
	run)
		kind[$name]=$a code[$name]=$b policy[$name]=$c net[$name]=$d run_res[$name]=$e
		runs=$((runs + 1))
		[ "$e" = ack ] && acked=$((acked + 1))
		;;
	kill)
		nkill=$((nkill + 1))
		case $a in
		ack) kill_ack[$name]=1 ;;
		nack) kill_tried[$name]=1 ;;
		refused-unknown) unknown_to "$name" kill ;;
		esac
		;;
	rm)
		nrm=$((nrm + 1))
		case $b in
		ack) rm_gone[$name]=1 ;;
		nack) rm_tried[$name]=${rm_tried[$name]:-}$a ;;
		refused-unknown)
			unknown_to "$name" rm
			rm_gone[$name]=1
			;;
		esac
		;;
	esac
done <"$LEDGER"
[ "$acked" -gt 0 ] || fail "no slice creation was acknowledged: $(head -n 5 "$LEDGER")"

# ---- settled: nothing starting, no exit slice running or due for a restart -----------------
exp=$(awk '$1 == "run" { printf "{\"%s\":{\"kind\":\"%s\",\"policy\":\"%s\"}}\n", $2, $3, $5 }' \
	"$LEDGER" | jq -s 'add // {}')
unsettled() {
	local list
	list=$(acre -j slice list) || { echo "(no list)"; return; }
	jq -r --argjson exp "$exp" '.[] | select(.state == "pending" or .state == "starting" or
		(($exp[.name].kind // "") == "exit" and (.state == "running" or (.state == "failed"
		and $exp[.name].policy != "never" and .restarts < 2)))) | "\(.name) \(.state)"' <<<"$list"
}
wait_for '[ -z "$(unsettled)" ]' 30 || fail "slices not settled: $(unsettled | head -n 10 | tr '\n' ' ')"

names=$(acre -j slice list | jq -r '.[].name') || fail "slice list"
for n in $names; do
	acre -j slice show "$n" || fail "show $n"
done | jq -s . >"$TEST_DIR/slices.json"
t_settled=$(now_ms)

# ---- every slice: known once, as its task and the requests made of it say -------------------
problems=()
problem() { problems+=("$*"); }

dups=$(sort <<<"$names" | uniq -d | words)
[ -z "$dups" ] || problem "slices known twice: $dups"

# What was asked of a slice after its run, for the messages.
hist() {
	awk -v n="$1" '$2 == n && $1 != "run" { printf "; %s %s", $1, ($1 == "rm" ? $3 " " $4 : $3) }' "$LEDGER"
}
declare -A shown
while IFS=$'\t' read -r n state restarts ecode esig pid reason; do
	shown[$n]=1
	if [ -z "${kind[$n]:-}" ]; then
		problem "$n: listed, but never asked for ($state)"
		continue
	fi
	k=${code[$n]}
	what="$n (${kind[$n]} $k, ${policy[$n]}, net ${net[$n]}, run ${run_res[$n]}$(hist "$n"))"
	if [ -n "${rm_gone[$n]:-}" ]; then
		problem "$what: removed, but listed as $state"
		continue
	fi
	# Ended by a request that may have gone through: an rm --force kills with SIGKILL.
	maybe_killed=false
	[ -n "${kill_ack[$n]:-}${kill_tried[$n]:-}" ] && maybe_killed=true
	[[ ${rm_tried[$n]:-} == *--force* ]] && maybe_killed=true
	if [ "$state" = killed ]; then
		$maybe_killed || problem "$what: killed, by nobody ($reason)"
		case $esig in 9 | 15) ;; *) problem "$what: killed, but by signal '$esig' ($reason)" ;; esac
		[ "$restarts" = 0 ] || [ "${kind[$n]}" = exit ] || problem "$what: killed after $restarts restarts"
		continue
	fi
	if [ "${kind[$n]}" = sleep ]; then
		if [ "$state" != running ]; then
			problem "$what: $state ($reason), expected running or killed"
		elif [ -n "${kill_ack[$n]:-}" ]; then
			problem "$what: still running after an acknowledged kill"
		elif [ "$pid" -le 0 ] || [ ! -e "/proc/$pid" ]; then
			problem "$what: running, but its acre-init (pid $pid) is gone"
		fi
		[ "$restarts" = 0 ] || problem "$what: $restarts restarts of a task that was never meant to end"
		continue
	fi
	want_state=failed want_restarts=0
	[ "$k" = 0 ] && want_state=exited
	[ "$k" != 0 ] && [ "${policy[$n]}" != never ] && want_restarts=2
	[ "$state" = "$want_state" ] || problem "$what: $state ($reason), expected $want_state"
	[ "$ecode" = "$k" ] || problem "$what: exit code '$ecode' ($reason), expected $k"
	[ "$restarts" = "$want_restarts" ] || problem "$what: $restarts restarts, expected $want_restarts"
done < <(jq -r '.[] | [.name, .state, .restarts, (.exit.exit_code // "-"), (.exit.signal // "-"),
	.pid, .reason] | @tsv' "$TEST_DIR/slices.json")

for n in "${!lost[@]}"; do
	problem "$n: ${lost[$n]} (ledger: $(grep " $n " "$LEDGER" | tr '\n' ';'))"
done
for n in "${!kind[@]}"; do
	if [ "${run_res[$n]}" = ack ] && [ -z "${rm_gone[$n]:-}${rm_tried[$n]:-}${lost[$n]:-}" ] &&
		[ -z "${shown[$n]:-}" ]; then
		problem "$n: acknowledged and never removed, but not known (ledger: $(grep " $n " "$LEDGER" | tr '\n' ';'))"
	fi
done

# ---- nothing left of a slice that is not listed ---------------------------------------------
want_cg=$(jq -r '.[].cgroup.name' "$TEST_DIR/slices.json" | sort)
cgroups_match() {
	local d
	for d in $(cgroup_dirs); do
		[ "$(find "$d" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)" = "$want_cg" ] || return 1
	done
}
if ! wait_for cgroups_match 20; then
	for d in $(cgroup_dirs); do
		have=$(find "$d" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
		extra=$(comm -23 <(echo "$have") <(echo "$want_cg") | words)
		missing=$(comm -13 <(echo "$have") <(echo "$want_cg") | words)
		[ -z "$extra$missing" ] || problem "cgroups in $d: orphans [$extra], missing [$missing]"
	done
fi

acre_veths() {
	ip -n "$ns" -o link show | grep -o '^[0-9]*: ac[0-9a-f]\{12\}' | cut -d' ' -f2 | sort
}
want_veth=$(jq -r '.[] | select(.state == "running") | .network.veth // empty' "$TEST_DIR/slices.json" | sort)
# A pair goes with its slice's namespace, which the kernel tears down on its own time.
wait_for '[ "$(acre_veths)" = "$want_veth" ]' 20 ||
	problem "veths: [$(acre_veths | words)], expected those of the running bridged slices [$(words <<<"$want_veth")]"

lease_list() { jq -r '.leases // [] | .[] | "\(.owner) \(.address)"' "$STATE_DIR/net-leases.json" 2>/dev/null | sort; }
want_leases=$(jq -r '.[] | select(.spec.network.mode == "bridge") |
	"\(.name) \(.network.address // "none" | split("/")[0])"' "$TEST_DIR/slices.json" | sort)
# An ended slice's lease drains once its veth is gone (supervisor/network.c looks every 20 ms).
wait_for '[ "$(lease_list)" = "$want_leases" ]' 6
leases=$(lease_list)
[ "$leases" = "$want_leases" ] ||
	problem "IPAM leases: [$(words <<<"$leases")], expected one per listed bridged slice: [$(words <<<"$want_leases")]"

pins=/sys/fs/bpf/acre/$CGROOT
# What the last supervisor said since its start (bpffs may be missing, eBPF refused).
last_start=$(tac "$SUP_LOG" | sed '/^=== .* start:/q')
if ! grep -q 'event=accounting_on' <<<"$last_start"; then
	log "accounting is off ($(grep -o 'reason=.*' <<<"$last_start" | head -n 1)): no pins to check"
elif ! command -v bpftool >/dev/null; then
	log "bpftool is not installed: pins not checked"
else
	want_ids=$(jq -r '.[].cgroup.id' "$TEST_DIR/slices.json" | sort -n)
	for map in net_stats runq_stats; do
		keys=$(bpftool -j map dump pinned "$pins/$map" | jq -r '.[].formatted.key' | sort -n) ||
			problem "bpftool map dump pinned $pins/$map failed"
		extra=$(comm -23 <(echo "$keys") <(echo "$want_ids") | words)
		missing=$(comm -13 <(echo "$keys") <(echo "$want_ids") | words)
		[ -z "$extra$missing" ] ||
			problem "$map: entries of no listed slice [$extra], listed slices without one [$missing]"
	done
fi

nrestarts=$((killed > 1 ? killed - 1 : 1))
log "$killed kills of the supervisor in $(((t_kills - t_start) / 1000)).$(((t_kills - t_start) % 1000 / 100)) s;" \
	"slices asked for $runs, acknowledged $acked; $nkill kills and $nrm removals asked;" \
	"$(grep -c . <<<"$names") slices listed at the end, settled in $((t_settled - t_ready)) ms;" \
	"restarts served after $((ready_total / nrestarts)) ms on average, $ready_max ms at most"
if [ ${#problems[@]} -gt 0 ]; then
	printf '%s\n' "${problems[@]}" | head -n 40
	fail "${#problems[@]} problem(s) after $killed kills of the supervisor"
fi

# ---- and all of it goes away cleanly --------------------------------------------------------
[ -z "$names" ] || xargs -n 50 "$ACRE_BIN/acre" slice rm --force <<<"$names" >/dev/null ||
	fail "rm --force of the listed slices"
assert_eq "$(acre -j slice list)" "[]" "slices after removing all"
stop_supervisor || fail "the supervisor exited with $?"
assert_eq "$(cgroup_dirs | wc -l)" 0 "cgroup roots left after a clean stop with no slice"
[ -e "$pins" ] && fail "pins left after a clean stop with no slice: $(ls "$pins")"
ip -n "$ns" link show "$bridge" >/dev/null 2>&1 && fail "the bridge outlived a clean stop with no slice"
log "done in $((($(now_ms) - t_start) / 1000))s"
exit 0
