#!/bin/bash
# Runs inside the Debian 12 guest of tests/vm/install-test.sh (systemd as
# PID 1, pure cgroup v2), in the directory that holds the three packages:
# installs them, joins the supervisor to the controller, runs a slice, and
# checks that a reinstall of the supervisor package, a restart of its unit
# and a daemon-reload all keep the slice running (the same task, adopted
# again), then that a purge leaves no unit, cgroup, state or pin behind.
# Every step prints its commands' output and its time.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
export ACRE_CONTROLLER=http://127.0.0.1:7471 ACRE_TOKEN_FILE=/var/lib/acre-controller/api-token

SLICE=guest-sleeper
CG=/sys/fs/cgroup/acre.slice/acre
TASK=
step_start=$SECONDS
total_start=$SECONDS

step() {
	echo
	echo "== $*"
	step_start=$SECONDS
}
step_done() { echo "-- $1: $((SECONDS - step_start)) s"; }
fail() {
	echo "FAIL: $*"
	echo "-- the supervisor's and the controller's journal:"
	journalctl --no-pager -n 60 -u acre-supervisor -u acre-controller 2>&1 | sed 's/^/    /'
	exit 1
}
run() { # run CMD...: shows the command and its output
	echo "\$ $*"
	"$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}
wait_for() { # wait_for SECONDS CMD...
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
active() { [ "$(systemctl is-active "$1")" = active ]; }
node_ready() { acre node list | grep -qw ready; }
slice_running() { acre -j slice show "$SLICE" | grep -q '"state": *"running"'; }

# The slice's task: the same process after each step (adopted, not started again).
# Its cgroup, as its checkpoint records it (prelaunched cgroups have
# names of their own, not the slice's).
slice_cgroup() {
	local name
	name=$(sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p' "/var/lib/acre/slices/$SLICE/slice.json" 2>/dev/null)
	[ -z "$name" ] || [ ! -d "$CG/$name" ] || echo "$CG/$name"
}
task_pid() { find "$(slice_cgroup)" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -n | tail -1; }
check_slice() { # check_slice WHAT
	wait_for 30 active acre-supervisor || fail "$1: acre-supervisor is not active"
	wait_for 30 slice_running || fail "$1: the slice is not running: $(acre slice show "$SLICE" 2>&1)"
	local now
	now=$(task_pid)
	if [ -z "$now" ] || [ "$now" != "$TASK" ] || ! kill -0 "$TASK" 2>/dev/null; then
		fail "$1: the slice's task was pid $TASK, now '${now}'"
	fi
	run acre slice list
	echo "the slice's task is still pid $TASK, in $(cat /proc/"$TASK"/cgroup)"
	# The supervisor adopted it again: its local socket reports it running.
	wait_for 30 local_running || fail "$1: the supervisor does not report the slice running"
	run env -u ACRE_CONTROLLER acre slice list
}
local_running() {
	env -u ACRE_CONTROLLER acre -j slice show "$SLICE" | grep -q '"state": *"running"'
}

step "the guest: systemd as PID 1, pure cgroup v2"
run uname -r
echo "PID 1: $(cat /proc/1/comm); /sys/fs/cgroup: $(stat -fc %T /sys/fs/cgroup)"
[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || fail "/sys/fs/cgroup is not cgroup2"
grep -q '^cgroup ' /proc/mounts && fail "a cgroup v1 hierarchy is mounted"
run timeout 120 systemctl is-system-running --wait
step_done "boot"

step "dpkg -i the three packages"
run ls -l ./*.deb
# The configuration is in place before the packages, as configuration
# management puts it: addresses of the tests' own range (198.18.0.0/15),
# never the defaults' 10.x, from the daemons' first start on.
mkdir -p /etc/acre
cat >/etc/acre/controller.conf <<'CONF'
NODE_LISTEN=127.0.0.1:7470
API_LISTEN=127.0.0.1:7471
JOIN_TOKEN_FILE=/var/lib/acre-controller/join-token
API_TOKEN_FILE=/var/lib/acre-controller/api-token
TLS_CA=/var/lib/acre-controller/tls/ca.crt
TLS_CA_KEY=/var/lib/acre-controller/tls/ca.key
TLS_CERT=/var/lib/acre-controller/tls/controller.crt
TLS_KEY=/var/lib/acre-controller/tls/controller.key
OPTS=--pool-cidr 198.18.0.0/16 --vip-cidr 198.19.0.0/24
CONF
cat >/etc/acre/supervisor.conf <<'CONF'
CGROUP_ROOT=acre.slice/acre
STATE_DIR=/var/lib/acre
CONTROLLER_OPTS=
OPTS=--slice-cidr 198.19.1.0/24
CONF
run dpkg -i --force-confold ./acre_*.deb ./acre-controller_*.deb ./acre-supervisor_*.deb ||
	fail "dpkg -i"
wait_for 30 active acre-controller || fail "acre-controller did not start"
wait_for 30 active acre-supervisor || fail "acre-supervisor did not start"
run systemctl --no-pager status acre-controller acre-supervisor
echo "-- the controller's first start:"
journalctl --no-pager -u acre-controller | grep acre-controller-setup | sed 's/^/    /'
for f in join-token api-token tls/ca.crt tls/ca.key tls/controller.crt tls/controller.key; do
	[ -s "/var/lib/acre-controller/$f" ] || fail "the first start made no /var/lib/acre-controller/$f"
done
run ls -l /var/lib/acre-controller /var/lib/acre-controller/tls
getent group acre >/dev/null || fail "no group acre"
for f in /usr/share/man/man1/acre.1.gz /usr/share/man/man1/acre-slice.1.gz \
	/usr/share/man/man8/acre-supervisor.8.gz /usr/share/man/man8/acre-controller.8.gz \
	/usr/share/bash-completion/completions/acre; do
	[ -s "$f" ] || fail "the packages installed no $f"
done
run ls /usr/share/man/man1/acre* /usr/share/man/man8/acre* /usr/share/bash-completion/completions/acre
run getent group acre
step_done "install"

step "the supervisor joins the controller (acre node join-command, acre-supervisor join)"
JOIN=$(acre node join-command --address 127.0.0.1:7470) || fail "acre node join-command"
read -r -a JOIN_ARGS <<<"$JOIN"
[ "${JOIN_ARGS[0]} ${JOIN_ARGS[1]}" = "acre-supervisor join" ] || fail "the join command: $JOIN"
run "${JOIN_ARGS[@]}" || fail "acre-supervisor join"
[ "$(stat -c %a /var/lib/acre/pki/node.key)" = 600 ] || fail "the node's key is not 0600"
run openssl verify -CAfile /var/lib/acre-controller/tls/ca.crt /var/lib/acre/pki/node.crt ||
	fail "the node's certificate is not signed by the pool's CA"
run openssl x509 -in /var/lib/acre/pki/node.crt -noout -subject -enddate
sed -i 's|^CONTROLLER_OPTS=.*|CONTROLLER_OPTS=--attr zone=guest|' /etc/acre/supervisor.conf
run cat /etc/acre/supervisor.conf /var/lib/acre/join.conf
run systemctl restart acre-supervisor || fail "restarting the supervisor"
wait_for 60 node_ready || fail "no node ready: $(acre node list 2>&1)"
run acre node list
step_done "join"

step "a slice runs, placed by the controller"
run acre slice run -d --name "$SLICE" --memory 64M --pids 16 -- sleep 100000 || fail "slice run"
wait_for 30 slice_running || fail "the slice is not running"
SLICE_CG=$(slice_cgroup)
[ -n "$SLICE_CG" ] || fail "no cgroup of the slice under $CG"
wait_for 10 test -n "$(task_pid)" || fail "no task in $SLICE_CG"
TASK=$(task_pid)
run acre slice list
echo "the slice's task: pid $TASK, in $(cat /proc/"$TASK"/cgroup), memory.max $(cat "$SLICE_CG/memory.max")"
step_done "slice"

step "apt-get install --reinstall acre-supervisor (an upgrade) keeps the slice"
run apt-get install -y --reinstall ./acre-supervisor_*.deb || fail "apt-get install --reinstall"
check_slice "after the reinstall"
step_done "reinstall"

step "systemctl restart acre-supervisor keeps the slice"
run systemctl restart acre-supervisor || fail "systemctl restart"
check_slice "after the restart"
step_done "restart"

step "systemctl daemon-reload keeps the slice and its limits"
run systemctl daemon-reload || fail "daemon-reload"
check_slice "after daemon-reload"
echo "acre.slice enables: $(cat /sys/fs/cgroup/acre.slice/cgroup.subtree_control); acre.slice/acre: $(cat "$CG/cgroup.subtree_control")"
[ "$(cat "$SLICE_CG/memory.max")" = $((64 << 20)) ] || fail "memory.max is $(cat "$SLICE_CG/memory.max")"
step_done "daemon-reload"

step "a downgrade over newer state is refused"
# A record of a format newer than this package reads, as a newer supervisor
# would leave: the package must refuse to go in over it.
mkdir -p /var/lib/acre/slices/from-the-future
echo '{"version":99,"spec":{}}' >/var/lib/acre/slices/from-the-future/slice.json
if run dpkg -i ./acre-supervisor_*.deb; then
	fail "dpkg -i went ahead over a slice record of format 99"
fi
rm -rf /var/lib/acre/slices/from-the-future
dpkg -s acre-supervisor | grep -q '^Status: install ok installed' ||
	fail "the refused install left acre-supervisor $(dpkg -s acre-supervisor | grep ^Status)"
check_slice "after the refused downgrade"
step_done "downgrade refused"

step "dpkg --purge leaves no unit, cgroup, state or pin behind"
# The node's copies of the token and the CA are the admin's, not the
# package's: they go first, so that /etc/acre must go with the purge.
rm -f /etc/acre/join-token /etc/acre/pool-ca.crt
run dpkg --purge acre-supervisor acre-controller acre || fail "dpkg --purge"
sleep 1
left=
for p in /lib/systemd/system/acre-supervisor.service /lib/systemd/system/acre-controller.service \
	/lib/systemd/system/acre.slice /etc/systemd/system/multi-user.target.wants/acre-supervisor.service \
	/etc/systemd/system/multi-user.target.wants/acre-controller.service \
	/sys/fs/cgroup/acre.slice /var/lib/acre /var/lib/acre-controller /var/lib/private/acre-controller \
	/run/acre /etc/acre /sys/fs/bpf/acre /usr/share/bash-completion/completions/acre; do
	[ ! -e "$p" ] || left="$left $p"
done
# (acre-vm-job.service is the test's own unit, tests/vm/init.sh.)
units=$(systemctl list-units --all --no-legend --plain 'acre*' 2>&1 | grep -v '^acre-vm-job\.service')
[ -z "$units" ] || left="$left units:[$units]"
! kill -0 "$TASK" 2>/dev/null || left="$left the slice's task $TASK"
run systemctl list-units --all --no-pager --no-legend 'acre*'
run ls /sys/fs/cgroup /sys/fs/bpf
[ -z "$left" ] || fail "left behind:$left"
echo "nothing left"
step_done "purge"

echo
echo "install test: passed in $((SECONDS - total_start)) s (guest time)"
