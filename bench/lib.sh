# Shared by the benchmark scripts (sourced, not run): messages, mass deletes and
# the wait that follows them, and how busy the machine is.
# shellcheck shell=sh

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: error: %s\n' "$1" >&2
	shift
	for h in "$@"; do printf 'bench: hint: %s\n' "$h" >&2; done
	exit 1
}

# mass_delete PATH...: remove, and note when in $SETTLED, for settle below (on ext4,
# freshly freed inodes slow down file creation for a while; see bench/README.md).
mass_delete() {
	rm -rf "$@"
	sync
	date +%s >"$SETTLED"
}

# settle: wait until SETTLE_S seconds have passed since the last mass delete.
settle() {
	[ -f "$SETTLED" ] || return 0
	left=$(($(cat "$SETTLED") + SETTLE_S - $(date +%s)))
	[ "$left" -gt 0 ] || return 0
	say "waiting ${left}s after the last mass delete, so freed inodes do not slow file creation"
	sleep "$left"
}

now_ns() { date +%s%N; }

# cpu_busy: percent of all CPUs busy over one second (other work skews results).
cpu_busy() {
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '
		{ t = 0; for (i = 2; i <= NF; i++) t += $i; tot[NR] = t; idle[NR] = $5 + $6 }
		END { dt = tot[2] - tot[1]; printf "%.0f\n", (dt > 0 ? 100 * (1 - (idle[2] - idle[1]) / dt) : 0) }'
}

# --- timed steps (bench/peers.sh, bench/scale.sh) -----------------------------
# Each process of a step runs under GNU time into $STEPS/$STEP.<name>.time
# ("wall maxrss_kib exit user sys"); POSIX sh has no pipefail, so each
# process's exit status is read back from there.

# timed NAME CMD...: run CMD as process NAME of step $STEP (STEPS is set by the script).
# shellcheck disable=SC2153
timed() {
	n=$1
	shift
	/usr/bin/time -f '%e %M %x %U %S' -o "$STEPS/$STEP.$n.time" "$@"
}

# step_begin NAME: a new step; step_end: "wall cpu maxrss_mib" of it, dies when a process failed.
step_begin() {
	STEP=$1
	rm -f "$STEPS/$STEP".*.time
	STEP_T0=$(now_ns)
}
step_end() {
	t1=$(now_ns)
	for f in "$STEPS/$STEP".*.time; do
		[ -f "$f" ] || die "step $STEP ran no timed process"
		# GNU time prints "Command exited with non-zero status N" before its line.
		rc=$(tail -n 1 "$f" | awk '{ print $3 }')
		[ "$rc" = 0 ] || die "step $STEP: $(basename "$f" .time | sed "s/^$STEP.//") exited $rc" "see the messages above"
	done
	cat "$STEPS/$STEP".*.time | grep -v '^Command' | awk -v w="$(((t1 - STEP_T0) / 1000000))" '
		{ cpu += $4 + $5; if ($2 > rss) rss = $2 }
		END { printf "%.2f %.2f %.0f\n", w / 1000, cpu, rss / 1024 }'
}

# step_rss: "name=MiB ..." for each process of the last step.
step_rss() {
	for f in "$STEPS/$STEP".*.time; do
		printf '%s=%s ' "$(basename "$f" .time | sed "s/^$STEP.//")" "$(tail -n 1 "$f" | awk '{ printf "%.0f", $2 / 1024 }')"
	done
	echo
}

# BENCH_DIR made absolute and checked to be scratch space outside the repository;
# sets SETTLED and SETTLE_S (mass_delete, settle), STEPS and RUN for the caller.
# shellcheck disable=SC2034 # the variables are the caller's
scratch_dir() {
	mkdir -p "$BENCH_DIR"
	BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
	case $BENCH_DIR/ in
	/ | "$ROOT"/*) die "BENCH_DIR must be a scratch directory outside the repository, not \"$BENCH_DIR\"" ;;
	esac
	SETTLED=$BENCH_DIR/last-delete
	SETTLE_S=${SETTLE_S:-310}
	STEPS=$BENCH_DIR/steps
	RUN=$BENCH_DIR/run
}
