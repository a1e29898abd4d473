#!/bin/bash
# Build OUTDIR/initramfs.cpio.gz for the acre test VM (see README.md): a static
# busybox with its applet links, the kernel modules needed to reach the host's
# root over virtio-pci + 9p and to overlay it (dependencies first, in the
# order /init loads them), and tests/vm/init.sh as /init. Also puts the kernel
# those modules belong to at OUTDIR/kernel, for run.sh.
#
# Usage: build-initramfs.sh OUTDIR
# Environment: ACRE_VM_KERNEL=VERSION picks a kernel from /boot (default: the
# newest with modules in /lib/modules); ACRE_VM_BUSYBOX=PATH (default
# /bin/busybox, must be static).
#
# Called from `make check`, so it does nothing when its inputs are unchanged.
# Exits 77 ("skipped") when this machine lacks what is needed.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
MODULES=(virtio_pci 9pnet_virtio 9p overlay)

skip() {
	echo "build-initramfs: $*" >&2
	exit 77
}

[ $# -eq 1 ] || {
	echo "usage: $0 OUTDIR" >&2
	exit 2
}
OUT=$1

# Newest first; a kernel is usable when its modules directory is there too.
find_kernel() {
	local v k
	if [ -n "${ACRE_VM_KERNEL:-}" ]; then
		v=$ACRE_VM_KERNEL
		if [ ! -r "/boot/vmlinuz-$v" ] || [ ! -r "/lib/modules/$v/modules.dep" ]; then
			skip "ACRE_VM_KERNEL=$v: no /boot/vmlinuz-$v or /lib/modules/$v/modules.dep"
		fi
		echo "$v"
		return
	fi
	for k in $(printf '%s\n' /boot/vmlinuz-* | sort -rV); do
		v=${k#/boot/vmlinuz-}
		if [ -f "$k" ] && [ -r "/lib/modules/$v/modules.dep" ]; then
			echo "$v"
			return
		fi
	done
	skip "no kernel in /boot with modules in /lib/modules (Debian: apt-get install linux-image-amd64)"
}

KVER=$(find_kernel)
MODDIR=/lib/modules/$KVER
BUSYBOX=${ACRE_VM_BUSYBOX:-/bin/busybox}

[ -x "$BUSYBOX" ] || skip "no $BUSYBOX (Debian: apt-get install busybox-static)"
# The initramfs has no libc: a dynamic busybox would not start there.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	skip "$BUSYBOX is dynamically linked (Debian: apt-get install busybox-static)"
fi
if command -v cpio >/dev/null; then
	CPIO=(cpio --quiet -o -H newc -R 0:0)
elif "$BUSYBOX" cpio --help 2>&1 | grep -q -- '-o'; then
	CPIO=("$BUSYBOX" cpio -o -H newc -R 0:0)
else
	skip "no cpio that can create archives (Debian: apt-get install cpio)"
fi
command -v gzip >/dev/null || skip "no gzip (Debian: apt-get install gzip)"

# Module name -> path in modules.dep, and its (transitive) dependencies.
# Names compare with '-' and '_' alike, as modprobe does.
declare -A DEP_PATH DEP_LIST
while IFS= read -r line; do
	path=${line%%:*}
	name=${path##*/}
	name=${name%%.ko*}
	name=${name//-/_}
	DEP_PATH[$name]=$path
	DEP_LIST[$name]=${line#*:}
done <"$MODDIR/modules.dep"

is_builtin() {
	grep -q "/${1//_/[-_]}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null
}

# Depth-first, dependencies before dependents; ORDER holds paths.
declare -A SEEN
ORDER=()
add_module() {
	local name=${1//-/_} dep
	[ -z "${SEEN[$name]:-}" ] || return 0
	SEEN[$name]=1
	if [ -z "${DEP_PATH[$name]:-}" ]; then
		is_builtin "$name" && return 0
		skip "kernel $KVER has no module $name (needed for virtio-pci/9p/overlay)"
	fi
	for dep in ${DEP_LIST[$name]}; do
		dep=${dep##*/}
		add_module "${dep%%.ko*}"
	done
	ORDER+=("${DEP_PATH[$name]}")
}
for m in "${MODULES[@]}"; do
	add_module "$m"
done

# Cheap staleness check: the stamp names every input with size and mtime.
stamp() {
	echo "kernel $KVER"
	stat -L -c '%n %s %Y' "$HERE/build-initramfs.sh" "$HERE/init.sh" "$BUSYBOX" "/boot/vmlinuz-$KVER" \
		"$MODDIR/modules.dep"
	for p in "${ORDER[@]}"; do
		stat -L -c '%n %s %Y' "$MODDIR/$p"
	done
}

# Under TCG the kernel's own decompression of a bzImage takes ~2.5 s of each
# boot. A kernel with a PVH entry point (CONFIG_PVH) boots from its plain ELF
# image instead, so unpack that once here, as the kernel's
# scripts/extract-vmlinux does: find the payload by its magic, decompress it,
# keep it if it is an ELF file. Otherwise OUT/kernel is the bzImage itself.
install_kernel() {
	local img=/boot/vmlinuz-$KVER magic tool off
	if grep -qx 'CONFIG_PVH=y' "/boot/config-$KVER" 2>/dev/null; then
		for magic in '\xfd7zXZ\x00 xz' '\x28\xb5\x2f\xfd zstd' '\x1f\x8b\x08 gzip'; do
			tool=${magic#* }
			command -v "$tool" >/dev/null || continue
			for off in $(LC_ALL=C grep -aboP "${magic% *}" "$img" | cut -d: -f1 | head -3); do
				# The bytes after the payload make the tool fail; what
				# counts is whether it wrote an ELF image.
				tail -c +$((off + 1)) "$img" | "$tool" -dc >"$OUT/.vmlinux.$$" 2>/dev/null || true
				if [ "$(head -c 4 "$OUT/.vmlinux.$$" | od -An -c | tr -d ' ')" = '177ELF' ]; then
					mv -f "$OUT/.vmlinux.$$" "$OUT/kernel"
					return
				fi
			done
		done
		rm -f "$OUT/.vmlinux.$$"
	fi
	rm -f "$OUT/kernel"
	ln -s "$img" "$OUT/kernel"
}

mkdir -p "$OUT"
NEW_STAMP=$(stamp)
if [ -f "$OUT/initramfs.cpio.gz" ] && [ -e "$OUT/kernel" ] &&
	[ "$(cat "$OUT/initramfs.stamp" 2>/dev/null)" = "$NEW_STAMP" ]; then
	exit 0
fi

STAGE=$(mktemp -d "$OUT/.stage.XXXXXX")
trap 'rm -rf "$STAGE" "$OUT/.initramfs.$$" "$OUT/.vmlinux.$$"' EXIT

mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,lib/modules}
cp "$BUSYBOX" "$STAGE/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
	[ -e "$STAGE/$applet" ] || ln -s /bin/busybox "$STAGE/$applet"
done
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || true
install -m 755 "$HERE/init.sh" "$STAGE/init"

# busybox insmod may not read compressed modules: store them plain.
: >"$STAGE/lib/modules/load-order"
for p in "${ORDER[@]}"; do
	base=${p##*/}
	src=$MODDIR/$p
	case $base in
	*.ko) cp "$src" "$STAGE/lib/modules/$base" ;;
	*.ko.xz) xz -dc "$src" >"$STAGE/lib/modules/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$src" >"$STAGE/lib/modules/${base%.zst}" ;;
	*.ko.gz) gzip -dc "$src" >"$STAGE/lib/modules/${base%.gz}" ;;
	*) skip "unknown module format: $src" ;;
	esac
	echo "${base%.ko*}.ko" >>"$STAGE/lib/modules/load-order"
done

(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | "${CPIO[@]}") |
	gzip -n -6 >"$OUT/.initramfs.$$"
mv -f "$OUT/.initramfs.$$" "$OUT/initramfs.cpio.gz"
install_kernel
echo "$NEW_STAMP" >"$OUT/initramfs.stamp"
echo "build-initramfs: $OUT/initramfs.cpio.gz for kernel $KVER" >&2
