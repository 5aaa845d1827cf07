#!/bin/sh
# bench/codec.sh: CPU seconds per entry of each stage that encodes or parses
# a stream, each stage alone on a saved stream (so a stage's cost is its own,
# not its neighbour's in a pipe): bt-scan (a full), bt-ls (parse and verify),
# bt-delta --full (parse, hash, index), bt-seal (verify while sealing),
# bt-scan --state (a no-change quick scan) and bt-delta on that quick stream.
#
# Knobs (environment):
#   BENCH_DIR  scratch directory, outside the repo (default /var/tmp/bt-codec-bench)
#   FILES      file counts, one tree each (default "20000 100000")
#   RUNS       runs of each stage; the table shows the median (default 5)
#   BT         checkouts to compare, each built (default: this one); their
#              runs are interleaved, so a busy machine skews them alike
# CPU is user plus system seconds from GNU time, which a shared machine
# inflates far less than wall time. The results (markdown) go to stdout.
set -eu

BENCH_DIR=${BENCH_DIR:-/var/tmp/bt-codec-bench}
FILES=${FILES:-20000 100000}
RUNS=${RUNS:-5}
LC_ALL=C
export LC_ALL
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BT=${BT:-$ROOT}

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ -x /usr/bin/time ] || die "/usr/bin/time is missing" "apt-get install -y time"
for b in $BT; do
	[ -f "$b/dist/src/cli/bt-scan.js" ] || die "$b is not built (no dist/)" "run \"npx tsc -p .\" in $b"
done
for n in $FILES; do
	case $n in '' | *[!0-9]*) die "FILES must hold whole numbers, not \"$n\"" ;; esac
done
scratch_dir
mkdir -p "$BENCH_DIR/trees" "$RUN"
K=$RUN/keys
if [ ! -f "$K/admin.pub" ]; then
	mkdir -p "$K"
	node "$ROOT/bin/bt-keygen.js" --out "$K/admin" >/dev/null 2>&1
	node "$ROOT/bin/bt-keygen.js" --type ed25519 --out "$K/host" >/dev/null 2>&1
fi

# one STAGE BT W: runs STAGE once with checkout BT in work directory W; prints "cpu_s rss_kib".
one() {
	bin=$2/bin
	w=$3
	t=$w/time
	case $1 in
	scan) /usr/bin/time -f '%x %U %S %M' -o "$t" node "$bin/bt-scan.js" "$tree" >"$w/full.bt" ;;
	ls) /usr/bin/time -f '%x %U %S %M' -o "$t" node "$bin/bt-ls.js" "$w/full.bt" >/dev/null ;;
	delta-full)
		rm -rf "$w/state-x"
		/usr/bin/time -f '%x %U %S %M' -o "$t" node "$bin/bt-delta.js" --full --state "$w/state-x" <"$w/full.bt" >/dev/null
		;;
	seal) /usr/bin/time -f '%x %U %S %M' -o "$t" node "$bin/bt-seal.js" --to "$K/admin.pub" --sign "$K/host.key" <"$w/full.bt" >/dev/null ;;
	quick) /usr/bin/time -f '%x %U %S %M' -o "$t" node "$bin/bt-scan.js" --state "$w/state" "$tree" >"$w/quick.bt" ;;
	delta) /usr/bin/time -f '%x %U %S %M' -o "$t" node "$bin/bt-delta.js" --state "$w/state" <"$w/quick.bt" >/dev/null ;;
	esac
	rc=$(grep -v '^Command' "$t" | awk '{ print $1 }')
	[ "$rc" = 0 ] || die "$1 with $2 exited $rc"
	grep -v '^Command' "$t" | awk '{ printf "%.2f %d\n", $2 + $3, $4 }'
}

# median of the numbers on stdin
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

printf '| files | stage |'
for b in $BT; do printf ' %s: µs/entry (CPU s) | RSS MiB |' "$(basename "$b")"; done
echo
printf '|---:|---|'
for b in $BT; do printf -- '---:|---:|'; done
echo
for n in $FILES; do
	tree=$BENCH_DIR/trees/files-$n
	if [ ! -d "$tree" ]; then
		say "building $tree"
		node "$ROOT/bench/make-tree.js" "$tree" "$n" >/dev/null
	fi
	find "$tree" -type f -exec cat {} + >/dev/null # warm cache
	i=0
	for b in $BT; do
		i=$((i + 1))
		w=$RUN/$n-$i
		rm -rf "$w"
		mkdir -p "$w"
		# The state the quick scan and the differential need: a confirmed full.
		node "$b/bin/bt-scan.js" "$tree" | node "$b/bin/bt-delta.js" --full --state "$w/state" >"$w/full.bt"
		node "$b/bin/bt-delta.js" --confirm --state "$w/state" >/dev/null
	done
	entries=$(node "$ROOT/bin/bt-ls.js" "$RUN/$n-1/full.bt" | tail -n 1 | awk '{ print $3 }')
	for stage in scan ls delta-full seal quick delta; do
		say "$n files: $stage"
		r=0
		while [ "$r" -lt "$RUNS" ]; do
			i=0
			for b in $BT; do
				i=$((i + 1))
				one "$stage" "$b" "$RUN/$n-$i" >>"$RUN/$n-$i.$stage"
			done
			r=$((r + 1))
		done
		printf '| %s | %s |' "$n" "$stage"
		i=0
		for b in $BT; do
			i=$((i + 1))
			cpu=$(awk '{ print $1 }' "$RUN/$n-$i.$stage" | median)
			rss=$(awk '{ print $2 }' "$RUN/$n-$i.$stage" | median)
			printf ' %.1f (%.2f) | %.0f |' "$(echo "$cpu $entries" | awk '{ print 1e6 * $1 / $2 }')" "$cpu" "$(echo "$rss" | awk '{ print $1 / 1024 }')"
			rm -f "$RUN/$n-$i.$stage"
		done
		echo
	done
done
