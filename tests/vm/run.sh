#!/bin/bash
# Run a command inside a throw-away VM whose kernel has a pure cgroup v2
# hierarchy (cgroup_no_v1=all), for tests that must not see the host's hybrid
# cgroups. The VM sees the host's root read-only over 9p (with a tmpfs overlay
# so it can write), so the command finds the host's tools and this checkout at
# the same absolute path; COMMAND runs as root with the checkout as its cwd.
# See README.md.
#
# Usage: tests/vm/run.sh [--timeout SECONDS] [--memory MB] [--cpus N]
#                        [--env NAME=VALUE]... [--kernel-log]
#                        [--root DIR [--file PATH]...] -- COMMAND [ARG]...
# Exit status: COMMAND's, 124 on timeout, 125 when the VM ended without
# reporting one, 123 when the guest kernel locked up or panicked (its log is
# shown), 77 when this machine cannot run the VM (skipped), 2 on usage.
#
# The kernel's log goes to a second serial port, kept whole in
# build/vm/kernel.log; the terminal shows only the job's output, and the
# kernel's when the VM fails. A soft lockup panics the guest
# (softlockup_panic=1): a hung kernel ends the VM at once, with its trace,
# instead of holding the job until --timeout.
#
# A guest that has not reached its job within BOOT_LIMIT seconds is stopped
# and booted again, up to three boots: under TCG the guest kernel now and then
# stalls early in its boot (seen after "Unstable clock detected"), before the
# job has started, so booting again repeats nothing. --timeout counts from the
# boot that reached the job.
#
# --root DIR boots DIR (a Debian tree, tests/vm/build-debian-image.sh)
# instead of the host's root, with systemd as PID 1: COMMAND runs as a
# systemd service once the system is up, in /run/acre-vm/job, where each
# --file is copied (the checkout is not in the guest).
#
# Environment: ACRE_VM_ACCEL (default tcg: KVM hangs on the development
# machines), ACRE_VM_CPU (default max), ACRE_VM_APPEND (more kernel
# parameters), and ACRE_VM_KERNEL/ACRE_VM_BUSYBOX (see build-initramfs.sh).

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
OUT=$ROOT/build/vm

TIMEOUT=600
BOOT_LIMIT=${ACRE_VM_BOOT_LIMIT:-90}
BOOTS=3
MEMORY=2048
CPUS=2
KERNEL_LOG=0
ENVS=()
GUEST_ROOT=
FILES=()

usage() {
	sed -n 's/^# \{0,1\}//; /^Usage:/,/^Exit status/p' "$0" | sed '$d' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--memory) MEMORY=${2:?}; shift 2 ;;
	--cpus) CPUS=${2:?}; shift 2 ;;
	--env) ENVS+=("${2:?}"); shift 2 ;;
	--kernel-log) KERNEL_LOG=1; shift ;;
	--root) GUEST_ROOT=${2:?}; shift 2 ;;
	--file) FILES+=("${2:?}"); shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ $# -gt 0 ] || usage
for n in "$TIMEOUT" "$MEMORY" "$CPUS"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || usage
done
for e in "${ENVS[@]}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage
done
if [ -n "$GUEST_ROOT" ]; then
	[ -x "$GUEST_ROOT/lib/systemd/systemd" ] || {
		echo "vm: --root $GUEST_ROOT has no /lib/systemd/systemd" >&2
		exit 2
	}
	GUEST_ROOT=$(cd "$GUEST_ROOT" && pwd -P)
elif [ "${#FILES[@]}" -gt 0 ]; then
	usage
fi

QEMU=$(command -v qemu-system-x86_64) || {
	echo "vm: no qemu-system-x86_64 (Debian: apt-get install qemu-system-x86)" >&2
	exit 77
}
command -v timeout >/dev/null || {
	echo "vm: no timeout (Debian: apt-get install coreutils)" >&2
	exit 77
}
"$HERE/build-initramfs.sh" "$OUT" # exits 77 itself when it cannot

TMP=$(mktemp -d "${TMPDIR:-/tmp}/acre-vm.XXXXXX")
QEMU_PID=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	# timeout(1) passes the TERM on to qemu and waits for it.
	if [ -n "$QEMU_PID" ]; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The job: the only thing the guest reads from this directory.
mkdir "$TMP/job"
for f in "${FILES[@]}"; do
	cp "$f" "$TMP/job/" || exit 2
done
{
	echo "# written by tests/vm/run.sh"
	if [ -n "$GUEST_ROOT" ]; then
		echo 'cd /run/acre-vm/job || exit 125'
	else
		printf 'cd %q || exit 125\n' "$ROOT"
	fi
	# tests/run-integration.sh scales its time limits by this; --env overrides.
	echo 'export ACRE_TEST_SLOW=10'
	# ...but one hung test must not take the whole --timeout from the rest.
	echo 'export ACRE_TEST_LIMIT=300'
	for e in "${ENVS[@]}"; do
		printf 'export %q=%q\n' "${e%%=*}" "${e#*=}"
	done
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$TMP/job/job.sh"

# ttyS1 (a file) gets the kernel's log; --kernel-log adds the terminal.
CONSOLES=console=ttyS1
[ "$KERNEL_LOG" = 0 ] || CONSOLES="console=ttyS0 console=ttyS1"
APPEND="$CONSOLES loglevel=7 cgroup_no_v1=all panic=-1 softlockup_panic=1 ${ACRE_VM_APPEND:-}"
# /init keeps the host's /tmp or /var/tmp when the checkout lives there;
# a guest root of its own boots systemd instead.
SHARED_ROOT=/
MODULES_SHARE=()
if [ -n "$GUEST_ROOT" ]; then
	SHARED_ROOT=$GUEST_ROOT
	APPEND="$APPEND acre.systemd"
	# A guest tree has no modules for the host's kernel: it gets the host's.
	MODULES_SHARE=(-virtfs "local,path=/lib/modules,mount_tag=hostmodules,security_model=none,readonly=on,multidevs=remap")
elif [[ $ROOT =~ ^[^[:space:]]+$ ]]; then
	APPEND="$APPEND acre.checkout=$ROOT"
fi

# The console goes through a FIFO so that qemu can run in the background,
# where the traps above can stop it (bash defers traps while a foreground
# pipeline runs). The reader, a line at a time as it comes (awk would read
# the FIFO in blocks), drops carriage returns, notes the guest's arrival,
# stops echoing after the marker (the kernel's power-off message) and keeps
# the status.
read_console() {
	local line
	# One open for both loops: opening the FIFO again after the writer has
	# gone would block for good.
	{
		while IFS= read -r line <&3 || [ -n "$line" ]; do
			line=${line%$'\r'}
			printf '%s\n' "$line"
			case $line in
			ACRE-VM-UP) : >"$TMP/up" ;;
			ACRE-VM-EXIT\ *)
				if [[ ${line#* } =~ ^[0-9]+$ ]]; then
					echo "${line#* }" >"$TMP/status"
					break
				fi
				;;
			esac
		done
		cat <&3 >/dev/null
	} 3<"$TMP/console"
}

boot() { # boot N: starts qemu in the background (QEMU_PID, READER_PID)
	rm -f "$TMP/console" "$TMP/up" "$TMP/status" "$TMP/kernel.log"
	mkfifo "$TMP/console"
	read_console &
	READER_PID=$!
	# -nodefaults: no NIC, VGA, floppy or CD-ROM to emulate or probe (TCG is
	# slow); stdin is /dev/null so qemu leaves the terminal and ^C alone.
	# multidevs=remap keeps inode numbers unique across the host's mounts.
	timeout -k 10 "$((BOOT_LIMIT + TIMEOUT))" "$QEMU" \
		-accel "${ACRE_VM_ACCEL:-tcg}" -cpu "${ACRE_VM_CPU:-max}" -smp "$CPUS" -m "$MEMORY" \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial stdio -serial "file:$TMP/kernel.log" \
		-kernel "$OUT/kernel" -initrd "$OUT/initramfs.cpio.gz" -append "$APPEND" \
		-virtfs "local,path=$SHARED_ROOT,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$TMP/job,mount_tag=acrejob,security_model=none,readonly=on" \
		"${MODULES_SHARE[@]}" \
		</dev/null >"$TMP/console" 2>&1 &
	QEMU_PID=$!
}

# waits_for_guest: 0 once the job has started, 1 when the boot stalled
# (qemu stopped), 2 when qemu ended before the job started.
waits_for_guest() {
	local waited=0
	until [ -e "$TMP/up" ]; do
		kill -0 "$QEMU_PID" 2>/dev/null || return 2
		if [ "$waited" -ge "$((BOOT_LIMIT * 10))" ]; then
			kill -TERM "$QEMU_PID" 2>/dev/null || true
			wait "$QEMU_PID" 2>/dev/null || true
			QEMU_PID=
			wait "$READER_PID" 2>/dev/null || true
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

rc=0
for n in $(seq "$BOOTS"); do
	boot "$n"
	up=0
	waits_for_guest || up=$?
	[ "$up" = 1 ] || break
	echo "vm: boot $n stalled before the job started (${BOOT_LIMIT}s); the kernel's last words:" >&2
	tail -n 5 "$TMP/kernel.log" 2>/dev/null | sed 's/^/    /' >&2
done
if [ "$up" = 1 ]; then
	echo "vm: $BOOTS boots stalled before the job started" >&2
	exit 125
fi
# From here --timeout counts: the job has it all.
deadline=$((SECONDS + TIMEOUT))
while [ "$up" = 0 ] && kill -0 "$QEMU_PID" 2>/dev/null; do
	# A job that has ended leaves the VM 30 s to power off.
	if [ -s "$TMP/status" ] && [ "$deadline" -gt "$((SECONDS + 30))" ]; then
		deadline=$((SECONDS + 30))
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		rc=124
		break
	fi
	sleep 0.2
done
wait "$QEMU_PID" || { [ "$rc" = 124 ] || rc=$?; }
QEMU_PID=
wait "$READER_PID" || true
cp "$TMP/kernel.log" "$OUT/kernel.log" 2>/dev/null || true

# kernel_trouble: the first report of a lockup, panic or oops in the guest's
# log, with what follows it (the trace); nothing when there is none.
kernel_trouble() {
	local at
	at=$(grep -n -m 1 -E 'soft lockup|hard LOCKUP|Kernel panic|BUG:|Oops|blocked for more than' \
		"$TMP/kernel.log" 2>/dev/null | cut -d: -f1)
	[ -n "$at" ] || return 1
	sed -n "$((at > 3 ? at - 3 : 1)),$((at + 60))p" "$TMP/kernel.log" | tr -d '\r' | sed 's/^/    /'
}

# A job that reported its status counts even if the power-off then hung.
if [ -s "$TMP/status" ]; then
	if trouble=$(kernel_trouble); then
		echo "vm: the guest kernel reported trouble during the job (build/vm/kernel.log):" >&2
		printf '%s\n' "$trouble" >&2
	fi
	[ "$rc" -ne 124 ] || echo "vm: the job ended but the VM did not power off" >&2
	exit "$(cat "$TMP/status")"
fi
if trouble=$(kernel_trouble); then
	echo "vm: the guest kernel locked up or panicked (build/vm/kernel.log):" >&2
	printf '%s\n' "$trouble" >&2
	exit 123
fi
if [ "$rc" -eq 124 ]; then
	echo "vm: timed out after ${TIMEOUT}s, qemu killed" >&2
	exit 124
fi
echo "vm: the VM ended without a job status (qemu exit $rc); the kernel's last words:" >&2
tail -n 20 "$TMP/kernel.log" 2>/dev/null | tr -d '\r' | sed 's/^/    /' >&2
exit 125
