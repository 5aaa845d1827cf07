#!/bin/sh
# bench/scale.sh: the whole flow at several tree sizes, with wall time and peak
# RSS of every process: a full (bt-scan | bt-delta --auto | bt-seal | bt-put),
# a no-change differential of the same tree, and the restore of the full
# (bt-get | bt-open | bt-restore), verified by file count and bytes.
#
# Knobs (environment):
#   BENCH_DIR  scratch directory, outside the repo (default /var/tmp/bt-scale-bench)
#   SCALE      file counts, one tree each (default "10000 100000 1000000")
# Trees come from bench/make-tree.js (0 to 16 KiB a file, 1000 directories)
# and are kept under $BENCH_DIR/trees. The results (markdown) go to stdout.
set -eu

BENCH_DIR=${BENCH_DIR:-/var/tmp/bt-scale-bench}
SCALE=${SCALE:-10000 100000 1000000}
LC_ALL=C
export LC_ALL
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BIN=$ROOT/bin

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ -x /usr/bin/time ] || die "/usr/bin/time is missing" "apt-get install -y time"
[ -f "$ROOT/dist/src/cli/bt-scan.js" ] || die "backtory is not built (no dist/)" "run \"npx tsc -p .\" in $ROOT"
for n in $SCALE; do
	case $n in '' | *[!0-9]*) die "SCALE must hold whole numbers, not \"$n\"" ;; esac
done
scratch_dir
mkdir -p "$STEPS" "$BENCH_DIR/trees"
if [ -d "$RUN" ]; then
	say "removing the last run's copies"
	mass_delete "$RUN"
fi
mkdir -p "$RUN/keys"
node "$BIN/bt-keygen.js" --out "$RUN/keys/admin" >/dev/null 2>&1
node "$BIN/bt-keygen.js" --type ed25519 --out "$RUN/keys/host" >/dev/null 2>&1
K=$RUN/keys

backup() { # backup TREE STATE STORE
	timed scan node "$BIN/bt-scan.js" --state "$2" "$1" |
		timed delta node "$BIN/bt-delta.js" --auto --state "$2" |
		timed seal node "$BIN/bt-seal.js" --to "$K/admin.pub" --sign "$K/host.key" --set scale |
		timed put node "$BIN/bt-put.js" --state "$2" "file://$3" >>"$3.names"
}

echo '| files | step | wall s | CPU s | peak RSS per process (MiB) |'
echo '|---:|---|---:|---:|---|'
for n in $SCALE; do
	tree=$BENCH_DIR/trees/files-$n
	if [ ! -d "$tree" ]; then
		say "building $tree"
		node "$ROOT/bench/make-tree.js" "$tree" "$n" >/dev/null
	fi
	w=$RUN/$n
	mkdir -p "$w/store"
	sync
	settle
	for step in full no-change; do
		say "$n files: $step"
		step_begin "$n-$step"
		backup "$tree" "$w/state" "$w/store"
		r=$(step_end)
		echo "| $n | $step | $(echo "$r" | cut -d' ' -f1) | $(echo "$r" | cut -d' ' -f2) | $(step_rss) |"
	done
	say "$n files: restore of the full"
	sync
	step_begin "$n-restore"
	timed get node "$BIN/bt-get.js" "file://$w/store/$(head -n 1 "$w/store.names")" |
		timed open node "$BIN/bt-open.js" --key "$K/admin.key" --verify "$K/host.pub" |
		timed restore node "$BIN/bt-restore.js" "$w/out"
	r=$(step_end)
	echo "| $n | restore | $(echo "$r" | cut -d' ' -f1) | $(echo "$r" | cut -d' ' -f2) | $(step_rss) |"
	want=$(find "$tree" -type f | wc -l)
	got=$(find "$w/out" -type f ! -name .backtory-restore.json | wc -l)
	[ "$want" = "$got" ] || die "$n files: the restore holds $got files, not $want"
	[ "$(du -sb --apparent-size "$tree" | cut -f1)" -le "$(du -sb --apparent-size "$w/out" | cut -f1)" ] ||
		die "$n files: the restore holds fewer bytes than the tree"
done
