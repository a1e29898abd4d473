#!/bin/bash
# Persistent volumes of a node (--volume NAME:SIZE:PATH): made by the first
# slice that names one (an ext4 image on a loop device, its root owned by
# the slice's user), mounted read-write at PATH, and found again, data and
# all, by the next slice that names it, after kill -9 of the supervisor and
# after a clean stop; its size is a hard limit; a volume in use by a running
# slice, one of another size, a path a read-only root lacks and bad flags
# are refused with nothing made; `acre volume list` shows it and `acre
# volume rm` removes it (refused while a slice names it), leaving no image,
# mount or loop device behind.
. "$(dirname "$0")/lib.sh"
require losetup mkfs.ext4 jq
start_supervisor --prelaunch 2
vol_dir=$STATE_DIR/volumes

loops_of() { losetup -a | grep -c "$vol_dir/$1/image" || true; }

# ---- made at first use, found again with its data ---------------------------------------
out=$(in_slice --rw --volume data:64M:/var/lib/app -- \
	'echo kept >/var/lib/app/f && stat -c "%U %a" /var/lib/app && df -k /var/lib/app | tail -1')
assert_contains "$out" "root 755" "a fresh volume's root, the slice user's"
size_k=$(awk '{print $2}' <<<"$(tail -1 <<<"$out")")
[ "$size_k" -gt 40000 ] && [ "$size_k" -le 65536 ] || fail "the volume's filesystem: ${size_k}K for 64M: $out"
assert_eq "$(in_slice --rw --volume data:64M:/var/lib/app -- 'cat /var/lib/app/f')" kept \
	"another slice reads what the first wrote"
# Another path, on a root that has it already (read-only is fine then).
assert_eq "$(in_slice --volume data:64M:/opt -- 'cat /opt/f')" kept "the same volume at /opt"
log "a volume's data outlives its slices"

# ---- a user's volume; the size is a hard limit ---------------------------------------------
out=$(in_slice --rw --user nobody --volume nb:32M:/var/lib/nb -- \
	'stat -c "%U" /var/lib/nb; echo x >/var/lib/nb/y && echo wrote')
assert_contains "$out" "nobody" "a volume made for a slice of nobody"
assert_contains "$out" "wrote" "nobody writes in it"
out=$(in_slice --rw --volume small:16M:/data -- \
	'dd if=/dev/zero of=/data/z bs=1M count=64 2>&1; echo rc=$?')
assert_contains "$out" "No space left on device" "writing 64M into 16M"
assert_contains "$out" "rc=1" "dd's status past the size"

# ---- refused, with nothing made ------------------------------------------------------------
acre slice run -d --name holder --rw --volume data:64M:/var/lib/app -- sleep 600 >/dev/null ||
	fail "run holder"
out=$(acre slice run --rm --rw --volume data:64M:/var/lib/app -- true 2>&1) &&
	fail "a second running slice took volume data"
assert_contains "$out" "volume data: in use by slice holder, which runs"
out=$(acre slice run --rm --rw --volume nb:64M:/var/lib/nb -- true 2>&1) && fail "a volume resized"
assert_contains "$out" "volume nb: it exists with 33554432 bytes, not 67108864"
out=$(acre slice run --rm --volume fresh:32M:/srv/nowhere -- true 2>&1) &&
	fail "a volume on a path a read-only root lacks"
assert_contains "$out" "volume path /srv/nowhere: No such file or directory in the slice's read-only root"
for bad in data data:1G data:1K:/x data:1G:relative data:1G:/proc/x 'da ta:1G:/x'; do
	out=$(acre slice run --rm --volume "$bad" -- true 2>&1) && fail "--volume $bad was accepted"
	assert_contains "$out" "--volume $bad" "the error of --volume $bad"
done
out=$(acre slice run --rm --volume a:32M:/x --volume a:32M:/y -- true 2>&1) && fail "a volume twice"
assert_contains "$out" "named twice"
[ ! -e "$vol_dir/da ta" ] && [ ! -e "$vol_dir/x" ] || fail "a refused volume was made"

# ---- kill -9 and a restart: still mounted, still there ------------------------------------
holder_pid=$(slice_field holder .pid)
kill_supervisor
assert_eq "$(cat "/proc/$holder_pid/root/var/lib/app/f" 2>/dev/null || echo gone)" kept \
	"holder's volume with no supervisor"
restart_supervisor
acre slice rm --force holder >/dev/null || fail "rm holder"
assert_eq "$(in_slice --rw --volume data:64M:/var/lib/app -- 'cat /var/lib/app/f')" kept \
	"the volume after kill -9 and a restart"
assert_eq "$(loops_of data)" 1 "one loop device for volume data"

# ---- list and rm -------------------------------------------------------------------------
list=$(acre -j volume list)
assert_eq "$(jq -r '[.[].name] | sort | join(" ")' <<<"$list")" "data nb small" "acre volume list"
assert_eq "$(jq -r '.[] | select(.name == "data") | "\(.size) \(.mounted)"' <<<"$list")" \
	"67108864 true" "data's size and mount"
acre slice run -d --name user --rw --volume data:64M:/var/lib/app -- sleep 600 >/dev/null
out=$(acre volume rm data 2>&1) && fail "a volume a slice names was removed"
assert_contains "$out" "slice user names it"
acre slice rm --force user >/dev/null
acre volume rm data >/dev/null || fail "acre volume rm data"
[ ! -e "$vol_dir/data" ] || fail "volume data left $(ls -la "$vol_dir/data")"
assert_eq "$(loops_of data)" 0 "loop devices of a removed volume"
out=$(acre volume rm data 2>&1) && fail "a removed volume removed again"
assert_contains "$out" "no volume named data on this node"

# ---- a clean stop with no slice: unmounted, the images kept --------------------------------
in_slice --rw --volume nb:32M:/var/lib/nb -- true >/dev/null
stop_supervisor
assert_eq "$(awk -v d="$vol_dir/" 'index($5, d) == 1' /proc/self/mountinfo | wc -l)" 0 \
	"volume mounts after a clean stop"
assert_eq "$(loops_of nb)" 0 "loop devices after a clean stop"
[ -f "$vol_dir/nb/image" ] || fail "a clean stop removed the image of volume nb"
log "test_volumes: done"
