# Shared by the benchmarks that run a supervisor of their own (dns.sh, net-bridge.sh,
# vip.sh); sourced after they set $bin (build/bin) and $sv (the supervisor's pid, or empty).

# Every slice of the supervisor removed, then the supervisor stopped: what a benchmark's
# cleanup does first, so its cgroups and veths go with a clean stop.
bench_stop_supervisor() {
	[ -n "${sv:-}" ] || return 0
	local s
	for s in $("$bin/acre" -j slice list 2>/dev/null | python3 -c \
		'import json,sys; [print(s["name"]) for s in json.load(sys.stdin)]'); do
		"$bin/acre" slice rm --force "$s" >/dev/null 2>&1
	done
	kill "$sv" 2>/dev/null
	wait "$sv" 2>/dev/null
}

# The address of a bridged slice (its network.address without the prefix length).
bench_slice_addr() {
	"$bin/acre" -j slice show "$1" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["network"]["address"].split("/")[0])'
}

# The throughput an iperf3 -J report says its receiver got, in Gbit/s.
bench_gbit() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9)' "$1"
}
