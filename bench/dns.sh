#!/usr/bin/env bash
# bench/dns: the supervisor's DNS server against a plain dnsmasq, both
# serving the same 1,000 names from one hosts file (--dns-hosts and
# --addn-hosts), queried by dnsperf from a bridged slice, each server going
# first in turn, in the same run: queries/s and latency of each, and the
# ratio (target: at least 0.9 of dnsmasq's queries/s).  Then the time from
# `acre slice run -d` to the slice's name resolving.  Everything runs in a
# network namespace of the benchmark's own, addresses from 198.18.0.0/15.
# Usage: bench/dns.sh [ROUNDS] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
# shellcheck source=bench_lib.sh
. "$here/bench/bench_lib.sh"
rounds=${1:-6}
secs=${2:-3}
for tool in dnsperf dnsmasq dig python3 ip; do
	command -v "$tool" >/dev/null || { echo "bench/dns: $tool is missing (make deps)"; exit 1; }
done
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ns=acre-bench-$tag
work=$(mktemp -d /tmp/acre-bench-dns.XXXXXX)
export ACRE_SOCKET=$work/sock
sv= dm=
cleanup() {
	set +e
	bench_stop_supervisor
	[ -n "$dm" ] && kill "$dm" 2>/dev/null && wait "$dm" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

gw=198.18.9.1
peer=198.18.250.1
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$peer/32" dev lo
# The same 1,000 names for both, and the queries: each name once, in order, over and over.
for i in $(seq 0 999); do
	printf '198.18.%d.%d n%04d.acre\n' $((10 + i / 250)) $((1 + i % 250)) "$i"
done >"$work/hosts"
for i in $(seq 0 999); do printf 'n%04d.acre A\n' "$i"; done >"$work/queries"
: >"$work/resolv.conf" # nothing forwarded: only the zone is measured

nsenter --net="/run/netns/$ns" "$bin/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$work/state" \
	--cgroup-root "acre-bench-$tag" --slice-cidr 198.18.9.0/24 --bridge "acrd$tag" \
	--resolv-conf "$work/resolv.conf" --dns-hosts "$work/hosts" --log-level warn \
	2>"$work/supervisor.log" &
sv=$!
for _ in $(seq 100); do "$bin/acre" slice list >/dev/null 2>&1 && break; sleep 0.05; done
"$bin/acre" slice list >/dev/null || { echo "bench/dns: the supervisor did not start"; cat "$work/supervisor.log"; exit 1; }
ip netns exec "$ns" dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
	--addn-hosts="$work/hosts" --listen-address="$peer" --bind-interfaces --port 53 --user=root \
	--local-ttl=1 --pid-file= --log-facility="$work/dnsmasq.log" &
dm=$!

# The gateway's address comes with the bridge, which comes with the first bridged slice.
resolves() { # resolves SERVER NAME: its address, or nothing
	ip netns exec "$ns" dig +short +time=1 +tries=1 @"$1" "$2" 2>/dev/null | head -1
}
"$bin/acre" slice run -d --name bench-first --net bridge -- sleep 3600 >/dev/null
for _ in $(seq 100); do [ -n "$(resolves "$gw" n0001.acre)" ] && break; sleep 0.05; done
[ "$(resolves "$gw" n0001.acre)" = 198.18.10.2 ] || { echo "bench/dns: acre's server does not answer"; exit 1; }
for _ in $(seq 100); do [ -n "$(resolves "$peer" n0001.acre)" ] && break; sleep 0.05; done
[ "$(resolves "$peer" n0001.acre)" = 198.18.10.2 ] || { echo "bench/dns: dnsmasq does not answer"; exit 1; }

# dnsperf in a bridged slice, as the slices ask: 100 queries in flight on one socket, the
# queries on its stdin (the slice has a /tmp of its own).  Queries/s and average latency.
perf() { # perf SERVER -> "QPS LATENCY_US LOST"
	"$bin/acre" slice run --rm --net bridge -- dnsperf -s "$1" -l "$secs" -q 100 \
		<"$work/queries" 2>&1 | awk '
		/Queries per second:/ { qps = $4 }
		/Average Latency \(s\):/ { lat = $4 * 1e6 }
		/Queries lost:/ { lost = $3 }
		END { printf "%.0f %.0f %s\n", qps, lat, lost }'
}
printf '%-8s %12s %12s %8s   %12s %12s %8s\n' round acre_qps acre_lat_us lost dnsmasq_qps dnsmasq_lat lost
acre_all= peer_all=
for r in $(seq 1 "$rounds"); do
	# Each goes first in turn: neither gets the machine's better moments every time.
	if [ $((r % 2)) = 1 ]; then
		read -r aq al alost < <(perf "$gw")
		read -r pq pl plost < <(perf "$peer")
	else
		read -r pq pl plost < <(perf "$peer")
		read -r aq al alost < <(perf "$gw")
	fi
	printf '%-8s %12s %12s %8s   %12s %12s %8s\n' "$r" "$aq" "$al" "$alost" "$pq" "$pl" "$plost"
	acre_all="$acre_all $aq"
	peer_all="$peer_all $pq"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
am=$(echo "$acre_all" | median)
pm=$(echo "$peer_all" | median)
printf 'median queries/s: acre %s, dnsmasq %s, ratio %s (target >= 0.9)\n' "$am" "$pm" \
	"$(awk -v a="$am" -v p="$pm" 'BEGIN { printf "%.2f", a / p }')"

# From `acre slice run -d` to the name resolving (polled every 10 ms), five slices.
times=
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	"$bin/acre" slice run -d --name "named-$i" --net bridge -- sleep 3600 >/dev/null
	t1=$(date +%s%N)
	for _ in $(seq 500); do
		[ -n "$(ip netns exec "$ns" dig +short +time=1 +tries=1 @"$gw" "named-$i.acre" 2>/dev/null)" ] && break
		sleep 0.01
	done
	t2=$(date +%s%N)
	times="$times $(((t2 - t0) / 1000000))"
	printf 'named-%d: run returned after %d ms, name resolved after %d ms\n' "$i" \
		$(((t1 - t0) / 1000000)) $(((t2 - t0) / 1000000))
done
printf 'median from run to name resolving: %s ms\n' "$(echo "$times" | median)"
