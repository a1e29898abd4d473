#!/usr/bin/env bash
# bench/pkg: `acre pkg install` to ready and `acre pkg uninstall` to nothing left, for four
# shipped packages (their defaults; nginx with --set instances=10) on the pool of
# tests/integration/apps_lib.sh (a controller and three supervisors in network namespaces,
# TLS, addresses in 198.18.0.0/15, the pool's in 198.19.0.0/16), each ready by a probe:
#   zookeeper  3 members   `srvr` says leader or follower on all three
#   etcd       3 members   `etcdctl endpoint health`: all three healthy
#   redis      1           `redis-cli ping`: PONG
#   nginx      10          `curl` of each of the ten: 200
# The floor, in the same run: the same command with the same environment (read from the
# install's app spec: its env, ACRE_INSTANCE, PORT_<NAME>, HOSTNAME), as the same user,
# every instance started at once by hand, each in a network namespace of its own on the
# pool's bridge with a private /tmp, its volume's path on a fresh directory, the host's
# root read-only and the members' stable names (NAME-N.acre) in an /etc/hosts of its own;
# no limits.  The probe runs in node 1's namespace every 100 ms, against the instances'
# addresses, for both.
# acre's time runs to both `pkg install` returning (the install running: every instance
# healthy by its own checks) and the probe answering; each is printed too.
# Uninstall: from `acre pkg uninstall` until no install, app, slice, volume or cgroup of
# it is left on any node; the floor: SIGTERM to every process, SIGKILL after 2 s (the
# pool's --stop-timeout), until none is left in the namespaces and their directories are
# removed.  Which goes first alternates by round.
# Prints each round, then the median and min of each and the ratio of the medians.
# Usage: [REPEAT=N] [PKGS=zookeeper,etcd,redis,nginx] bench/pkg.sh
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repeat=${REPEAT:-3}
pkgs=${PKGS:-zookeeper,etcd,redis,nginx}
ACRE_TEST_BIN=${ACRE_TEST_BIN:-$here/build/bin}
# shellcheck source=../tests/integration/apps_lib.sh
. "$here/tests/integration/apps_lib.sh"

apps_pool
require java etcdctl redis-cli nginx nc setpriv
N1=acre-test-$RAND_ID-n1
in_n1() { nsenter --net="/run/netns/$N1" -- "$@"; }

# ---- the hand-made floor: ten namespaces on the pool's bridge -------------------------------

HANDS=10
hand_ns() { printf 'acre-test-%s-h%s\n' "$RAND_ID" "$1"; }  # instance N's namespace (0-based)
hand_addr() { printf '%s.%s\n' "$SUBNET" $((21 + $1)); }
HAND_PIDS=()

# Whatever still runs in a hand namespace is killed (nginx's workers too), and the
# namespaces' /etc/netns folders removed; then the pool's own cleanup.
hand_cleanup() {
	local i pid
	for i in $(seq 0 $((HANDS - 1))); do
		[ -e "/run/netns/$(hand_ns "$i")" ] || continue
		for pid in $(ip netns pids "$(hand_ns "$i")" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		rm -rf "/etc/netns/$(hand_ns "$i")"
	done
	rmdir /etc/netns 2>/dev/null
	return 0
}
# shellcheck disable=SC2154 # st is the trap's own
trap 'st=$?; hand_cleanup; (exit $st); cluster_cleanup' EXIT

for i in $(seq 0 $((HANDS - 1))); do
	ns=$(hand_ns "$i")
	ip netns add "$ns" || fail "creating netns $ns"
	NETNS+=("$ns")
	ip -n "$ns" link set lo up
	veth_into "$ns" "$BRIDGE" eth0 "$(hand_addr "$i")/24"
	# As in a slice: any user may bind a port below 1024 (nginx as nobody on 80).
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_unprivileged_port_start=0
	mkdir -p "/etc/netns/$ns"
done

# hand_start SPEC-FILE: each instance of the app spec started by hand, at once; the
# preparation (directories, hosts files) before the clock starts.
hand_start() {
	local spec=$1 n name user uid gid vol i ns dir cmd env ports
	n=$(jq -r .instances "$spec")
	name=$(jq -r .name "$spec")
	user=$(jq -r '.slice.user // "root"' "$spec")
	uid=$(id -u "$user") || fail "no user $user"
	gid=$(id -g "$user")
	vol=$(jq -r '.volumes[0].path // empty' "$spec")
	mapfile -d '' cmd < <(jq -j '.slice.command[] | ., "\u0000"' "$spec")
	mapfile -d '' env < <(jq -j '.slice.env // {} | to_entries[] | "\(.key)=\(.value)\u0000"' "$spec")
	mapfile -d '' ports < <(jq -j '.ports[] | (if type == "string" then . else "\(.name):\(.port)" end)
		| split(":") | "PORT_\(.[0] | ascii_upcase | gsub("-"; "_"))=\(.[1] | split("/")[0])\u0000"' "$spec")
	for i in $(seq 0 $((n - 1))); do
		ns=$(hand_ns "$i")
		dir=$TEST_DIR/hand/$i
		mkdir -p "$dir/tmp" "$dir/vol"
		chmod 1777 "$dir/tmp"
		chown "$uid:$gid" "$dir/vol"
		{
			echo "127.0.0.1 localhost"
			for j in $(seq 0 $((n - 1))); do echo "$(hand_addr "$j") $name-$j.acre $name-$j"; done
		} >"/etc/netns/$ns/hosts"
	done
	HAND_PIDS=()
	for i in $(seq 0 $((n - 1))); do
		dir=$TEST_DIR/hand/$i
		# ip netns exec: a mount namespace of its own (the hosts file bound on /etc/hosts),
		# where the volume's path and /tmp are bound on the instance's directories and the
		# root is read-only, as in a slice (nothing of the host's is written).
		# shellcheck disable=SC2016 # the inner shell's arguments
		ip netns exec "$(hand_ns "$i")" sh -c \
			'set -e; [ -z "$3" ] || mount --bind "$2" "$3"; mount --bind "$1" /tmp
			mount -o remount,bind,ro /; shift 3; exec "$@"' \
			sh "$dir/tmp" "$dir/vol" "$vol" \
			setpriv --reuid "$uid" --regid "$gid" --init-groups env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ \
			HOSTNAME="$name-$i" ACRE_INSTANCE="$i" ACRE_INSTANCES="$n" "${ports[@]}" "${env[@]}" \
			"${cmd[@]}" </dev/null >"$TEST_DIR/hand/$i.log" 2>&1 &
		HAND_PIDS+=($!)
		track_bg $!
	done
}

# hand_stop N: SIGTERM to each, SIGKILL to what is left after the supervisors' own
# --stop-timeout (2 s, cluster_lib.sh's start_node), until nothing runs in the first N
# namespaces; their directories removed.
hand_stop() {
	local n=$1 t0 pid i left killed=""
	t0=$(now_ms)
	for pid in "${HAND_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	while :; do
		left=""
		for i in $(seq 0 $((n - 1))); do left+=" $(ip netns pids "$(hand_ns "$i")")"; done
		[ -z "${left// /}" ] && break
		if [ -z "$killed" ] && [ $(($(now_ms) - t0)) -ge 2000 ]; then
			for pid in $left; do kill -KILL "$pid" 2>/dev/null; done
			killed=1
		fi
		[ $(($(now_ms) - t0)) -lt 30000 ] || fail "the hand-started processes did not stop in 30 s"
		sleep 0.05
	done
	for pid in "${HAND_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	rm -rf "$TEST_DIR/hand"
}

hand_endpoints() { # N PORT
	local i
	for i in $(seq 0 $(($1 - 1))); do echo "$(hand_addr "$i"):$2"; done
}

# ---- the probes, from node 1's namespace ----------------------------------------------------

# probe PACKAGE ADDR:PORT...: whether the instances answer as ready.
probe() {
	local pkg=$1 e eps
	shift
	case $pkg in
	zookeeper)
		for e in "$@"; do
			echo srvr | in_n1 timeout 2 nc -q 1 "${e%:*}" "${e#*:}" 2>/dev/null |
				matches -E '^Mode: (leader|follower)' || return 1
		done
		;;
	etcd)
		eps=$(printf 'http://%s,' "$@")
		[ "$(in_n1 etcdctl --dial-timeout 1s --command-timeout 2s --endpoints "${eps%,}" \
			endpoint health 2>&1 | grep -c 'is healthy')" = $# ]
		;;
	redis) [ "$(in_n1 timeout 2 redis-cli -h "${1%:*}" -p "${1#*:}" ping 2>/dev/null)" = PONG ] ;;
	nginx)
		for e in "$@"; do
			in_n1 curl -sf -o /dev/null --max-time 1 "http://$e/" || return 1
		done
		;;
	esac
}

# ---- acre's rounds ---------------------------------------------------------------------------

# The addresses of an app's instances, once each of the N has one.
acre_endpoints() { # APP N PORT-NAME
	api GET "/v1/apps/$1" | jq -r --argjson n "$2" --arg p "$3" \
		'[.instances_detail[]? | select(.address != null and .ports[$p] != null)
		  | "\(.address):\(.ports[$p])"] | if length == $n then .[] else empty end'
}

# No install, app, slice, volume or cgroup of NAME anywhere.
acre_gone() { # NAME
	local i
	api GET "/v1/installs/$1" >/dev/null
	[ "$(last_code)" = 404 ] || return 1
	api GET "/v1/apps/$1" >/dev/null
	[ "$(last_code)" = 404 ] || return 1
	[ "$(api GET "/v1/slices?label=acre.install=$1" | jq '.slices | length')" = 0 ] || return 1
	for i in 1 2 3; do
		[ "$(node_acre "$i" -j volume list | jq length)" = 0 ] || return 1
		[ -z "$(find /sys/fs/cgroup/*/"$(node_cgroot "$i")" /sys/fs/cgroup/"$(node_cgroot "$i")" \
			-mindepth 1 -type d 2>/dev/null)" ] || return 1
	done
}

# acre_round PACKAGE NAME N PORT-NAME [--set K=V...]: sets A_READY, A_INSTALLED, A_PROBED
# and A_GONE, in ms.
acre_round() {
	local pkg=$1 name=$2 n=$3 port=$4 t0 tp="" ti="" eps=() ipid rc tu
	shift 4
	t0=$(now_ms)
	(
		pool pkg install "$pkg" --name "$name" "$@" >"$TEST_DIR/install-$name" 2>&1
		echo "$? $(now_ms)" >"$TEST_DIR/install-$name.end"
	) &
	ipid=$!
	track_bg "$ipid"
	while :; do
		[ -z "$ti" ] && [ -s "$TEST_DIR/install-$name.end" ] && {
			read -r rc ti <"$TEST_DIR/install-$name.end"
			[ "$rc" = 0 ] || fail "pkg install $pkg: $(cat "$TEST_DIR/install-$name")"
		}
		if [ -z "$tp" ]; then
			[ ${#eps[@]} -eq "$n" ] || mapfile -t eps < <(acre_endpoints "$name" "$n" "$port")
			[ ${#eps[@]} -eq "$n" ] && probe "$pkg" "${eps[@]}" && tp=$(now_ms)
		fi
		[ -n "$tp" ] && [ -n "$ti" ] && break
		[ $(($(now_ms) - t0)) -lt 300000 ] ||
			fail "$pkg not ready after 300 s: $(api GET "/v1/installs/$name" | jq -c .)"
		sleep 0.1
	done
	wait "$ipid" 2>/dev/null
	api GET "/v1/apps/$name" | jq .spec >"$TEST_DIR/spec-$pkg.json"
	tu=$(now_ms)
	pool pkg uninstall "$name" >"$TEST_DIR/uninstall-$name" 2>&1 ||
		fail "pkg uninstall $name: $(cat "$TEST_DIR/uninstall-$name")"
	wait_for "acre_gone $name" 120 || fail "$name: something is left after the uninstall"
	A_GONE=$(($(now_ms) - tu))
	A_READY=$((tp > ti ? tp - t0 : ti - t0))
	A_INSTALLED=$((ti - t0))
	A_PROBED=$((tp - t0))
}

# hand_round PACKAGE N PORT: sets H_READY and H_GONE, in ms.
hand_round() {
	local pkg=$1 n=$2 port=$3 t0 eps
	mapfile -t eps < <(hand_endpoints "$n" "$port")
	hand_start "$TEST_DIR/spec-$pkg.json"
	t0=$(now_ms)
	until probe "$pkg" "${eps[@]}"; do
		[ $(($(now_ms) - t0)) -lt 300000 ] || fail "$pkg by hand not ready after 300 s: $(tail -n 5 "$TEST_DIR"/hand/*.log)"
		sleep 0.1
	done
	H_READY=$(($(now_ms) - t0))
	t0=$(now_ms)
	hand_stop "$n"
	H_GONE=$(($(now_ms) - t0))
}

# ---- the rounds -----------------------------------------------------------------------------

results=$TEST_DIR/results
: >"$results"
s() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }

bench() { # PACKAGE N PORT-NAME PORT [--set K=V...]
	local pkg=$1 n=$2 port_name=$3 port=$4 r
	shift 4
	for r in $(seq "$repeat"); do
		# acre first in odd rounds: the first also gives the floor its app spec.
		if [ $((r % 2)) = 1 ]; then
			acre_round "$pkg" "${pkg:0:4}$r" "$n" "$port_name" "$@"
			hand_round "$pkg" "$n" "$port"
		else
			hand_round "$pkg" "$n" "$port"
			acre_round "$pkg" "${pkg:0:4}$r" "$n" "$port_name" "$@"
		fi
		echo "$pkg $A_READY $A_INSTALLED $A_PROBED $A_GONE $H_READY $H_GONE" >>"$results"
		printf '%s round %d: ready: acre %s (install returned %s, probe %s), by hand %s; uninstalled: acre %s, by hand %s\n' \
			"$pkg" "$r" "$(s "$A_READY")" "$(s "$A_INSTALLED")" "$(s "$A_PROBED")" "$(s "$H_READY")" \
			"$(s "$A_GONE")" "$(s "$H_GONE")"
	done
}

IFS=, read -ra wanted <<<"$pkgs"
for p in "${wanted[@]}"; do
	case $p in
	zookeeper) bench zookeeper 3 client 2181 ;;
	etcd) bench etcd 3 client 2379 ;;
	redis) bench redis 1 redis 6379 ;;
	nginx) bench nginx 10 http 80 --set instances=10 ;;
	*) fail "PKGS: no benchmark for $p (zookeeper, etcd, redis, nginx)" ;;
	esac
done

echo
# Median and min of each column, per package; the ratio of the medians.
awk -v what="$pkgs" '
function med(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function mn(a, n,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
{ n[$1]++; for (c = 2; c <= 7; c++) v[$1, c, n[$1]] = $c }
END {
	label["zookeeper"] = "zookeeper (3 members)"; label["etcd"] = "etcd (3 members)"
	label["redis"] = "redis"; label["nginx"] = "nginx x10"
	k = split(what, order, ",")
	for (o = 1; o <= k; o++) {
		p = order[o]
		if (!(p in n)) continue
		for (c = 2; c <= 7; c++) {
			for (i = 1; i <= n[p]; i++) col[i] = v[p, c, i]
			m[c] = med(col, n[p]) / 1000; lo[c] = mn(col, n[p]) / 1000
		}
		printf "%s, install to ready, %d rounds: acre median %.2f s (min %.2f; install returned %.2f, probe %.2f), by hand median %.2f s (min %.2f); ratio acre/by hand %.1f\n",
			label[p], n[p], m[2], lo[2], m[3], m[4], m[6], lo[6], m[2] / m[6]
		printf "%s, uninstall to nothing left: acre median %.2f s (min %.2f), by hand (SIGTERM, SIGKILL after 2 s, until no process) median %.2f s (min %.2f); ratio %.1f\n",
			label[p], m[5], lo[5], m[7], lo[7], m[5] / m[7]
	}
}' "$results"
