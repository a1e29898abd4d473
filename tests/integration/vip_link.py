#!/usr/bin/env python3
# The controller's side of the node link, as far as net.vips needs it, for the VIP test
# that runs one supervisor without a pool: it accepts the supervisor's plain-TCP link on
# loopback (--insecure), answers register, sync, heartbeats and updates as the controller
# does, and forwards each JSON line written to its control socket to the node as a request
# (with an id), printing the node's reply back.  The messages themselves are the test's:
# exactly what the controller sends (controller/README.md, "Pool networking").
#
#   vip_link.py serve PORT CONTROL_SOCKET     (background)
#   vip_link.py send CONTROL_SOCKET 'JSON'...  prints the node's replies; 0 if all ok
import json
import os
import socket
import sys
import threading


def serve(port, control):
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(4)
    state = {"conn": None, "next": 1000, "waiting": {}, "lock": threading.Lock()}

    def node_reader(conn):
        buf = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                with state["lock"]:
                    if state["conn"] is conn:
                        state["conn"] = None
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                op = msg.get("op")
                if op is None:  # a reply to one of ours
                    w = state["waiting"].pop(msg.get("id"), None)
                    if w:
                        w[1] = msg
                        w[0].set()
                    continue
                result = {}
                if op == "register":
                    result = {"acked": 0, "heartbeat_ms": 1000}
                elif op == "update":
                    seqs = [u.get("seq", 0) for u in msg.get("updates", [])]
                    result = {"acked": max(seqs) if seqs else 0}
                elif op == "sync":
                    result = {"acked": msg.get("seq", 0)}
                reply = {"id": msg.get("id"), "ok": True, "result": result}
                with state["lock"]:
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                    if op == "sync":
                        state["conn"] = conn

    def acceptor():
        while True:
            conn, _ = lsock.accept()
            threading.Thread(target=node_reader, args=(conn,), daemon=True).start()

    threading.Thread(target=acceptor, daemon=True).start()

    if os.path.exists(control):
        os.unlink(control)
    csock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    csock.bind(control)
    csock.listen(4)
    while True:
        c, _ = csock.accept()
        data = b""
        while not data.endswith(b"\n"):
            chunk = c.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        msg = json.loads(data)
        with state["lock"]:
            conn = state["conn"]
            state["next"] += 1
            msg["id"] = state["next"]
            ev = [threading.Event(), None]
            state["waiting"][msg["id"]] = ev
            if conn:
                conn.sendall(json.dumps(msg).encode() + b"\n")
        if conn and ev[0].wait(5):
            c.sendall(json.dumps(ev[1]).encode() + b"\n")
        else:
            c.sendall(b'{"ok": false, "error": {"message": "no node linked"}}\n')
        c.close()


def send(control, texts):
    """Each message in turn, each after the node answered the one before."""
    rc = 0
    for text in texts:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(control)
        s.sendall(text.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
        s.close()
        print(buf.decode().strip())
        if json.loads(buf).get("ok") is not True:
            rc = 1
    return rc


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(send(sys.argv[2], sys.argv[3:]))
