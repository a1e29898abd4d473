#!/bin/bash
# Who may use the supervisor's socket: root, or members of its --group.
# Another user is refused with a permission message (by the file mode, and
# by SO_PEERCRED when the file mode lets it through); a process inside a
# slice does not even see the socket, and, given a path to it anyway, is
# refused although it is root.
. "$(dirname "$0")/lib.sh"
require setpriv
start_supervisor --prelaunch 0

as_user() { # as_user UID GID [GROUPS] -- CMD...
	local uid=$1 gid=$2 groups=--clear-groups
	shift 2
	if [ "$1" != -- ]; then
		groups=--groups=$1
		shift
	fi
	shift
	setpriv --reuid="$uid" --regid="$gid" "$groups" -- "$@"
}

# Root works.
acre slice list >/dev/null || fail "acre slice list as root"
acre slice run --rm -- true || fail "acre slice run as root"

# nobody is refused: the socket's file mode alone keeps it out.
ls -l "$ACRE_SOCKET"
rc=0
err=$(as_user 65534 65534 -- "$ACRE_BIN/acre" slice list 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of acre slice list as nobody"
assert_contains "$err" "ermission denied" "error of acre slice list as nobody"

# With the file mode opened up, SO_PEERCRED still refuses it.
chmod 0711 "$(dirname "$ACRE_SOCKET")"
chmod 0666 "$ACRE_SOCKET"
for cmd in "slice list" "slice run --rm -- true" "slice show x"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(as_user 65534 65534 -- "$ACRE_BIN/acre" $cmd 2>&1) || rc=$?
	assert_eq "$rc" 1 "exit status of acre $cmd as nobody, socket mode 0666"
	# The refusal itself, not a broken pipe from the close that follows it.
	assert_contains "$err" "ermission denied" "error of acre $cmd as nobody, socket mode 0666"
done
assert_eq "$(acre -j slice list)" "[]" "slices after the refused requests"
grep -q 'event=client_refused.*uid=65534' "$SUP_LOG" || fail "no client_refused uid=65534 in the log"

# --group: its members are admitted (primary or supplementary), others are not.
stop_supervisor || fail "stopping the supervisor"
SUP_ARGS+=(--group nogroup)
restart_supervisor
chmod 0711 "$(dirname "$ACRE_SOCKET")"
assert_eq "$(stat -c '%a %G' "$ACRE_SOCKET")" "660 nogroup" "mode and group of the socket with --group nogroup"
as_user 65534 65534 -- "$ACRE_BIN/acre" slice list >/dev/null ||
	fail "acre slice list by a member (primary group) of --group nogroup"
as_user 4242 4242 65534 -- "$ACRE_BIN/acre" slice list >/dev/null ||
	fail "acre slice list by a member (supplementary group) of --group nogroup"
rc=0
err=$(as_user 4242 4242 -- "$ACRE_BIN/acre" slice list 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of a non-member with --group nogroup"
assert_contains "$err" "ermission denied" "error of a non-member with --group nogroup"

# Inside a slice the socket is not there ...
out=$(acre slice run --rm -- sh -c "ls -la $(dirname "$ACRE_SOCKET") $ACRE_SOCKET 2>&1; ls -A /run")
assert_contains "$out" "'$ACRE_SOCKET': No such file or directory" "the socket seen from a slice"
out=$(acre slice run --rm --net host -- python3 -c "
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('$ACRE_SOCKET'); print('CONNECTED')
except OSError as e:
    print('refused', e.strerror)
")
assert_contains "$out" "refused No such file or directory" "connecting to the socket from a slice"

# ... and root inside a slice that is handed a path to it anyway is refused.
require cc
[ -n "$RUN_DIR" ] || skip "no writable /run to put a rootfs next to the socket"
cc -static -O1 -o "$TEST_DIR/uds_request" "$ACRE_TEST_LIB/uds_request.c" 2>"$TEST_DIR/cc.err" ||
	skip "cannot build a static binary: $(tail -n 1 "$TEST_DIR/cc.err")"
rootfs=$RUN_DIR/rootfs # on the socket's filesystem, for a hard link
mkdir -p "$rootfs/bin"
cp "$TEST_DIR/uds_request" "$rootfs/bin/"
ln "$ACRE_SOCKET" "$rootfs/acre.sock" || fail "hard link of the socket"
out=$(uds_request=1 "$rootfs/bin/uds_request" "$rootfs/acre.sock" '{"op":"ping","id":1}')
assert_contains "$out" '"ok":true' "ping through the hard link, from the host"
for net in none host; do
	rc=0
	out=$(acre slice run --rm --net $net --rootfs "$rootfs" -- /bin/uds_request /acre.sock \
		'{"op":"slice.list","id":1}' 2>&1) || rc=$?
	log "from a slice (--net $net): $out"
	assert_not_contains "$out" '"ok":true' "a request from inside a slice (--net $net)"
	assert_contains "$out" "ermission denied" "a request from inside a slice (--net $net)"
done
