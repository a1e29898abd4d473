#!/bin/bash
# A bare command is looked up in the slice's PATH, as the task's environment
# has it (the default one, or the one --env gives), not in acre-init's own:
# sysctl from /usr/sbin runs, and a bare `nginx` starts and serves on
# loopback; --env PATH=DIR finds a command in DIR and nowhere else; as
# execvp(3) does, entries that are not executable or not directories are
# skipped, a name with a '/' is used as is, a script without "#!" runs
# under /bin/sh, and a command found nowhere fails with 127 "No such file
# or directory", or with 126 "Permission denied" when only a file without
# x was found.
. "$(dirname "$0")/lib.sh"
require busybox curl python3
start_supervisor

# run_rc ARGS...: `acre slice run --rm ARGS`; sets out (stdout and stderr) and rc.
run_rc() {
	rc=0
	out=$(acre slice run --rm "$@" 2>&1) || rc=$?
}

# ---- bare commands of /usr/sbin, with the default PATH -------------------------------
run_rc -- sysctl -n kernel.ostype
assert_eq "$rc" 0 "exit status of a bare sysctl (in $(command -v sysctl)): $out"
assert_eq "$out" Linux "sysctl -n kernel.ostype"

# ---- a bare nginx starts and serves --------------------------------------------------
# nginx is in make deps (nginx-light): a bare nginx that cannot start must not go unnoticed.
command -v nginx >/dev/null || fail "nginx is not installed (make deps installs nginx-light)"
# The slice's /tmp is its own: the configuration lives where the slice can read it.
conf_dir=$(mktemp -d /var/tmp/acre-test.XXXXXX) || fail "mktemp in /var/tmp"
record "dir $conf_dir"
CLEAN_PATHS+=("$conf_dir")
chmod 755 "$conf_dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Everything nginx writes goes to the slice's own /tmp: the root is read-only.
cat >"$conf_dir/nginx.conf" <<EOF
worker_processes 1;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path /tmp/nginx-body;
	proxy_temp_path /tmp/nginx-proxy;
	fastcgi_temp_path /tmp/nginx-fastcgi;
	uwsgi_temp_path /tmp/nginx-uwsgi;
	scgi_temp_path /tmp/nginx-scgi;
	server {
		listen 127.0.0.1:$port;
		location / { return 200 "served by \$hostname\n"; }
	}
}
EOF
chmod 644 "$conf_dir/nginx.conf"
acre slice run -d --name web --net host --user nobody -- \
	nginx -c "$conf_dir/nginx.conf" -g 'daemon off; pid /tmp/nginx.pid; error_log stderr;' \
	>/dev/null || fail "acre slice run -d -- nginx"
serves() { curl -sf --max-time 1 "http://127.0.0.1:$port/" | matches -x 'served by web'; }
# Until it serves, or its slice is over (no point waiting then).
wait_for "serves || ! [[ \$(slice_state web) =~ ^(starting|running)\$ ]]" 10
if ! serves; then
	fail "a bare nginx does not serve on 127.0.0.1:$port: state $(slice_state web)," \
		"$(slice_field web .reason 2>&1); its output: $(acre slice logs web 2>&1 | tail -n 5)"
fi
assert_eq "$(slice_state web)" running "state of the nginx slice"
acre slice rm --force web >/dev/null || fail "acre slice rm --force web"

# ---- --env PATH in a busybox root of our own --------------------------------------------
rootfs=$TEST_DIR/rootfs
mkdir -p "$rootfs/bin" "$rootfs/opt/tools" "$rootfs/opt/noexec" "$rootfs/opt/scripts"
busybox=$(command -v busybox)
file -L "$busybox" 2>/dev/null | matches 'statically linked' || skip "$busybox is not static"
cp "$busybox" "$rootfs/bin/busybox"
chroot "$rootfs" /bin/busybox --install -s /bin || fail "busybox --install"
printf '#!/bin/sh\necho "probe at $0"\n' >"$rootfs/opt/tools/probe"
chmod 755 "$rootfs/opt/tools/probe"
printf '#!/bin/sh\necho "the probe without x bits ran"\n' >"$rootfs/opt/noexec/probe"
chmod 644 "$rootfs/opt/noexec/probe"
printf 'echo "no #! line, run by sh"\n' >"$rootfs/opt/scripts/plain"
chmod 755 "$rootfs/opt/scripts/plain"

run_rc --rootfs "$rootfs" --env PATH=/opt/tools -- probe
assert_eq "$rc" 0 "exit status of probe with --env PATH=/opt/tools: $out"
assert_eq "$out" "probe at /opt/tools/probe" "probe with --env PATH=/opt/tools"

run_rc --rootfs "$rootfs" --env PATH=/nonexistent:/bin/busybox:/opt/noexec:/opt/tools -- probe
assert_eq "$out" "probe at /opt/tools/probe" \
	"probe past a missing directory, a file and a file without x in PATH (rc $rc)"

run_rc --rootfs "$rootfs" --env PATH=/opt/noexec -- probe
assert_eq "$rc" 126 "exit status when PATH has the command only without x bits: $out"
assert_contains "$out" "Permission denied" "error when PATH has the command only without x bits"

run_rc --rootfs "$rootfs" --env PATH=/opt/tools:/bin -- no-such-command
assert_eq "$rc" 127 "exit status of a command found nowhere in PATH: $out"
assert_contains "$out" "No such file or directory" "error of a command found nowhere in PATH"

# The default PATH does not have /opt/tools; it has /bin.
run_rc --rootfs "$rootfs" -- probe
assert_eq "$rc" 127 "exit status of probe with the default PATH: $out"
run_rc --rootfs "$rootfs" -- echo default-path
assert_eq "$out" default-path "echo (/bin) with the default PATH"

# A name with a '/' is used as is, whatever PATH says.
run_rc --rootfs "$rootfs" --env PATH=/opt/noexec --cwd /opt/tools -- ./probe
assert_eq "$out" "probe at ./probe" "./probe in --cwd /opt/tools (rc $rc)"
run_rc --rootfs "$rootfs" --env PATH=/opt/noexec -- /opt/tools/probe
assert_eq "$out" "probe at /opt/tools/probe" "/opt/tools/probe with PATH=/opt/noexec (rc $rc)"

# An executable without "#!" runs under /bin/sh, found in PATH or named with a '/'.
run_rc --rootfs "$rootfs" --env PATH=/opt/scripts -- plain
assert_eq "$out" "no #! line, run by sh" "a script without #! found in PATH (rc $rc)"
run_rc --rootfs "$rootfs" -- /opt/scripts/plain
assert_eq "$out" "no #! line, run by sh" "a script without #! named by its path (rc $rc)"
