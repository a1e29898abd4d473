#!/bin/bash
# What a task finds on its filesystem: the host root read-only, private
# empty tmpfs on /tmp and /run (nothing of the host's, not the supervisor's
# socket), a minimal /dev, /sys and /sys/fs/cgroup read-only with only the
# slice's own cgroup, /proc paths masked or read-only as Docker has them;
# --rootfs DIR runs on another root, read-only unless --rw; --rw without
# --rootfs writes to a layer of the slice's own over the host root (the
# host's files never change), its submounts and the state directory left
# out, and the layer goes with the slice.
. "$(dirname "$0")/lib.sh"
start_supervisor --prelaunch 0


# ---- the root is read-only --------------------------------------------------------
out=$(in_slice -- 'touch /etc/acre-x; echo status=$?')
assert_contains "$out" "Read-only file system" "touch /etc/acre-x"
assert_contains "$out" "status=1" "touch /etc/acre-x"
[ ! -e /etc/acre-x ] || fail "/etc/acre-x appeared on the host"

# ---- /tmp and /run: private, empty, writable tmpfs -------------------------------------
marker=acre-host-file-$$
CLEAN_PATHS+=("/tmp/$marker" "/run/$marker")
touch "/tmp/$marker" "/run/$marker" || fail "creating host files"
out=$(in_slice -- "ls -A /tmp /run; ls -d $RUN_DIR $ACRE_SOCKET $STATE_DIR $TEST_DIR 2>&1;
	echo data >/tmp/w && cat /tmp/w; echo data >/run/w && cat /run/w;
	awk '\$2 == \"/tmp\" || \$2 == \"/run\" { print \"mount\", \$2, \$3 }' /proc/self/mounts")
rm -f "/tmp/$marker" "/run/$marker"
assert_not_contains "$out" "$marker" "the host's /tmp and /run seen from a slice"
assert_not_contains "$(grep -v 'cannot access' <<<"$out")" "supervisor.sock" "the supervisor's socket seen from a slice"
for p in "$RUN_DIR" "$ACRE_SOCKET" "$STATE_DIR" "$TEST_DIR"; do
	[ -n "$p" ] && assert_contains "$out" "ls: cannot access '$p': No such file or directory" \
		"$p seen from a slice"
done
assert_eq "$(grep -c '^data$' <<<"$out")" 2 "writing to /tmp and /run in a slice"
assert_contains "$out" "mount /tmp tmpfs" "/tmp of a slice"
assert_contains "$out" "mount /run tmpfs" "/run of a slice"
assert_eq "$(in_slice -- 'ls -A /tmp /run | grep -v -e "^/" -e "^$" | wc -l')" 0 "entries in a fresh slice's /tmp and /run"
# And private to each slice: one slice's /tmp is not another's.
acre slice run -d --name writer -- sh -c 'echo secret >/tmp/s; sleep 600' >/dev/null || fail "run -d writer"
wait_state writer running 10
assert_eq "$(in_slice -- 'cat /tmp/s 2>/dev/null || echo absent')" absent "another slice's /tmp"
acre slice rm --force writer >/dev/null

# ---- /dev: only the harmless devices ------------------------------------------------
devs=$(in_slice -- 'ls -A /dev' | sort | tr '\n' ' ')
assert_eq "$devs" "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " "ls -A /dev"
out=$(in_slice -- 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$d; done; ls -A /dev/pts')
for want in "/dev/null character special file 1:3" "/dev/zero character special file 1:5" \
	"/dev/full character special file 1:7" "/dev/random character special file 1:8" \
	"/dev/urandom character special file 1:9" "/dev/tty character special file 5:0"; do
	assert_contains "$out" "$want" "devices of a slice"
done
assert_eq "$(in_slice -- 'ls -A /dev/pts' | tr '\n' ' ')" "ptmx " "ls -A /dev/pts"
out=$(in_slice -- 'test -e /dev/kmsg && echo has-kmsg; mknod /dev/acre-sda b 8 0 && echo made-node; head -c 4 /dev/zero | od -An -tx1')
assert_not_contains "$out" "has-kmsg" "/dev/kmsg in a slice"
assert_not_contains "$out" "made-node" "mknod of a block device in a slice"
assert_contains "$out" "00 00 00 00" "reading /dev/zero in a slice"

# ---- /sys and /sys/fs/cgroup: read-only, only the slice's own cgroup ---------------------
out=$(in_slice -- 'touch /sys/acre-x; echo s1=$?; touch /sys/fs/cgroup/acre-x; echo s2=$?;
	v2=$(awk "\$3 == \"cgroup2\" { print \$2; exit }" /proc/self/mounts); echo "v2=$v2";
	mkdir "$v2/acre-x"; echo s3=$?;
	echo 1 >"$v2/cgroup.procs"; echo s4=$?;
	for m in $(awk "\$3 == \"cgroup\" || \$3 == \"cgroup2\" { print \$2 }" /proc/self/mounts); do
		find "$m" -mindepth 1 -type d | sed "s/^/subdir /"; done; grep "^0::" /proc/self/cgroup')
assert_contains "$out" "s1=1" "touch /sys/acre-x"
assert_contains "$out" "s2=1" "touch /sys/fs/cgroup/acre-x"
assert_contains "$out" "s3=1" "mkdir in the slice's cgroup v2 tree"
assert_not_contains "$out" "s4=0" "writing the slice's cgroup.procs"
grep -q '^v2=/sys/fs/cgroup' <<<"$out" || fail "no cgroup2 mount under /sys/fs/cgroup in a slice: $out"
sub=$(grep '^subdir ' <<<"$out")
[ -z "$sub" ] || fail "cgroups other than the slice's own seen from it: $sub"
assert_contains "$out" "0::/" "the slice's /proc/self/cgroup"
assert_eq "$(grep -c 'Read-only file system' <<<"$out")" 4 "read-only refusals under /sys"

# ---- /proc: masked and read-only paths -------------------------------------------------
check_masked='
import os, sys
for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
          "/proc/latency_stats", "/proc/timer_stats"):
    if not os.path.exists(p):
        continue
    try:
        with open(p, "rb") as f:
            data = f.read(4096)
        print("READ %s %d" % (p, len(data)))
    except OSError as e:
        print("denied %s" % p)
print("firmware", len(os.listdir("/sys/firmware")) if os.path.isdir("/sys/firmware") else 0)
for p in ("/proc/sys/kernel/domainname", "/proc/sys/vm/drop_caches", "/proc/sysrq-trigger",
          "/proc/irq/default_smp_affinity"):
    if not os.path.exists(p):
        continue
    try:
        # Opening is enough: nothing is ever written.
        os.close(os.open(p, os.O_WRONLY))
        print("WRITABLE %s" % p)
    except OSError as e:
        print("refused %s %s" % (p, e.strerror))
# Read-only mounts where Docker has them (the kernel says so in mountinfo).
mounts = {}
for line in open("/proc/self/mountinfo"):
    f = line.split()
    mounts[f[4]] = f[5].split(",")
for p in ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/sys", "/sys/fs/cgroup"):
    if not os.path.exists(p):
        continue
    print("mount %s %s" % (p, "ro" if "ro" in mounts.get(p, []) else "NOT-READ-ONLY"))
'
out=$(acre slice run --rm --cap SYS_ADMIN -- python3 -c "$check_masked" 2>&1)
log "$out"
while read -r word path n; do
	[ "$word" = READ ] || continue
	assert_eq "$n" 0 "bytes read from masked $path"
done <<<"$out"
assert_contains "$out" "firmware 0" "entries of /sys/firmware in a slice"
assert_not_contains "$out" "WRITABLE" "read-only /proc paths (with CAP_SYS_ADMIN)"
assert_contains "$out" "refused /proc/sys/kernel/domainname Read-only file system" "/proc/sys"
assert_not_contains "$out" "NOT-READ-ONLY" "mounts that must be read-only"
assert_contains "$out" "mount /proc/sys ro" "the mount of /proc/sys"

# ---- --rootfs: a busybox root of our own -----------------------------------------------
rootfs=$TEST_DIR/rootfs
mkdir -p "$rootfs/bin"
busybox=$(command -v busybox) || skip "busybox is not installed"
file -L "$busybox" 2>/dev/null | matches 'statically linked' || skip "$busybox is not static"
cp "$busybox" "$rootfs/bin/busybox"
chroot "$rootfs" /bin/busybox --install -s /bin || fail "busybox --install"
out=$(in_slice --rootfs "$rootfs" -- 'ls /; ls /usr/bin/python3 2>&1; tr "\\0" " " </proc/1/cmdline; echo; touch /x; echo status=$?; echo ok >/tmp/y && cat /tmp/y')
assert_contains "$out" "bin" "ls / in the busybox rootfs"
assert_contains "$out" "/usr/bin/python3: No such file or directory" "the host's /usr seen from the rootfs"
assert_contains "$out" "acre-init" "PID 1 in the busybox rootfs"
assert_contains "$out" "Read-only file system" "touch /x in the rootfs without --rw"
assert_contains "$out" "status=1" "touch /x in the rootfs without --rw"
assert_contains "$out" "ok" "writing /tmp in the rootfs"
[ ! -e "$rootfs/x" ] || fail "the read-only rootfs was written"

out=$(in_slice --rootfs "$rootfs" --rw -- 'echo written >/x; echo status=$?')
assert_contains "$out" "status=0" "writing /x in the rootfs with --rw"
assert_eq "$(cat "$rootfs/x" 2>&1)" written "the file written through --rw, on the host"

# ---- --rw without --rootfs: a copy-on-write layer over the host root --------------------------
probe_file=/var/tmp/acre-test-rw.$$
rm -f "$probe_file"
out=$(in_slice --rw -- "echo written >$probe_file && cat $probe_file && rm /etc/hostname && echo removed;
	ls -A $STATE_DIR 2>/dev/null | wc -l")
assert_eq "$out" "written
removed
0" "writing and removing in the host root with --rw (the state directory stays hidden)"
[ -e "$probe_file" ] && fail "--rw on the host root wrote the host's $probe_file"
[ -e /etc/hostname ] || fail "--rw on the host root removed the host's /etc/hostname"
[ -z "$(ls -A "$STATE_DIR/rwroot" 2>/dev/null)" ] || fail "layers left: $(ls "$STATE_DIR/rwroot")"
