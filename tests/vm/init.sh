#!/bin/sh
# /init of the acre test VM (see tests/vm/README.md), run by busybox sh as PID 1.
#
# Stage 1 (no argument, in the initramfs): load the virtio/9p/overlay modules,
# mount the host's root (9p, read-only) under a tmpfs overlay at /newroot, give
# it fresh proc/sys/dev, a pure cgroup v2 tree, bpffs and tmpfs scratch dirs,
# then switch_root into it. switch_root rather than chroot, because a chrooted
# process may not create user namespaces (kernel/user_namespace.c,
# current_chrooted()) and pivot_root refuses the initramfs as the old root.
#
# Stage 2 ("stage2", PID 1 in the host's root): run /run/acre-vm/job/job.sh
# with bash, kill whatever it left behind, print "ACRE-VM-EXIT <status>" for
# tests/vm/run.sh to parse, and power off. "ACRE-VM-UP" before the job tells
# run.sh that the guest booted (it boots again when a boot stalls).
#
# With "acre.systemd" on the kernel command line (run.sh --root: a Debian
# tree of its own, not the host's root), stage 1 switches to systemd as PID 1
# instead, after adding a runtime unit that runs "init job": the same job
# and markers as stage 2, once the system is up.
#
# Any failure powers the VM off without the marker; if even that fails, init
# exits, the kernel panics and panic=-1 plus qemu's -no-reboot end the VM.

set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# In stage 2 the host's root has no busybox applet links; call it by path.
BB=/run/acre-vm/busybox
[ -n "${1:-}" ] || BB=/bin/busybox

say() { echo "acre-vm: $*"; }

halt_vm() {
	$BB poweroff -f
	$BB reboot -f
	exit 1
}

fail() {
	say "init failed: $*"
	halt_vm
}

load_modules() {
	# load-order is written by build-initramfs.sh, dependencies first.
	while read -r ko; do
		$BB insmod "/lib/modules/$ko" || fail "insmod $ko"
	done </lib/modules/load-order
}

mount_9p() { # tag dir
	# Read-only share: cache=loose lets the guest cache data and metadata
	# (fastest measured; the host does not change the files during a job).
	# 512000 is the largest msize the virtio transport takes.
	# The device may appear a moment after virtio_pci binds, hence the retry.
	i=0
	until $BB mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 \
		"$1" "$2" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 50 ] || fail "mounting 9p share $1 on $2"
		$BB usleep 100000
	done
}

mount_root() {
	$BB mkdir -p /lower /upper /newroot
	mount_9p hostroot /lower
	# An overlay with a tmpfs upper makes the whole host tree writable inside
	# the VM (/var/lib, /etc, /root, ...) without hiding what it holds; all
	# writes are thrown away at power-off and never reach the host.
	$BB mount -t tmpfs -o mode=0755 upper /upper || fail "tmpfs for overlay"
	$BB mkdir -p /upper/data /upper/work
	$BB mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work \
		overlay /newroot || fail "overlay root"
}

mount_api_filesystems() { # root
	r=$1
	$BB mount -t proc -o nosuid,nodev,noexec proc "$r/proc" || fail "proc"
	$BB mount -t sysfs -o nosuid,nodev,noexec sysfs "$r/sys" || fail "sysfs"
	$BB mount -t devtmpfs -o nosuid,mode=0755 devtmpfs "$r/dev" || fail "devtmpfs"
	$BB mkdir -p "$r/dev/pts" "$r/dev/shm" "$r/dev/mqueue"
	# What udev or systemd would add: bash's <(...) needs /dev/fd.
	$BB ln -sf /proc/self/fd "$r/dev/fd"
	$BB ln -sf /proc/self/fd/0 "$r/dev/stdin"
	$BB ln -sf /proc/self/fd/1 "$r/dev/stdout"
	$BB ln -sf /proc/self/fd/2 "$r/dev/stderr"
	$BB mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=000 devpts "$r/dev/pts"
	$BB mount -t tmpfs -o nosuid,nodev shm "$r/dev/shm"
	$BB mount -t mqueue -o nosuid,nodev,noexec mqueue "$r/dev/mqueue"
	# run.sh names the checkout (acre.checkout=PATH): a checkout that lives
	# in /tmp or /var/tmp keeps the overlay's view of that directory, since a
	# fresh tmpfs would hide it; /run must be the VM's own.
	checkout=$($BB sed -n 's/.*acre\.checkout=\([^ ]*\).*/\1/p' /proc/cmdline)
	case $checkout/ in
	/run/*) fail "the checkout $checkout is under /run, which the VM replaces: move it" ;;
	esac
	for d in tmp var/tmp; do
		case $checkout/ in
		/$d/*)
			say "/$d: the host's, through the overlay (the checkout is there)"
			continue
			;;
		esac
		$BB mkdir -p "$r/$d"
		$BB mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$r/$d" || fail "tmpfs $d"
	done
	$BB mount -t tmpfs -o nosuid,nodev,mode=0755 run "$r/run" || fail "tmpfs run"
	$BB mkdir -p "$r/run/lock" "$r/run/acre-vm/job"
}

mount_cgroup2() { # root
	# The kernel runs with cgroup_no_v1=all, so this is the only hierarchy.
	# Options as systemd mounts it on a unified host.
	cg=$1/sys/fs/cgroup
	$BB mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 "$cg" ||
		$BB mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$cg" || fail "cgroup2"
	# One write per controller: one the kernel refuses must not block the rest.
	for c in $($BB cat "$cg/cgroup.controllers"); do
		echo "+$c" >"$cg/cgroup.subtree_control" || say "cannot enable controller $c"
	done
}

mount_kernel_filesystems() { # root
	r=$1
	$BB mount -t bpf -o nosuid,nodev,noexec,mode=0700 bpf "$r/sys/fs/bpf" || fail "bpffs"
	# Tracing helps bpf tests; not fatal when missing.
	$BB mount -t debugfs -o nosuid,nodev,noexec debugfs "$r/sys/kernel/debug" 2>/dev/null
	$BB mount -t tracefs -o nosuid,nodev,noexec tracefs "$r/sys/kernel/tracing" 2>/dev/null
}

stage1() {
	$BB mount -t proc proc /proc
	$BB mount -t sysfs sysfs /sys
	$BB mount -t devtmpfs devtmpfs /dev
	# The first serial port carries this script's and the job's output, the
	# second the kernel's log (run.sh keeps it in a file); no \n -> \r\n.
	# The node lives outside /dev, which is unmounted before switch_root.
	$BB mknod -m 600 /ttyS0 c 4 64 || fail "mknod ttyS0"
	$BB stty -F /ttyS0 -onlcr 2>/dev/null
	exec >/ttyS0 2>&1

	load_modules
	mount_root
	mount_api_filesystems /newroot
	mount_cgroup2 /newroot
	mount_kernel_filesystems /newroot
	mount_9p acrejob /newroot/run/acre-vm/job

	$BB hostname acre-vm
	$BB ip link set lo up || fail "bringing up lo"

	# What stage 2 runs from, on the new root's /run tmpfs.
	$BB cp /bin/busybox /init /newroot/run/acre-vm/ || fail "copying stage 2"
	if $BB grep -qw acre.systemd /proc/cmdline; then
		# The guest tree has no kernel modules of its own: the host's, which
		# match the kernel run.sh boots (nf_tables, veth, bridge, ...).
		$BB mkdir -p /newroot/lib/modules
		mount_9p hostmodules /newroot/lib/modules
		systemd_job_unit /newroot
		$BB umount /proc /sys /dev
		# The kernel stalls run.sh retries happen before this point.
		echo "ACRE-VM-UP"
		# shellcheck disable=SC2093 # exec only returns when it fails
		exec $BB switch_root -c /dev/ttyS0 /newroot /lib/systemd/systemd
		fail "switch_root to systemd"
	fi
	$BB umount /proc /sys /dev
	# shellcheck disable=SC2093 # exec only returns when it fails
	exec $BB switch_root -c /dev/ttyS0 /newroot \
		/run/acre-vm/busybox sh /run/acre-vm/init stage2
	fail "switch_root"
}

# A runtime unit (/run/systemd/system, on the tmpfs stage 1 mounted) that
# runs the job once the guest's systemd has reached multi-user.target's
# basic dependencies; its output goes to the first serial port.
systemd_job_unit() { # root
	d=$1/run/systemd/system
	$BB mkdir -p "$d/multi-user.target.wants" || fail "mkdir $d"
	$BB cat >"$d/acre-vm-job.service" <<UNIT || fail "writing the job unit"
[Unit]
Description=acre test VM job (tests/vm/run.sh)

[Service]
Type=exec
ExecStart=/run/acre-vm/busybox sh /run/acre-vm/init job
StandardInput=null
StandardOutput=file:/dev/ttyS0
StandardError=inherit
UNIT
	$BB ln -s ../acre-vm-job.service "$d/multi-user.target.wants/acre-vm-job.service"
}

# The job under systemd: as stage 2, but PID 1 is systemd's.
job() {
	export HOME=/root TERM="${TERM:-linux}" LANG=C.UTF-8 SHELL=/bin/bash
	cd /
	bash /run/acre-vm/job/job.sh </dev/null
	status=$?
	echo "ACRE-VM-EXIT $status"
	$BB poweroff -f
}

stage2() {
	export HOME=/root TERM="${TERM:-linux}" LANG=C.UTF-8 SHELL=/bin/bash
	job=/run/acre-vm/job/job.sh
	[ -r "$job" ] || fail "no $job (is the acrejob share there?)"
	command -v bash >/dev/null || fail "no bash in the host root"

	# Its own session, so that a job which signals its process group cannot
	# reach PID 1; stdin closed, so that nothing waits for a console read.
	cd /
	echo "ACRE-VM-UP"
	$BB setsid bash "$job" </dev/null
	status=$?

	# Nothing the job left running may print after the marker.
	$BB kill -KILL -1 2>/dev/null
	echo "ACRE-VM-EXIT $status"
	halt_vm
}

if [ "${1:-}" = stage2 ]; then
	stage2
elif [ "${1:-}" = job ]; then
	job
else
	stage1
fi
