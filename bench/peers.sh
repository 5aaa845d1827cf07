#!/bin/sh
# bench/peers.sh: backtory against restic, borg and duplicity on the same
# server-like corpus (bench/make-corpus.js), in one run: a full backup, a day-2
# backup after the corpus changed, and a restore of day 2, each tool with a
# fresh repository; the restored tree is compared with the live one. See
# bench/README.md.
#
# Knobs (environment):
#   BENCH_DIR  scratch directory, outside the repo (default /var/tmp/bt-peers-bench)
#   TOOLS      tools to run, in order (default "backtory restic borg duplicity")
#   SEED       seed of the corpus (default 1)
#   and make-corpus.js's SYS_TREES, LOG_MB, DATA_FILES, DB_MB.
# Progress goes to stderr; the results (a plain table, then markdown) to stdout.
set -eu

BENCH_DIR=${BENCH_DIR:-/var/tmp/bt-peers-bench}
TOOLS=${TOOLS:-backtory restic borg duplicity}
SEED=${SEED:-1}
LC_ALL=C
export LC_ALL
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BIN=$ROOT/bin

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# --- preflight ---------------------------------------------------------------
[ -x /usr/bin/time ] || die "/usr/bin/time is missing" "apt-get install -y time"
command -v node >/dev/null || die "node is missing"
[ -f "$ROOT/dist/src/cli/bt-scan.js" ] || die "backtory is not built (no dist/)" "run \"npx tsc -p .\" in $ROOT"
for t in $TOOLS; do
	case $t in
	backtory) ;;
	restic | borg | duplicity)
		command -v "$t" >/dev/null || die "$t is missing" "apt-get install -y restic borgbackup duplicity, or leave it out of TOOLS" ;;
	*) die "unknown tool \"$t\" in TOOLS" "TOOLS is a list of: backtory restic borg duplicity" ;;
	esac
done
scratch_dir
mkdir -p "$STEPS"

# --- the corpus: built once, then copied afresh for each tool ----------------
CORPUS=$BENCH_DIR/corpus-$SEED
if [ ! -d "$CORPUS" ]; then
	say "building the corpus in $CORPUS"
	node "$ROOT/bench/make-corpus.js" day1 "$CORPUS" "$SEED"
fi
if [ -d "$RUN" ]; then
	say "removing the last run's copies"
	mass_delete "$RUN"
fi
mkdir -p "$RUN"
say "corpus: $(find "$CORPUS" -type f | wc -l) files, $(du -sm "$CORPUS" | cut -f1) MiB"

KEYS=$RUN/keys
mkdir -p "$KEYS"
node "$BIN/bt-keygen.js" --out "$KEYS/admin" >/dev/null 2>&1
node "$BIN/bt-keygen.js" --type ed25519 --out "$KEYS/host" >/dev/null 2>&1
export RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench PASSPHRASE=bench

# One listing per tree: type, mode, owner, size (files), mtime in whole seconds
# (not of symbolic links: duplicity does not restore those), path, link target;
# without the top directory, whose times borg and restic leave to the target.
listing() {
	(cd "$1" && find . -mindepth 1 ! -name .backtory-restore.json -printf '%y %m %U %G %s %T@ %p -> %l\n') |
		awk '{ if ($1 == "d") $5 = "-"; if ($1 == "l") $6 = "-"; sub(/\..*/, "", $6); print }' | sort
}
verify() { # verify TOOL LIVE OUT
	listing "$2" >"$RUN/$1.live.list"
	listing "$3" >"$RUN/$1.out.list"
	if cmp -s "$RUN/$1.live.list" "$RUN/$1.out.list" && diff -r --no-dereference -x .backtory-restore.json "$2" "$3" >/dev/null 2>&1; then
		echo yes
	else
		say "$1: the restored tree differs from day 2 (listings in $RUN/$1.*.list):"
		diff "$RUN/$1.live.list" "$RUN/$1.out.list" | head -n 10 >&2 || true
		echo NO
	fi
}

# --- each tool's three steps ---------------------------------------------------
bt_backup() { # bt_backup LIVE REPO STATE
	timed scan node "$BIN/bt-scan.js" --state "$3" "$1" |
		timed delta node "$BIN/bt-delta.js" --auto --state "$3" |
		timed seal node "$BIN/bt-seal.js" --to "$KEYS/admin.pub" --sign "$KEYS/host.key" --set peers |
		timed put node "$BIN/bt-put.js" --state "$3" "file://$2" >>"$2.names"
}
bt_restore() { # bt_restore REPO OUT
	i=0
	while read -r name; do
		i=$((i + 1))
		timed get$i node "$BIN/bt-get.js" "file://$1/$name" |
			timed open$i node "$BIN/bt-open.js" --key "$KEYS/admin.key" --verify "$KEYS/host.pub" |
			timed restore$i node "$BIN/bt-restore.js" "$2"
	done <"$1.names"
}

run_tool() { # run_tool TOOL: sets R_<step>_<tool> = "wall cpu rss" and more
	t=$1
	live=$RUN/live-$t
	repo=$RUN/repo-$t
	out=$RUN/out-$t
	say "$t: copying the corpus"
	cp -a "$CORPUS" "$live"
	case $t in
	restic) restic init -q -r "$repo" >/dev/null ;;
	borg) BORG_BASE_DIR=$RUN/cache-$t borg init -e repokey-blake2 "$repo" >/dev/null 2>&1 ;;
	backtory | duplicity) mkdir -p "$repo" ;;
	esac
	sync
	settle
	for day in full day2; do
		if [ "$day" = day2 ]; then
			node "$ROOT/bench/make-corpus.js" day2 "$live" "$SEED"
			sync
		fi
		say "$t: $day backup"
		before=$(du -sb "$repo" | cut -f1)
		step_begin "$t-$day"
		case $t in
		backtory) bt_backup "$live" "$repo" "$RUN/state-$t" ;;
		restic) (cd "$live" && timed restic restic -q -r "$repo" --cache-dir "$RUN/cache-$t" backup . >/dev/null) ;;
		borg) (cd "$live" && BORG_BASE_DIR=$RUN/cache-$t timed borg borg create "$repo::$day" .) ;;
		duplicity)
			kind=full
			[ "$day" = day2 ] && kind=incremental
			timed duplicity duplicity "$kind" --no-print-statistics --archive-dir "$RUN/cache-$t" "$live" "file://$repo" >/dev/null ;;
		esac
		eval "R_${day}_$t=\"\$(step_end)\""
		eval "RSS_${day}_$t=\"\$(step_rss)\""
		eval "B_${day}_$t=$(($(du -sb "$repo" | cut -f1) - before))"
	done
	say "$t: restore of day 2"
	sync
	step_begin "$t-restore"
	case $t in
	backtory) bt_restore "$repo" "$out" ;;
	restic) timed restic restic -q -r "$repo" --cache-dir "$RUN/cache-$t" restore latest --target "$out" >/dev/null ;;
	borg) mkdir -p "$out" && (cd "$out" && BORG_BASE_DIR=$RUN/cache-$t timed borg borg extract "$repo::day2") ;;
	duplicity) timed duplicity duplicity restore --archive-dir "$RUN/cache-$t" "file://$repo" "$out" >/dev/null ;;
	esac
	eval "R_restore_$t=\"\$(step_end)\""
	eval "RSS_restore_$t=\"\$(step_rss)\""
	eval "V_$t=$(verify "$t" "$live" "$out")"
}

for t in $TOOLS; do run_tool "$t"; done

# --- results -------------------------------------------------------------------
get() { eval "echo \"\${$1_$2:-}\""; }
field() { echo "$1" | awk -v i="$2" '{ print $i }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else printf "–" }'; }
row() { # row LABEL KIND: KIND = wall | bytes | rss | verified
	printf '| %s |' "$1"
	for t in $TOOLS; do
		case $2 in
		full | day2 | restore) r=$(get "R_$2" "$t"); printf ' %s s (%s) |' "$(field "$r" 1)" "$(field "$r" 2)" ;;
		bytes_full | bytes_day2) printf ' %s MiB |' "$(mib "$(get B_"${2#bytes_}" "$t")")" ;;
		rss)
			m=0
			for s in full day2 restore; do
				v=$(field "$(get "R_$s" "$t")" 3)
				[ "$v" -gt "$m" ] && m=$v
			done
			printf ' %s MiB |' "$m" ;;
		verified) printf ' %s |' "$(get V "$t")" ;;
		esac
	done
	if echo " $TOOLS " | grep -q ' backtory ' && echo " $TOOLS " | grep -q ' restic '; then
		case $2 in
		full | day2 | restore) printf ' %s |' "$(ratio "$(field "$(get "R_$2" backtory)" 1)" "$(field "$(get "R_$2" restic)" 1)")" ;;
		bytes_*) printf ' %s |' "$(ratio "$(get B_"${2#bytes_}" backtory)" "$(get B_"${2#bytes_}" restic)")" ;;
		*) printf ' |' ;;
		esac
	fi
	echo
}
printf '| |'
for t in $TOOLS; do printf ' %s |' "$t"; done
echo " backtory / restic |"
printf '|---|'
for t in $TOOLS; do printf -- '---:|'; done
printf -- '---:|\n'
row 'full backup, wall (CPU)' full
row 'day-2 backup, wall (CPU)' day2
row 'bytes added by the full' bytes_full
row 'bytes added by day 2' bytes_day2
row 'restore of day 2, wall (CPU)' restore
row 'largest process, peak RSS' rss
row 'restored tree equals day 2' verified
echo
for t in $TOOLS; do
	for s in full day2 restore; do echo "peak RSS, $t $s (MiB): $(get "RSS_$s" "$t")"; done
done
