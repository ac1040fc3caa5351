#!/usr/bin/env bash
# bench-marshal.sh: the marshalling runtime against the disk it writes to.
#
# Interleaves, in one run on one filesystem, the disk's own sequential write
# and read (dd) with the runtime saving and loading a float64 numpy array
# (1 GiB by default): the runtime's save includes its fsync and checksum, its
# load is np.load (copy-on-write mmap) plus touching every page (arr.sum()).
# The page cache is dropped before every read, so reads come from the disk.
# Prints each round, the medians in MB/s, and runtime/disk ratios; the
# target is >= 0.70 for both.
#
# Environment: PYTHON (default /usr/bin/python3), ROUNDS (5), SIZE_MIB (1024),
# SETTLE (seconds of pause before each write, 5), TMPDIR (where the files go).
set -euo pipefail
export LC_ALL=C

PY=${PYTHON:-/usr/bin/python3}
ROUNDS=${ROUNDS:-5}
SIZE_MIB=${SIZE_MIB:-1024}
SETTLE=${SETTLE:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
runtime_dir=$repo/pipelinegen/runtime

if (( SIZE_MIB % 16 )); then
	echo "bench-marshal: SIZE_MIB must be a multiple of 16" >&2
	exit 2
fi
if ! "$PY" -c 'import numpy' 2>/dev/null; then
	echo "bench-marshal: numpy is not importable by $PY (apt-get install python3-numpy)" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/di-bench-marshal.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The runtime logs each save and load on stderr; shown only if a run fails.
trap '[[ -s $work/python.log ]] && tail -20 "$work/python.log" >&2' ERR
bytes=$(( SIZE_MIB * 1024 * 1024 ))

cat >"$work/bench.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.environ["RUNTIME_DIR"])
import numpy as np
import datainsight_runtime as di

cmd, root = sys.argv[1], sys.argv[2]
if cmd == "save":
    n = int(sys.argv[3]) * (1 << 20) // 8
    arr = np.random.default_rng(0).random(n)  # incompressible, made before the clock starts
    step = di.Step("producer", root=root, run_id="bench", exit_on_error=False)
    t = time.perf_counter()
    step.save({"arr": arr}, {"arr": 1})
    print(time.perf_counter() - t)
elif cmd == "load":
    step = di.Step("consumer", root=root, run_id="bench", exit_on_error=False)
    t = time.perf_counter()
    arr = step.load("arr", "producer")
    arr.sum()  # touches every page
    print(time.perf_counter() - t)
elif cmd == "evict":
    # Without root, drop just these files' clean pages from the cache.
    for path in sys.argv[2:]:
        fd = os.open(path, os.O_RDONLY)
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
EOF

cache_mode=drop_caches
if ! { sync && echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
	cache_mode=fadvise
fi

drop_cache() { # files to evict when /proc/sys/vm/drop_caches is not writable
	sync
	if [[ $cache_mode == drop_caches ]]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		RUNTIME_DIR=$runtime_dir "$PY" "$work/bench.py" evict "$@"
	fi
}

# dd prints "N bytes (...) copied, S s, R MB/s"; S is the time it measured.
dd_seconds() { awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print $(i-1) }'; }

dd_write() {
	dd if=/dev/zero of="$work/dd.bin" bs=16M count=$(( SIZE_MIB / 16 )) conv=fdatasync 2>&1 | dd_seconds
}
dd_read() {
	drop_cache "$work/dd.bin"
	dd if="$work/dd.bin" of=/dev/null bs=16M 2>&1 | dd_seconds
}
rt_save() {
	RUNTIME_DIR=$runtime_dir "$PY" "$work/bench.py" save "$work/marshal" "$SIZE_MIB" 2>>"$work/python.log"
}
rt_load() {
	drop_cache "$work/marshal/bench/producer/arr.npy"
	RUNTIME_DIR=$runtime_dir "$PY" "$work/bench.py" load "$work/marshal" 2>>"$work/python.log"
}

mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.0f\n", (v[m] + v[m + 1]) / 2 }'; }

echo "bench-marshal: ${SIZE_MIB} MiB, $ROUNDS rounds, in $work ($(df -h --output=source "$work" | tail -1)), cache: $cache_mode"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %12s %14s %12s %14s   (MB/s)\n' round dd-write runtime-save dd-read runtime-load
dw=() rs=() dr=() rl=()
for (( i = 1; i <= ROUNDS; i++ )); do
	rm -rf "$work/dd.bin" "$work/marshal"
	# A write that follows another one closely runs much slower on some
	# disks (a VM host still flushing the first): so every write comes
	# after a read phase and a pause, and who goes first alternates.
	if (( i % 2 )); then
		sleep "$SETTLE"; w=$(dd_write); r=$(dd_read)
		sleep "$SETTLE"; s=$(rt_save); l=$(rt_load)
	else
		sleep "$SETTLE"; s=$(rt_save); l=$(rt_load)
		sleep "$SETTLE"; w=$(dd_write); r=$(dd_read)
	fi
	dw+=("$(mbps "$w")") rs+=("$(mbps "$s")") dr+=("$(mbps "$r")") rl+=("$(mbps "$l")")
	printf '%-6s %12s %14s %12s %14s\n' "$i" "${dw[-1]}" "${rs[-1]}" "${dr[-1]}" "${rl[-1]}"
done
mdw=$(median "${dw[@]}") mrs=$(median "${rs[@]}") mdr=$(median "${dr[@]}") mrl=$(median "${rl[@]}")
printf '%-6s %12s %14s %12s %14s\n' median "$mdw" "$mrs" "$mdr" "$mrl"
awk -v s="$mrs" -v w="$mdw" -v l="$mrl" -v r="$mdr" 'BEGIN {
	printf "ratio  save/dd-write %.2f   load/dd-read %.2f   (target >= 0.70)\n", s / w, l / r
}'
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
