#!/bin/bash
# A task starts with every capability set empty (inheritable, permitted,
# effective, bounding, ambient), NoNewPrivs 1 and seccomp in filter mode
# (2); --cap NAME grants exactly that capability, to root and, through the
# ambient set, to --user nobody.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

status_of() { # status_of RUN-FLAGS...: the task's /proc/self/status lines of interest
	acre slice run --rm "$@" -- grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' \
		/proc/self/status
}
field() { # field STATUS NAME
	awk -v k="$2:" '$1 == k { print $2 }' <<<"$1"
}
expect_status() { # expect_status WHAT CAPS-HEX [RUN FLAGS...]
	local what=$1 caps=$2 st f
	shift 2
	st=$(status_of "$@") || fail "$what: run failed: $st"
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		assert_eq "$(field "$st" $f)" "$caps" "$f $what"
	done
	assert_eq "$(field "$st" NoNewPrivs)" 1 "NoNewPrivs $what"
	assert_eq "$(field "$st" Seccomp)" 2 "Seccomp $what"
}

none=0000000000000000
net_bind=0000000000000400 # 1 << CAP_NET_BIND_SERVICE (10)

expect_status "as root, default" $none
expect_status "as nobody" $none --user nobody
expect_status "as root with --cap NET_BIND_SERVICE" $net_bind --cap NET_BIND_SERVICE
expect_status "as nobody with --cap NET_BIND_SERVICE" $net_bind --user nobody --cap NET_BIND_SERVICE

# The capabilities are real: in the host's network namespace (where the
# host's ip_unprivileged_port_start stands, 1024 by default) binding a port
# below 1024 needs CAP_NET_BIND_SERVICE.  Port 1023: rarely anything's own.
bind_low='import socket; s = socket.socket(); s.bind(("127.0.0.1", 1023)); print("bound")'
if [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" -gt 1023 ]; then
	out=$(acre slice run --rm --net host --user nobody -- python3 -c "$bind_low" 2>&1)
	assert_contains "$out" "Permission denied" "binding port 1023 on the host's network as nobody without --cap"
	out=$(acre slice run --rm --net host --user nobody --cap NET_BIND_SERVICE -- python3 -c "$bind_low" 2>&1)
	assert_eq "$out" bound "binding port 1023 on the host's network as nobody with --cap NET_BIND_SERVICE"
	# Root without capabilities is just another user.
	out=$(acre slice run --rm --net host -- python3 -c "$bind_low" 2>&1)
	assert_contains "$out" "Permission denied" "binding port 1023 on the host's network as root without capabilities"
fi
# In a network namespace of the slice's own any user binds any port, as in Docker.
out=$(acre slice run --rm --user nobody -- python3 -c "$bind_low" 2>&1)
assert_eq "$out" bound "binding port 1023 in the slice's own network namespace as nobody"

# An unknown capability is refused before anything is created.
rc=0
err=$(acre slice run --rm --cap NO_SUCH_CAP -- true 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status for --cap NO_SUCH_CAP"
assert_contains "$err" "--cap NO_SUCH_CAP" "error for --cap NO_SUCH_CAP"
