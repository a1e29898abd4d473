#!/bin/bash
# A default slice has a network namespace of its own with only lo, up: a
# listener on the host's loopback and an abstract Unix socket of the host
# are unreachable from it; with --net host both are reachable.
. "$(dirname "$0")/lib.sh"
require ip
start_supervisor

# The host's listeners: TCP on 127.0.0.1 (a free port) and an abstract Unix socket.
abstract=acre-test-$RANDOM$RANDOM
spawn_bg python3 -c '
import os, socket, sys, threading
tcp = socket.socket()
tcp.bind(("127.0.0.1", 0))
tcp.listen(16)
uds = socket.socket(socket.AF_UNIX)
uds.bind("\0" + sys.argv[2])
uds.listen(16)
def serve(s):
    while True:
        c, _ = s.accept()
        c.sendall(b"hello from the host\n")
        c.close()
threading.Thread(target=serve, args=(uds,), daemon=True).start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(tcp.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
serve(tcp)
' "$TEST_DIR/port" "$abstract"
wait_for "[ -s '$TEST_DIR/port' ]" 10 || fail "the host listener did not start"
port=$(cat "$TEST_DIR/port")

# Reachable from the host itself, or the test proves nothing.
dial='
import socket, sys
def attempt(what, family, addr):
    s = socket.socket(family)
    s.settimeout(3)
    try:
        s.connect(addr)
        print(what, "REACHED", s.recv(100).decode().strip())
    except OSError as e:
        print(what, "unreachable", e.__class__.__name__)
attempt("tcp", socket.AF_INET, ("127.0.0.1", int(sys.argv[1])))
attempt("abstract", socket.AF_UNIX, "\0" + sys.argv[2])
'
out=$(python3 -c "$dial" "$port" "$abstract")
assert_contains "$out" "tcp REACHED hello from the host" "the host listener, from the host"
assert_contains "$out" "abstract REACHED hello from the host" "the abstract socket, from the host"

# Default slice: unreachable.
out=$(acre slice run --rm -- python3 -c "$dial" "$port" "$abstract" 2>&1)
log "default: $out"
assert_contains "$out" "tcp unreachable" "the host's loopback listener from a default slice"
assert_contains "$out" "abstract unreachable" "the host's abstract socket from a default slice"
assert_not_contains "$out" "REACHED" "the host's listeners from a default slice"

# Only lo, and it is up (a server inside can be reached inside).
ifaces=$(acre slice run --rm -- sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
assert_eq "$ifaces" lo "interfaces in /proc/net/dev of a default slice"
out=$(acre slice run --rm -- ip -o link show)
assert_eq "$(wc -l <<<"$out")" 1 "ip link in a default slice: $out"
assert_contains "$out" "1: lo:" "ip link in a default slice"
assert_contains "$out" "UP" "lo in a default slice"
assert_contains "$(acre slice run --rm -- ip -o addr show dev lo)" "inet 127.0.0.1/8" "ip addr of lo in a default slice"
out=$(acre slice run --rm -- python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=3)
a, _ = s.accept(); a.sendall(b"ok"); print("loopback", c.recv(2).decode())
' 2>&1)
assert_eq "$out" "loopback ok" "a connection over the slice's own lo"

# --net none is the default, said explicitly.
out=$(acre slice run --rm --net none -- python3 -c "$dial" "$port" "$abstract" 2>&1)
assert_not_contains "$out" "REACHED" "the host's listeners from a --net none slice"

# --net host: both reachable, the host's interfaces visible.
out=$(acre slice run --rm --net host -- python3 -c "$dial" "$port" "$abstract" 2>&1)
log "host: $out"
assert_contains "$out" "tcp REACHED hello from the host" "the host's listener from a --net host slice"
assert_contains "$out" "abstract REACHED hello from the host" "the host's abstract socket from a --net host slice"
host_ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort)
assert_eq "$(acre slice run --rm --net host -- sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '" | sort)" \
	"$host_ifaces" "interfaces of a --net host slice"

rc=0
err=$(acre slice run --rm --net bogus -- true 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of --net bogus"
assert_contains "$err" "--net" "error of --net bogus"
