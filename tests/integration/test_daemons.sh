#!/bin/bash
# Stock Debian daemons by their bare names, as an operator starts them:
# `--rw` on the host root gives the slice a copy-on-write root (an overlay
# over /, its writes in a tmpfs of its own under the state directory), and a
# slice's own network namespace lets it listen below 1024 without
# CAP_NET_BIND_SERVICE.  nginx with the stock configuration answers on port
# 80 at the slice's address from the node, with the capabilities it needs to
# drop to www-data (setuid, setgid), to hand it the temporary directories it
# makes (chown) and to open the logs www-data owns (dac_override); the
# host's /var/lib/nginx stays as it was.  redis-server saves its dump in /
# and answers; haproxy -f serves on 80 (each skipped if not installed).
# Each layer is gone after `slice rm`, and one whose slice has no record
# any more (a crash mid-removal) at the next start.  Without --rw the root stays
# read-only; --net none binds 80 with no capability; a --net host slice
# leaves the host's ip_unprivileged_port_start as it is.
. "$(dirname "$0")/lib.sh"
require ip curl python3 nsenter
command -v nginx >/dev/null || fail "nginx is not installed (make deps installs nginx-light)"
ns=${CGROOT#acre-}
make_netns "$ns"
# nsenter, not ip netns exec: the latter mounts a new /sys, hiding the cgroup hierarchies.
# shellcheck disable=SC2034 # read by launch_supervisor (lib.sh)
SUP_WRAP=(nsenter --net="/run/netns/$ns")
start_supervisor --slice-cidr 198.19.251.0/24 --bridge "acrd$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
in_node() { nsenter --net="/run/netns/$ns" "$@"; }
addr_of() { slice_field "$1" .network.address | cut -d/ -f1; }
layer_of() { echo "$STATE_DIR/rwroot/$1"; }
# Until CHECK succeeds or the slice is over (no point waiting then).
wait_serving() { # wait_serving NAME CHECK
	wait_for "$2 || ! [[ \$(slice_state $1) =~ ^(starting|running)\$ ]]" 10
	eval "$2" || fail "$1 does not answer: state $(slice_state "$1"), $(slice_field "$1" .reason)," \
		"its output: $(acre slice logs "$1" 2>&1 | tail -n 5); neighbours: $(in_node ip neigh); ${3:+$(eval "$3" 2>&1)}"
}
listing() { find "$1" -printf '%p %m %u %s %T@\n' 2>&1 | sort; }

# ---- the root is read-only without --rw ------------------------------------------------
out=$(acre slice run --rm -- sh -c 'mkdir /var/lib/nginx/probe; echo status=$?' 2>&1)
assert_contains "$out" "Read-only file system" "mkdir in the host root without --rw"

# ---- nginx, stock configuration, port 80 -----------------------------------------------
host_before=$(listing /var/lib/nginx)
acre slice run -d --name web --net bridge --rw --cap setuid --cap setgid --cap chown --cap dac_override -- \
	nginx -g 'daemon off;' >/dev/null || fail "acre slice run -d ... -- nginx -g 'daemon off;'"
web=$(addr_of web)
[[ $web == 198.19.251.* ]] || fail "the nginx slice's address: '$web'"
web_serves() { in_node curl -sf --max-time 1 -o /dev/null "http://$web/"; }
wait_serving web web_serves
page=$(in_node curl -sf --max-time 2 "http://$web/")
assert_contains "$page" "nginx" "the page nginx serves on $web:80"
layer=$(layer_of web)
mountpoint -q "$layer" || fail "the writable layer $layer is not mounted"
[ -d "$layer/upper/var/lib/nginx" ] || fail "what nginx wrote is not in its layer: $(find "$layer/upper" | head)"
assert_eq "$(listing /var/lib/nginx)" "$host_before" "the host's /var/lib/nginx while nginx runs"
[ -e /var/lib/nginx/body ] && fail "nginx's /var/lib/nginx/body reached the host"

# ---- --net none: port 80 in its own namespace, no capability -----------------------------
out=$(acre slice run --rm --net none -- python3 -c \
	'import socket; s = socket.socket(); s.bind(("127.0.0.1", 80)); print("bound 80")' 2>&1)
assert_eq "$out" "bound 80" "binding port 80 without capabilities under --net none"
# --net host: the host's namespace keeps its privileged ports.
host_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
out=$(acre slice run --rm --net host -- cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>&1)
assert_eq "$out" "$host_start" "ip_unprivileged_port_start seen by a --net host slice"
assert_eq "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" "$host_start" \
	"the host's ip_unprivileged_port_start"

# ---- redis-server, saving in / ----------------------------------------------------------
redis_ask() { # redis_ask ADDR COMMAND: one inline command, the first line of the reply
	in_node python3 -c 'import socket, sys
s = socket.create_connection((sys.argv[1], 6379), 1)
s.sendall(sys.argv[2].encode() + b"\r\n")
print(s.recv(100).decode().splitlines()[0])' "$1" "$2"
}
if command -v redis-server >/dev/null; then
	acre slice run -d --name cache --net bridge --rw -- redis-server --protected-mode no \
		>/dev/null || fail "acre slice run -d ... -- redis-server"
	cache=$(addr_of cache)
	log "redis on $cache:6379"
	# shellcheck disable=SC2016 # evaluated by wait_serving
	wait_serving cache '[ "$(redis_ask "$cache" PING 2>/dev/null)" = +PONG ]' 'redis_ask "$cache" PING'
	assert_eq "$(redis_ask "$cache" SAVE)" +OK "SAVE (dump.rdb in the slice's /)"
	[ -e /dump.rdb ] && fail "redis's dump.rdb reached the host's /"
else
	log "redis-server is not installed: its part is skipped"
fi

# ---- haproxy -f, port 80 -------------------------------------------------------------------
if command -v haproxy >/dev/null; then
	conf_dir=$(mktemp -d /var/tmp/acre-test.XXXXXX) || fail "mktemp in /var/tmp"
	record "dir $conf_dir"
	CLEAN_PATHS+=("$conf_dir")
	chmod 755 "$conf_dir"
	cat >"$conf_dir/haproxy.cfg" <<'CFG'
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend web
	bind :80
	http-request return status 200 content-type text/plain string "served by haproxy\n"
CFG
	chmod 644 "$conf_dir/haproxy.cfg"
	acre slice run -d --name lb --net bridge --rw -- haproxy -f "$conf_dir/haproxy.cfg" \
		>/dev/null || fail "acre slice run -d ... -- haproxy -f"
	# shellcheck disable=SC2034,SC2016 # read by the check wait_serving evaluates
	lb=$(addr_of lb)
	wait_serving lb '[ "$(in_node curl -sf --max-time 1 "http://$lb/" 2>/dev/null)" = "served by haproxy" ]'
else
	log "haproxy is not installed: its part is skipped"
fi

# ---- slice rm takes each layer along ----------------------------------------------------------
# The daemons ran side by side, each at an address of its own: a bridged slice's address
# handed out again at once is not always reachable from the node at once.
for name in web cache lb; do
	[ "$(slice_state "$name" 2>/dev/null)" ] || continue
	[ -e "$(layer_of "$name")" ] || fail "$name has no writable layer while it exists"
	acre slice rm --force "$name" >/dev/null || fail "acre slice rm --force $name"
	[ -e "$(layer_of "$name")" ] && fail "the writable layer of $name outlived slice rm"
done
assert_eq "$(listing /var/lib/nginx)" "$host_before" "the host's /var/lib/nginx after slice rm"
[ -z "$(ls -A "$STATE_DIR/rwroot" 2>/dev/null)" ] || fail "layers left: $(ls "$STATE_DIR/rwroot")"

# ---- a layer whose slice is gone (a crash mid-removal) goes at the next start ----------------
acre slice run -d --name orphan --rw -- sleep 1000 >/dev/null || fail "acre slice run -d --name orphan"
[ -e "$(layer_of orphan)" ] || fail "the orphan-to-be has no writable layer"
kill_supervisor
rm -rf "$STATE_DIR/slices/orphan" # its record went first, as slice_destroy does it
restart_supervisor
wait_for "! [ -e '$(layer_of orphan)' ]" 5 || fail "the layer of a slice without a record stayed"
[ -z "$(ls -A "$STATE_DIR/rwroot" 2>/dev/null)" ] || fail "layers left: $(ls "$STATE_DIR/rwroot")"
