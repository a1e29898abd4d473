#!/usr/bin/env bash
# bench/launch: the median time of
#   acre slice run --rm --rootfs DIR --memory 256M --pids 128 --cpus 1 -- /bin/true
# against `crun run` of an OCI bundle with the same busybox rootfs, the same
# namespaces (pid, net, ipc, uts, mount, cgroup), the same limits and the same
# seccomp rules (acre's default deny list, read from isolation/seccomp.c), in
# one hyperfine run.  Prints both medians and the ratio (target: <= 0.5).
#
# crun 1.8 refuses hybrid cgroups while the v2 tree holds a controller, so
# hugetlb is bound to a v1 mount for the run and released afterwards.
# Usage: bench/launch.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
runs=${1:-200}
for tool in crun hyperfine busybox python3; do
	command -v "$tool" >/dev/null || { echo "bench/launch: $tool is missing (make deps)"; exit 1; }
done

work=$(mktemp -d /tmp/acre-bench-launch.XXXXXX)
root=acre-bench-$$
hugetlb_mnt=""
cleanup() {
	[ -n "${sv:-}" ] && kill "$sv" 2>/dev/null && wait "$sv" 2>/dev/null || true
	crun --root "$work/crun" list -q 2>/dev/null | xargs -r -n1 crun --root "$work/crun" delete -f \
		>/dev/null 2>&1 || true
	if [ -n "$hugetlb_mnt" ]; then
		# The hierarchy stays bound to v1 unless only its root cgroup is left.
		for _ in $(seq 100); do
			[ "$(awk '$1 == "hugetlb" {print $3}' /proc/cgroups)" = 1 ] && break
			sleep 0.1
		done
		umount "$hugetlb_mnt" && rmdir "$hugetlb_mnt"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# The rootfs: static busybox with its applets.
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" \
	"$work/rootfs/tmp" "$work/rootfs/run" "$work/rootfs/etc"
cp "$(command -v busybox)" "$work/rootfs/bin/busybox"
for applet in $(busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$work/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$work/rootfs/etc/passwd"

# The OCI bundle, from crun's own template.
mkdir -p "$work/bundle" "$work/crun"
ln -s ../rootfs "$work/bundle/rootfs"
(cd "$work/bundle" && crun spec)
python3 - "$work/bundle/config.json" "$here/isolation/seccomp.c" <<'EOF'
import json, re, sys
path, seccomp_c = sys.argv[1], sys.argv[2]
c = json.load(open(path))
src = open(seccomp_c).read()
denied = re.findall(r'"(\w+)"', src[src.index('default_denied[]'):src.index('};', src.index('default_denied[]'))])
ns_flags = [0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]
rules = [{"names": denied, "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
for f in ns_flags:
    rules.append({"names": ["unshare", "clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                  "args": [{"index": 0, "value": f, "valueTwo": f, "op": "SCMP_CMP_MASKED_EQ"}]})
rules.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"] = {"path": "rootfs", "readonly": True}
c["linux"]["namespaces"] = [{"type": t} for t in ["pid", "network", "ipc", "uts", "mount", "cgroup"]]
c["linux"]["resources"] = {"memory": {"limit": 256 << 20}, "pids": {"limit": 128},
                           "cpu": {"quota": 100000, "period": 100000}}
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                         "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                         "syscalls": rules}
# crun 1.8.1 leaves the tmpfs on /sys/fs/cgroup writable; acre's is read-only.
c["linux"].setdefault("readonlyPaths", []).append("/sys/fs/cgroup")
json.dump(c, open(path, "w"), indent=1)
print("seccomp: %d denied calls plus namespace flags, for both" % len(denied))
EOF

# acre: its own supervisor with a private socket, state and cgroup subtree.
export ACRE_SOCKET=$work/sock
"$bin/acre-supervisor" --socket "$ACRE_SOCKET" --state-dir "$work/state" --cgroup-root "$root" \
	--log-level warn 2>"$work/supervisor.log" &
sv=$!
for _ in $(seq 100); do "$bin/acre" slice list >/dev/null 2>&1 && break; sleep 0.05; done

if [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ] &&
	[ -d /sys/fs/cgroup/memory ]; then
	hugetlb_mnt=$(mktemp -d /tmp/acre-bench-hugetlb.XXXXXX)
	mount -t cgroup -o hugetlb none "$hugetlb_mnt"
fi

acre_cmd="$bin/acre slice run --rm --rootfs $work/rootfs --memory 256M --pids 128 --cpus 1 -- /bin/true"
crun_cmd="crun --root $work/crun run --bundle $work/bundle bench"
# Both must work before they are timed.
$acre_cmd
$crun_cmd

hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/times.json" \
	-n acre "$acre_cmd" -n crun "$crun_cmd" >"$work/hyperfine.txt" 2>&1 ||
	{ cat "$work/hyperfine.txt"; exit 1; }
python3 - "$work/times.json" <<'EOF'
import json, statistics, sys
res = {r["command"]: sorted(t * 1000 for t in r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
for name, t in res.items():
    print("%-5s median %6.2f ms   p10 %6.2f   p90 %6.2f   (%d runs)" %
          (name, statistics.median(t), t[len(t) // 10], t[len(t) * 9 // 10], len(t)))
ratio = statistics.median(res["acre"]) / statistics.median(res["crun"])
print("ratio acre/crun (median): %.2f   (target <= 0.50)" % ratio)
EOF
