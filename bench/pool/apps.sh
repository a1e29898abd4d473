#!/usr/bin/env bash
# bench/pool/apps.sh: the apps benchmark, run by acre-bench-pool (--after) on
# the pool bench/pool/run.sh set up (APPS=1 bench/pool/run.sh), the simulated
# nodes still connected and the bare slices running:
#   1. an app scaled 0 -> SCALE instances: time until all run, against the
#      bare slices of the same run (placed, and placed until running);
#   2. a rolling update (an env var changed) of an app of ROLL instances with
#      max_surge 10%: time to the deployment's "succeeded", the controller's
#      CPU time and RSS meanwhile;
#   3. GET /v1/why/app/NAME for an app that fits no node: the median latency.
# Environment: ACRE_BENCH_API (HOST:PORT), ACRE_BENCH_TOKEN, ACRE_BENCH_CTL (the
# controller's pid), from run.sh; ACRE_BENCH_SLICES, ACRE_BENCH_PLACED_S and
# ACRE_BENCH_RUNNING_S, the bare slices' figures, from acre-bench-pool;
# SCALE (100000), ROLL (10000), WHY_TIMES (9); STEPS=1 prints the scale's
# course (running and healthy every 0.5 s, the deployment's steps) to stderr;
# PERF=FILE records the controller's profile during the scale (perf record -g;
# with PERF_ALL=1 the whole machine's).
set -euo pipefail
scale=${SCALE:-100000}
roll=${ROLL:-10000}
why_times=${WHY_TIMES:-9}
api_url=http://$ACRE_BENCH_API
ctl=$ACRE_BENCH_CTL

api() { # METHOD PATH [BODY]
	curl -sS -X "$1" -H "Authorization: Bearer $ACRE_BENCH_TOKEN" \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$api_url$2"
}
now() { date +%s.%N; }
# The controller's CPU seconds (user + system) and RSS in KiB.
ctl_cpu() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$ctl/stat"; }
# The controller's time waiting for a CPU while runnable, in seconds (schedstat's second field).
ctl_wait() { awk '{ print $2 / 1e9 }' "/proc/$ctl/schedstat"; }
# The simulated nodes' CPU seconds: every acre-bench-pool process but the controller's parent.
sims_cpu() {
	local t pid sum=0
	t=$(getconf CLK_TCK)
	for pid in $(pgrep -f acre-bench-pool); do
		sum=$(awk -v t="$t" -v s="$sum" '{ print s + ($14 + $15) / t }' "/proc/$pid/stat" 2>/dev/null || echo "$sum")
	done
	echo "$sum"
}
ctl_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$ctl/status"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
app_spec() { # NAME INSTANCES V [CPUS [STRATEGY]]
	jq -cn --arg name "$1" --argjson n "$2" --arg v "$3" --argjson cpus "${4:-0.1}" \
		--arg strategy "${5:-binpack}" '{
		name: $name, instances: $n,
		slice: {command: ["sleep", "3600"], env: {V: $v},
			resources: {cpus: $cpus, memory: "64M"}},
		placement: {strategy: $strategy}, max_surge: "10%"}'
}
# A deployment's state without a jq each time: polled every 0.1 s while the
# pool is timed, a jq per poll took a tenth of a CPU from the run it measured.
# The deployment's own "state" comes before its steps' fields.
deployment_state() { # ID
	local body
	body=$(api GET "/v1/deployments/$1")
	[[ $body =~ \"state\":\"([a-z_]+)\" ]] && echo "${BASH_REMATCH[1]}"
}
# Waits up to SECONDS for the deployment ID to succeed; fails on any other end.
wait_deployment() { # ID SECONDS
	local end state
	end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt "$end" ]; do
		state=$(deployment_state "$1")
		case $state in
		succeeded) return 0 ;;
		running) sleep 0.1 ;;
		*)
			echo "bench/pool/apps: deployment $1 ended $state: $(api GET "/v1/deployments/$1" | jq -c '{reason, waiting}')" >&2
			return 1
			;;
		esac
	done
	echo "bench/pool/apps: deployment $1 not done in $2 s: $(api GET "/v1/deployments/$1" | jq -c '{state, waiting, at_target, available}')" >&2
	return 1
}
api_dep() { jq -r '.deployment.id // empty' <<<"$1"; }
ratio() { echo "scale=3; $1 / $2" | bc -l | sed 's/^\./0./'; }
verdict() { [ "$(echo "$1" | bc -l)" = 1 ] && echo met || echo MISSED; }

echo
echo "== apps on the same pool (load $(load) on $(nproc) CPUs)"

# 1. Scale 0 -> SCALE.  Done when every instance runs: the app counts them
# healthy (no checks: running is healthy) and its deployment has succeeded.
r=$(api POST /v1/apps "$(app_spec many 0 1)")
d=$(api_dep "$r")
[ -n "$d" ] || { echo "bench/pool/apps: POST /v1/apps: $r" >&2; exit 1; }
wait_deployment "$d" 30
cpu0=$(ctl_cpu)
wait0=$(ctl_wait)
sims0=$(sims_cpu)
t0=$(now)
if [ -n "${STEPS:-}" ]; then
	(
		for _ in $(seq 120); do
			sleep 0.5
			counts=$(api GET /v1/apps | jq -c '(.apps // .)[] | select(.name == "many") | {running, healthy}')
			printf '%6.2f s  %s  controller CPU %s s\n' "$(echo "$(now) - $t0" | bc -l)" "$counts" "$(ctl_cpu)" >&2
		done
	) &
	sampler=$!
fi
if [ -n "${PERF:-}" ]; then
	perf_of=(-p "$ctl")
	[ -z "${PERF_ALL:-}" ] || perf_of=(-a)
	perf record -q -g "${perf_of[@]}" -o "$PERF" 2>/dev/null &
	perf_pid=$!
fi
r=$(api POST /v1/apps/many/scale "{\"instances\": $scale}")
d=$(api_dep "$r")
[ -n "$d" ] || { echo "bench/pool/apps: scale: $r" >&2; exit 1; }
wait_deployment "$d" 900
t1=$(now)
cpu1=$(ctl_cpu)
wait1=$(ctl_wait)
sims1=$(sims_cpu)
if [ -n "${PERF:-}" ]; then
	kill -INT "$perf_pid" && wait "$perf_pid" || true
fi
healthy=$(api GET /v1/apps/many | jq .healthy)
[ "$healthy" = "$scale" ] || { echo "bench/pool/apps: $healthy of $scale healthy" >&2; exit 1; }
scale_s=$(echo "$t1 - $t0" | bc -l)
if [ -n "${STEPS:-}" ]; then
	kill "$sampler" 2>/dev/null || true
	curl -sS -H "Authorization: Bearer $ACRE_BENCH_TOKEN" "$api_url/metrics" |
		grep -E '^acre_controller_(node_requests|updates)_total' >&2
	api GET "/v1/deployments/$d" | jq -r --argjson t0 "$t0" \
		'.steps[] | "\((.at / 1000 - $t0) * 100 | round / 100) s  \(.text)"' >&2
fi
app_rate=$(echo "$scale / $scale_s" | bc -l)
peer_rate=$(echo "$ACRE_BENCH_SLICES / $ACRE_BENCH_RUNNING_S" | bc -l)
post_rate=$(echo "$ACRE_BENCH_SLICES / $ACRE_BENCH_PLACED_S" | bc -l)
scale_ratio=$(ratio "$app_rate" "$peer_rate")
printf '                                  %-34s %s\n' "acre app (this run)" "bare slices (same run)"
printf '  %-31s %-34s %s\n' "instances running" "$(printf '%d in %.1f s' "$scale" "$scale_s")" \
	"$(printf '%d in %.1f s (all answered in %.1f s)' "$ACRE_BENCH_SLICES" "$ACRE_BENCH_RUNNING_S" "$ACRE_BENCH_PLACED_S")"
printf '  %-31s %-34s %s\n' "per second, until all run" "$(printf '%.0f /s' "$app_rate")" \
	"$(printf '%.0f /s (%.0f /s answered)' "$peer_rate" "$post_rate")"
printf '  %-31s %s\n' "ratio" "$scale_ratio"
printf '  %-31s %-34s %s\n' "CPU: controller, simulated nodes" \
	"$(printf '%.1f s (%.1f s waiting for a CPU), %.1f s' "$(echo "$cpu1 - $cpu0" | bc -l)" \
		"$(echo "$wait1 - $wait0" | bc -l)" "$(echo "$sims1 - $sims0" | bc -l)")" \
	"$(printf '%.1f s, %.1f s' "${ACRE_BENCH_CTL_CPU_S:-0}" "${ACRE_BENCH_SIMS_CPU_S:-0}")"

# 2. A rolling update of ROLL instances, max_surge 10%: V changes.  Spread,
# so that (with ROLL >= the nodes) no node is left empty for step 3.
r=$(api POST /v1/apps "$(app_spec roll "$roll" 1 0.1 spread)")
d=$(api_dep "$r")
[ -n "$d" ] || { echo "bench/pool/apps: POST roll: $r" >&2; exit 1; }
wait_deployment "$d" 600
cpu0=$(ctl_cpu)
rss_max=$(ctl_rss)
t0=$(now)
r=$(api PUT /v1/apps/roll "$(app_spec roll "$roll" 2 0.1 spread)")
d=$(api_dep "$r")
[ -n "$d" ] || { echo "bench/pool/apps: PUT roll: $r" >&2; exit 1; }
end=$(($(date +%s) + 900))
while :; do
	state=$(deployment_state "$d")
	rss=$(ctl_rss)
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
	[ "$state" = running ] || break
	[ "$(date +%s)" -lt "$end" ] || break
	sleep 0.1
done
t1=$(now)
cpu1=$(ctl_cpu)
[ "$state" = succeeded ] || {
	echo "bench/pool/apps: rolling update $d: $state $(api GET "/v1/deployments/$d" | jq -c '{reason, waiting, at_target}')" >&2
	exit 1
}
at2=$(api GET /v1/apps/roll/instances | jq '[.instances[] | select(.version == 2)] | length')
[ "$at2" = "$roll" ] || { echo "bench/pool/apps: $at2 of $roll at version 2" >&2; exit 1; }
roll_s=$(echo "$t1 - $t0" | bc -l)
roll_cpu=$(echo "$cpu1 - $cpu0" | bc -l)
printf '  %-31s %-34s %s\n' "rolling update, max_surge 10%" "$(printf '%d in %.1f s (%.0f /s)' "$roll" "$roll_s" "$(echo "$roll / $roll_s" | bc -l)")" \
	"$(printf 'bare slices: %.1f s for as many' "$(echo "$roll / $peer_rate" | bc -l)")"
printf '  %-31s %s\n' "controller CPU, RSS (update)" \
	"$(printf '%.1f s (%.0f%% of a core), %.0f MiB at most' "$roll_cpu" "$(echo "100 * $roll_cpu / $roll_s" | bc -l)" "$(echo "$rss_max / 1024" | bc -l)")"

# 3. Why an app that fits no node now waits: it asks for a whole node's cpus
# (32), and every node runs something.  (One no node could ever run is
# refused when it is made.)
r=$(api POST /v1/apps "$(app_spec nofit 1 1 32)")
[ -n "$(api_dep "$r")" ] || { echo "bench/pool/apps: POST nofit: $r" >&2; exit 1; }
for _ in $(seq 50); do
	pending=$(api GET /v1/why/app/nofit | jq '.pending // 0')
	[ "$pending" -ge 1 ] && break
	sleep 0.1
done
[ "$pending" -ge 1 ] || { echo "bench/pool/apps: nofit is not pending: $(api GET /v1/apps/nofit)" >&2; exit 1; }
times=$(for _ in $(seq "$why_times"); do
	curl -sS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $ACRE_BENCH_TOKEN" \
		"$api_url/v1/why/app/nofit"
done | sort -n)
why_ms=$(echo "$(sed -n "$(((why_times + 1) / 2))p" <<<"$times") * 1000" | bc -l)
why=$(api GET /v1/why/app/nofit)
nodes_seen=$(jq '.nodes' <<<"$why")
printf '  %-31s %s\n' "why/app (fits no node), median" \
	"$(printf '%.1f ms of %d (%s nodes looked at, %s bytes; %s)' "$why_ms" "$why_times" "$nodes_seen" "${#why}" "$(jq -c '[.reasons[] | {reason, nodes}]' <<<"$why")")"
echo "Targets: app scale >= 0.8 of bare slices: $(verdict "$scale_ratio >= 0.8"); why < 50 ms: $(verdict "$why_ms < 50")  (load $(load))"
for x in many roll nofit; do api DELETE "/v1/apps/$x?force=1" >/dev/null; done
