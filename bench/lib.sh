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
