#!/bin/bash
# Bad input never crashes or blocks the supervisor.  On the socket: a line
# over 1 MiB, invalid JSON, invalid UTF-8, an unknown op, wrong types --
# each gets an error reply naming the problem, while a second client
# connected throughout keeps getting answers and a client stalled in the
# middle of a line blocks nobody.  On the command line: flag errors exit 1
# with one line naming the flag and create nothing.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0

python3 - "$ACRE_SOCKET" "$(scaled 5)" <<'EOF_PY' || fail "socket checks failed"
import json, socket, sys, time

path, timeout = sys.argv[1], float(sys.argv[2])
failures = []

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s

class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""
    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

def check(what, cond, detail):
    print(("ok   " if cond else "FAIL ") + what + ": " + detail)
    if not cond:
        failures.append(what)

def ping(sock, reader, n):
    sock.sendall(b'{"op":"ping","id":%d}\n' % n)
    r = reader.line()
    return r.get("ok") is True and r.get("id") == n

# Connected throughout: pings between every bad request.
watcher = connect()
wr = Reader(watcher)
check("ping before", ping(watcher, wr, 1), "")

# Stalls in the middle of a line for the whole test.
staller = connect()
staller.sendall(b'{"op":"ping","i')

def bad(what, payload, want_id, words, field=None):
    s = connect()
    r = Reader(s)
    s.sendall(payload)
    try:
        reply = r.line()
    except (EOFError, OSError, ValueError) as e:
        check(what, False, "no error reply: %r" % e)
        s.close()
        return
    err = reply.get("error") or {}
    msg = str(err.get("message", ""))
    ok = (reply.get("ok") is False and isinstance(err, dict) and err.get("code")
          and msg and all(w.lower() in msg.lower() for w in words)
          and reply.get("id") == want_id and (field is None or err.get("field") == field))
    check(what, ok, json.dumps(reply)[:300])
    s.close()
    check("ping after " + what, ping(watcher, wr, 100 + len(what)), "")

big = b'{"op":"ping","id":1,"pad":"' + b"x" * (1 << 20) + b'"}\n'
bad("line over 1 MiB", big, None, ["long"])
bad("invalid JSON", b'{"op": ping, "id": 2}\n', None, ["JSON"])
bad("truncated JSON", b'{"op":"ping","id":3\n', None, ["JSON"])
bad("invalid UTF-8", b'{"op":"ping","id":4,"x":"\xff\xfe\xc3"}\n', None, ["UTF-8"])
bad("not an object", b'[1,2,3]\n', None, ["object"])
bad("no op", b'{"id":5}\n', 5, ["op"], "op")
bad("op not a string", b'{"op":5,"id":6}\n', 6, ["op"], "op")
bad("no id", b'{"op":"ping"}\n', None, ["id"], "id")
bad("unknown op", b'{"op":"slice.explode","id":7}\n', 7, ["slice.explode"], "op")
bad("spec not an object", b'{"op":"slice.run","id":8,"spec":5,"detach":true}\n', 8, ["spec"])
bad("name not a string", b'{"op":"slice.show","id":9,"name":3}\n', 9, ["name"], "name")
bad("detach not a boolean", b'{"op":"slice.run","id":10,"detach":"yes","spec":{"command":["true"]}}\n',
    10, ["detach"], "detach")
bad("memory 12Q", b'{"op":"slice.run","id":11,"detach":true,'
    b'"spec":{"command":["true"],"resources":{"memory":"12Q"}}}\n', 11, ["memory", "unit"])
bad("cpus a string", b'{"op":"slice.run","id":12,"detach":true,'
    b'"spec":{"command":["true"],"resources":{"cpus":"lots"}}}\n', 12, ["cpus"])
bad("command not an array", b'{"op":"slice.run","id":13,"detach":true,"spec":{"command":"true"}}\n',
    13, ["command"])
bad("unknown spec field", b'{"op":"slice.run","id":14,"detach":true,'
    b'"spec":{"command":["true"],"bogus":1}}\n', 14, ["bogus"])
bad("unknown argument", b'{"op":"slice.list","id":15,"bogus":1}\n', 15, ["bogus"])
bad("stat names not an array", b'{"op":"slice.stat","id":16,"names":"x"}\n', 16, ["names"])
bad("kill without a name", b'{"op":"slice.kill","id":17}\n', 17, ["name"], "name")
bad("foreground run without fds", b'{"op":"slice.run","id":18,"spec":{"command":["true"]}}\n',
    18, ["stdin"], "stdio")

# Several requests in one write, and a request split over many writes.
s = connect(); r = Reader(s)
s.sendall(b'{"op":"ping","id":21}\n{"op":"nope","id":22}\n{"op":"ping","id":23}\n')
ids = [r.line().get("id") for _ in range(3)]
check("pipelined requests", ids == [21, 22, 23], repr(ids))
for b in b'{"op":"ping","id":24}\n':
    s.send(bytes([b]))
check("byte-by-byte request", r.line().get("id") == 24, "")
s.close()

# A client that vanishes mid-line and one that closes at once.
for payload in (b'{"op":"slice.li', b''):
    s = connect(); s.sendall(payload); s.close()

# The staller still blocks nobody: fresh clients are served ...
s = connect(); r = Reader(s)
check("a new client while one stalls", ping(s, r, 31), "")
s.close()
check("the long-connected client", ping(watcher, wr, 32), "")
# ... and the staller itself is served once its line is complete.
staller.sendall(b'd":33}\n')
check("the staller, once its line is complete", Reader(staller).line().get("id") == 33, "")
sys.exit(1 if failures else 0)
EOF_PY

kill -0 "$SUP_PID" 2>/dev/null || fail "the supervisor died"
assert_eq "$(acre -j slice list)" "[]" "slices after the bad requests"
assert_eq "$(cgroup_children | wc -l)" 0 "cgroups after the bad requests"

# ---- command-line flags: one line naming the flag, exit 1, nothing created -------------
check_flag() { # check_flag EXPECTED-MESSAGE FLAGS...
	local want=$1 rc=0 err
	shift
	err=$(acre slice run --rm "$@" -- true 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit status of acre slice run $*"
	assert_contains "$err" "$want" "error of acre slice run $*"
	assert_eq "$(wc -l <<<"$err")" 1 "lines of error for acre slice run $*: $err"
}
check_flag "--memory 12Q: unknown unit" --memory 12Q
check_flag "--memory" --memory -5M
check_flag "--cpus abc" --cpus abc
check_flag "--cpus 0" --cpus 0
check_flag "cpus" --cpus 100000
check_flag "--pids 0" --pids 0
check_flag "--restart" --restart sometimes
check_flag "--name bad/name" --name bad/name
check_flag "--cwd relative" --cwd relative
check_flag "--rootfs /nonexistent" --rootfs /nonexistent
check_flag "--seccomp /nonexistent" --seccomp /nonexistent
check_flag "--net-rate 12Q" --net-rate 12Q
check_flag "nosuchuser" --user nosuchuser
check_flag "--cap NO_SUCH" --cap NO_SUCH
rc=0
err=$(acre slice run --rm 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of acre slice run without a command"
assert_contains "$err" "command" "error of acre slice run without a command"
rc=0
err=$(acre slice frobnicate 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of an unknown command"
assert_contains "$err" "frobnicate" "error of an unknown command"

kill -0 "$SUP_PID" 2>/dev/null || fail "the supervisor died"
assert_eq "$(acre -j slice list)" "[]" "slices after the refused flags"
assert_eq "$(cgroup_children | wc -l)" 0 "cgroups after the refused flags"
assert_eq "$(find "$STATE_DIR/slices" -mindepth 1 | wc -l)" 0 "state entries after the refused flags"
