#!/bin/sh
# bench/scan-restore.sh: throughput and peak memory of
#     bt-scan TREE | bt-restore OUT
# against GNU tar's
#     tar -C TREE -cf - . | tar -C OUT -xpf -
# on synthetic trees. See bench/README.md.
#
# Knobs (environment):
#   BENCH_DIR    scratch directory, outside the repo   (default /var/tmp/bt-bench)
#   SMALL_FILES  files in the small-file tree          (default 100000)
#   BIG_FILES    files in the large-file tree          (default 3)
#   BIG_SIZE_MB  size of each large file, MiB          (default 1024)
#   RUNS         timed runs per tree and tool          (default 1)
#   MEM_SMALL, MEM_LARGE  file counts of the two memory-scaling trees
#                (default 10000 and 200000)
#
# Trees are built once under $BENCH_DIR/trees and reused by later runs; remove
# $BENCH_DIR to reclaim the space. Each run restores into its own directory
# under $BENCH_DIR/out, and all of them are deleted only after the last timed
# run: on ext4 without a journal, inodes freed in the last 5 to 300 seconds are
# skipped one by one when new ones are allocated, so a mass delete right before
# a run makes that run's file creation several times slower (see README).
# Progress goes to stderr; the results (a plain table, then the same as
# markdown) go to stdout.
set -eu

BENCH_DIR=${BENCH_DIR:-/var/tmp/bt-bench}
SMALL_FILES=${SMALL_FILES:-100000}
BIG_FILES=${BIG_FILES:-3}
BIG_SIZE_MB=${BIG_SIZE_MB:-1024}
RUNS=${RUNS:-1}
MEM_SMALL=${MEM_SMALL:-10000}
MEM_LARGE=${MEM_LARGE:-200000}
# The project's goals (README): throughput ratios to GNU tar, and memory.
GOAL_BIG=0.8
GOAL_SMALL=0.5
GOAL_RSS_MIB=100
GOAL_RSS_SPREAD=10

LC_ALL=C
export LC_ALL
TIME=/usr/bin/time
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BT_SCAN=$ROOT/bin/bt-scan.js
BT_RESTORE=$ROOT/bin/bt-restore.js

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

v=
for knob in SMALL_FILES BIG_FILES BIG_SIZE_MB RUNS MEM_SMALL MEM_LARGE; do
	eval "v=\$$knob"
	case $v in
	'' | *[!0-9]*) die "$knob must be a whole number, not \"$v\"" ;;
	esac
done
[ "$RUNS" -ge 1 ] || die "RUNS must be at least 1"

# --- preflight ---------------------------------------------------------------
[ -x "$TIME" ] || die "$TIME is missing" "apt-get install -y time"
"$TIME" --version 2>&1 | grep -q GNU || die "$TIME is not GNU time (needs -f and -o)"
tar --version 2>/dev/null | grep -q 'GNU tar' || die "tar is not GNU tar"
command -v node >/dev/null || die "node is missing"
[ -f "$ROOT/dist/src/cli/bt-scan.js" ] && [ -f "$ROOT/dist/src/cli/bt-restore.js" ] ||
	die "backtory is not built (no dist/)" "run \"npx tsc -p .\" in $ROOT"
[ -f "$ROOT/build/Release/backtory_sys.node" ] ||
	die "the native helper is not built" "run \"npm rebuild\" in $ROOT"

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
case $BENCH_DIR/ in
/ | "$ROOT"/*) die "BENCH_DIR must be a scratch directory outside the repository, not \"$BENCH_DIR\"" ;;
esac
TREES=$BENCH_DIR/trees
OUTS=$BENCH_DIR/out
RES=$BENCH_DIR/results
# shellcheck disable=SC2034 # SETTLED and SETTLE_S are read by mass_delete and settle in lib.sh
SETTLED=$BENCH_DIR/last-delete
# shellcheck disable=SC2034
SETTLE_S=${SETTLE_S:-310}
mkdir -p "$TREES"

[ ! -d "$OUTS" ] || mass_delete "$OUTS"
rm -rf "$RES"
mkdir -p "$RES"
RESULTS=$RES/runs.tsv
: >"$RESULTS"

[ "$(id -u)" -eq 0 ] || say "note: not root, so neither tool restores owners; figures are still comparable"

SMALL_NAME=small-$SMALL_FILES
BIG_NAME=big-${BIG_FILES}x${BIG_SIZE_MB}M
MEM10_NAME=files-$MEM_SMALL
MEM200_NAME=files-$MEM_LARGE

# Rough disk need of a tree in KiB (data plus block and inode overhead).
need_kib() {
	case $1 in
	big-*) echo $((BIG_FILES * BIG_SIZE_MB * 1024)) ;;
	*) echo $((${1#*-} * 12)) ;;
	esac
}
need=0
outs=0
for t in "$SMALL_NAME" "$BIG_NAME" "$MEM10_NAME" "$MEM200_NAME"; do
	k=$(need_kib "$t")
	[ -d "$TREES/$t" ] || need=$((need + k))
	outs=$((outs + 2 * RUNS * k))
done
need=$((need + outs)) # every run's restored copy, kept until the end
avail=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
[ "$avail" -gt "$need" ] ||
	die "$BENCH_DIR has $((avail / 1024)) MiB free, the benchmark needs about $((need / 1024)) MiB" \
		"lower SMALL_FILES, BIG_FILES or BIG_SIZE_MB, or point BENCH_DIR elsewhere"

# --- trees -------------------------------------------------------------------
# Each tree T has T.files and T.bytes beside it (regular files, apparent bytes).
record_tree() {
	find "$1" -type f -printf '%s\n' | awk -v f="$1" '
		{ n++; b += $1 }
		END { printf "%d\n", n > (f ".files"); printf "%.0f\n", b > (f ".bytes") }'
}

make_small() {
	[ -d "$TREES/$1" ] && [ -f "$TREES/$1.bytes" ] && return 0
	[ ! -d "$TREES/$1" ] || mass_delete "${TREES:?}/$1"
	say "building $1 ($2 files of 0-16 KiB over 1000 directories)"
	node "$ROOT/bench/make-tree.js" "$TREES/$1" "$2" "$1" >/dev/null
	record_tree "$TREES/$1"
}

make_big() {
	[ -d "$TREES/$BIG_NAME" ] && [ -f "$TREES/$BIG_NAME.bytes" ] && return 0
	rm -rf "${TREES:?}/$BIG_NAME" "${TREES:?}/$BIG_NAME.tmp"
	say "building $BIG_NAME ($BIG_FILES incompressible files of $BIG_SIZE_MB MiB)"
	mkdir "$TREES/$BIG_NAME.tmp"
	i=1
	while [ "$i" -le "$BIG_FILES" ]; do
		f=$TREES/$BIG_NAME.tmp/big$i.bin
		if command -v openssl >/dev/null; then
			# A fixed key and a per-file IV: reproducible, incompressible, distinct.
			openssl enc -aes-256-ctr -nosalt \
				-K 6261636b746f72792d62656e63682d6b65792d66697865642d333262797465 \
				-iv "$(printf '%032x' "$i")" -in /dev/zero 2>/dev/null |
				head -c $((BIG_SIZE_MB * 1048576)) >"$f"
		else
			head -c $((BIG_SIZE_MB * 1048576)) /dev/urandom >"$f"
		fi
		[ "$(wc -c <"$f")" -eq $((BIG_SIZE_MB * 1048576)) ] || die "could not write $f"
		i=$((i + 1))
	done
	mv "$TREES/$BIG_NAME.tmp" "$TREES/$BIG_NAME"
	record_tree "$TREES/$BIG_NAME"
}

make_small "$SMALL_NAME" "$SMALL_FILES"
make_big
make_small "$MEM10_NAME" "$MEM_SMALL"
make_small "$MEM200_NAME" "$MEM_LARGE"

# --- runs --------------------------------------------------------------------

# check_time FILE WHAT: GNU time's -o file holds "elapsed maxrss exit user sys"; it
# prepends a "Command ..." line when the command failed or was killed.
check_time() {
	if grep -q '^Command' "$1" || [ "$(awk 'END { print $3 }' "$1")" != 0 ]; then
		die "$2 failed: $(head -n 1 "$1")" "see the tool's stderr above"
	fi
}

# verify TREE OUT: the restored copy has the same number of files and bytes
# (not counting the marker file bt-restore leaves at the top of its target).
verify() {
	got=$(find "$2" -type f ! -path "$2/.backtory-restore.json" -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d %.0f\n", n, b }')
	want="$(cat "$1.files") $(cat "$1.bytes")"
	[ "$got" = "$want" ] || die "restored copy of $1 differs: files/bytes $got, expected $want"
}

# run_one TREENAME TOOL RUN: one timed pipeline into a fresh directory,
# appended to $RESULTS.
run_one() {
	tree=$TREES/$1
	p=$RES/$1.$2.$3
	out=$OUTS/$1.$2.$3
	mkdir -p "$out"
	sync # flush earlier writes, so each run starts clean (not timed)
	# Give other work up to a minute to finish; then go on, and say so.
	waited=0
	busy=$(cpu_busy)
	while [ "$busy" -gt 10 ] && [ "$waited" -lt 60 ]; do
		busy=$(cpu_busy)
		waited=$((waited + 1))
	done
	[ "$busy" -le 10 ] || say "warning: the CPUs were ${busy}% busy before this run; other work skews it"
	t0=$(now_ns)
	case $2 in
	backtory)
		"$TIME" -f '%e %M %x %U %S' -o "$p.prod" "$BT_SCAN" "$tree" |
			"$TIME" -f '%e %M %x %U %S' -o "$p.cons" "$BT_RESTORE" "$out"
		;;
	tar)
		"$TIME" -f '%e %M %x %U %S' -o "$p.prod" tar -C "$tree" -cf - . |
			"$TIME" -f '%e %M %x %U %S' -o "$p.cons" tar -C "$out" -xpf -
		;;
	esac
	t1=$(now_ns)
	# No pipefail in POSIX sh: each side's status comes from its time file.
	check_time "$p.prod" "$2 producer on $1"
	check_time "$p.cons" "$2 consumer on $1"
	verify "$tree" "$out"
	# tree files bytes tool run wall-ns prod-rss-KiB cons-rss-KiB busy% prod-cpu-s cons-cpu-s
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(cat "$tree.files")" "$(cat "$tree.bytes")" "$2" "$3" \
		"$((t1 - t0))" "$(awk 'END { print $2 }' "$p.prod")" "$(awk 'END { print $2 }' "$p.cons")" "$busy" \
		"$(awk 'END { print $4 + $5 }' "$p.prod")" "$(awk 'END { print $4 + $5 }' "$p.cons")" >>"$RESULTS"
	say "$(printf '%-18s %-8s run %s: %7.2f s (CPUs %s%% busy before)' "$1" "$2" "$3" \
		"$(awk -v ns=$((t1 - t0)) 'BEGIN { print ns / 1e9 }')" "$busy")"
}

settle
say "warm page cache: each tree is read once before its timed runs; output goes to the page cache, sync'd (untimed) before each run"
for name in "$BIG_NAME" "$SMALL_NAME" "$MEM10_NAME" "$MEM200_NAME"; do
	# Through cat: GNU tar skips reading file data when the archive is /dev/null.
	tar -C "$TREES/$name" -cf - . | cat >/dev/null
	r=1
	while [ "$r" -le "$RUNS" ]; do
		run_one "$name" backtory "$r"
		run_one "$name" tar "$r"
		r=$((r + 1))
	done
done
say "deleting the restored copies"
mass_delete "$OUTS"

# --- report ------------------------------------------------------------------
# report plain|md: median wall over RUNS, peak RSS the maximum over RUNS.
report() {
	awk -F '\t' -v fmt="$1" -v runs="$RUNS" -v m10="$MEM10_NAME" -v m200="$MEM200_NAME" \
		-v big="$BIG_NAME" -v small="$SMALL_NAME" -v gbig="$GOAL_BIG" -v gsmall="$GOAL_SMALL" \
		-v grss="$GOAL_RSS_MIB" -v gspread="$GOAL_RSS_SPREAD" -v host="$(uname -sr), $(nproc) CPUs" '
	function median(key,   n, i, j, t, a) {
		n = cnt[key]
		for (i = 1; i <= n; i++) a[i] = wall[key, i]
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function row(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) {
		if (fmt == "md") printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c1, c2, c3, c4, c5, c6, c7, c8, c9, c10
		else printf "%-16s %7s %6s %-9s %7s %6s %8s %8s %11s %7s\n", c1, c2, c3, c4, c5, c6, c7, c8, c9, c10
	}
	function row4(c1, c2, c3, c4) {
		if (fmt == "md") printf "| %s | %s | %s | %s |\n", c1, c2, c3, c4
		else printf "%-28s %14s %14s %10s\n", c1, c2, c3, c4
	}
	function verdict(ok) { return ok ? "met" : "MISSED" }
	function mib(k) { return sprintf("%.1f", k / 1024) }
	{
		key = $1 SUBSEP $4
		if (!(key in cnt)) { order[++nkeys] = key; files[$1] = $2; bytes[$1] = $3 }
		cnt[key]++
		wall[key, cnt[key]] = $6 / 1e9
		if ($7 > prss[key]) prss[key] = $7
		if ($8 > crss[key]) crss[key] = $8
		if ($9 > busy) busy = $9
		pcpu[key] += $10 / runs
		ccpu[key] += $11 / runs
	}
	END {
		for (k = 1; k <= nkeys; k++) { key = order[k]; w[key] = median(key) }
		if (fmt == "md") {
			printf "Measured by `bench/scan-restore.sh` (%s; warm cache; median of %d run%s):\n\n", host, runs, (runs > 1 ? "s" : "")
			row("tree", "files", "MB", "tool", "wall s", "MB/s", "producer RSS MiB", "consumer RSS MiB", "CPU s (prod+cons)", "bt / tar")
			row("---", "---:", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---:")
		} else {
			printf "warm cache; wall = median of %d run(s); MB = 10^6 bytes of file data; RSS = peak, max over runs;\n", runs
			printf "CPU = user+sys seconds of producer+consumer, mean over runs\n"
			row("tree", "files", "MB", "tool", "wall s", "MB/s", "prod MiB", "cons MiB", "CPU s", "bt/tar")
		}
		for (k = 1; k <= nkeys; k++) {
			key = order[k]
			split(key, kk, SUBSEP)
			t = kk[1]
			tool = kk[2]
			ratio = "-"
			if (tool == "backtory" && ((t, "tar") in w)) {
				r[t] = w[t, "tar"] / w[key]
				ratio = sprintf("%.2f", r[t])
			}
			row(t, files[t], sprintf("%.0f", bytes[t] / 1e6), tool, sprintf("%.2f", w[key]),
				sprintf("%.0f", bytes[t] / 1e6 / w[key]), mib(prss[key]), mib(crss[key]),
				sprintf("%.1f+%.1f", pcpu[key], ccpu[key]), ratio)
		}
		print ""
		row4("backtory peak RSS", files[m10] " files", files[m200] " files", "diff")
		if (fmt == "md") row4("---", "---:", "---:", "---:")
		split("bt-scan bt-restore", procs, " ")
		maxrss = 0
		spread_ok = 1
		for (i = 1; i <= 2; i++) {
			a = i == 1 ? prss[m10, "backtory"] : crss[m10, "backtory"]
			b = i == 1 ? prss[m200, "backtory"] : crss[m200, "backtory"]
			d = a > 0 ? (b - a) / a * 100 : 0
			if (d > gspread || d < -gspread) spread_ok = 0
			row4(procs[i], mib(a) " MiB", mib(b) " MiB", sprintf("%+.1f%%", d))
		}
		for (key in prss) if (key ~ ("backtory$")) {
			if (prss[key] > maxrss) maxrss = prss[key]
			if (crss[key] > maxrss) maxrss = crss[key]
		}
		print ""
		if (fmt == "md") { row4("goal", "target", "measured", "verdict"); row4("---", "---:", "---:", "---") }
		else row4("goal", "target", "measured", "verdict")
		row4("throughput, large files", ">= " gbig "x tar", sprintf("%.2fx", r[big]), verdict(r[big] >= gbig))
		row4("throughput, small files", ">= " gsmall "x tar", sprintf("%.2fx", r[small]), verdict(r[small] >= gsmall))
		row4("peak RSS per process", "< " grss " MiB", mib(maxrss) " MiB", verdict(maxrss / 1024 < grss))
		row4("RSS, " files[m10] " vs " files[m200] " files", "within " gspread "%", spread_ok ? "yes" : "no", verdict(spread_ok))
		if (busy > 10) printf "\nNote: other work kept the CPUs up to %d%% busy just before a run; figures are noisy.\n", busy
	}' "$RESULTS"
}

report plain
printf '\n<!-- markdown for README -->\n'
report md
