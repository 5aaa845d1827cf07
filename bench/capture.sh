#!/bin/sh
# bench/capture.sh: peak memory (RSS) and throughput of a large captured file
# (backtory-stream(5), CAPTURES) on its way from a command's stdout through
#     scanWithCaptures | bt-restore OUT
#     scanWithCaptures | bt-ls
#     scanWithCaptures | bt-delta --state DIR --full
# to show that memory stays bounded whatever the capture's size: the writer
# holds one 4 MiB part, the readers stream. The writer is a small Node program
# written to the scratch directory: the library API that bt-snap --capture
# uses, with the command spawned and the stream pumped with backpressure. Every
# process runs under /usr/bin/time -v, so each peak RSS is its own.
#
# Knobs (environment):
#   BENCH_DIR     scratch directory, outside the repo   (default /var/tmp/bt-bench)
#   CAPTURE_MB    size of the captured output, MiB     (default 1024)
#   GOAL_RSS_MIB  peak RSS no process may exceed       (default 128)
#
# Needs a build (npm run build). Progress goes to stderr, the results table to
# stdout. Exits 1 when a stage fails, the restored file differs from the
# command's output, or a peak RSS exceeds the goal.
set -eu

BENCH_DIR=${BENCH_DIR:-/var/tmp/bt-bench}
CAPTURE_MB=${CAPTURE_MB:-1024}
GOAL_RSS_MIB=${GOAL_RSS_MIB:-128}
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

[ -x /usr/bin/time ] || die '/usr/bin/time is missing' 'install it: apt-get install time'
[ -f "$repo/dist/src/scan/capture.js" ] || die 'no build' 'run npm run build first'
command -v openssl >/dev/null || die 'openssl is missing' 'it makes the reproducible capture input'

work="$BENCH_DIR/capture"
rm -rf "$work"
mkdir -p "$work/tree"
printf 'a small file next to the capture\n' >"$work/tree/notes.txt"
bytes=$((CAPTURE_MB * 1048576))

# The capture's command: reproducible, incompressible bytes (AES-CTR over zeros), no file.
cmd="openssl enc -aes-128-ctr -nosalt -K 00112233445566778899aabbccddeeff -iv 0 </dev/zero 2>/dev/null | head -c $bytes"
expected=$(sh -c "$cmd" | sha256sum | cut -d' ' -f1)

cat >"$work/writer.mjs" <<EOF
import { spawn } from 'node:child_process'
import { BtError, EXIT } from '$repo/dist/src/errors.js'
import { scanWithCaptures } from '$repo/dist/src/scan/capture.js'
import { CHUNK } from '$repo/dist/src/scan/content.js'
import { Excluder } from '$repo/dist/src/scan/exclude.js'
import { loadIdMaps } from '$repo/dist/src/scan/ids.js'
import { BufferPool } from '$repo/dist/src/scan/pool.js'
import { pump } from '$repo/dist/src/cli/pump.js'

const [root, cmd] = process.argv.slice(2)
const pool = new BufferPool(CHUNK)
const capture = {
  name: 'db.sql',
  open() {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] })
    const done = new Promise((resolve, reject) => child.on('close', (code) =>
      code === 0 ? resolve() : reject(new BtError('BT_CAPTURE_FAILED', EXIT.FAILURE, 'the command exited ' + code))))
    return { data: child.stdout, done }
  },
}
const gen = scanWithCaptures({
  root, exclude: new Excluder([]), oneFileSystem: false, excludeCaches: false, ids: loadIdMaps(),
  warn: (m) => process.stderr.write(m + '\n'), notice: () => {}, pool,
  info: { version: '1', producer: 'bench', host: 'bench', source: root, stream: 'full',
    time: new Date().toISOString(), id: '0123456789abcdef0123456789abcdef' },
  captureOwner: { uid: process.getuid(), gid: process.getgid() },
}, [capture])
await pump(gen, process.stdout, new AbortController().signal, (b) => pool.release(b))
EOF

# rss FILE: peak RSS in MiB from a /usr/bin/time -v report; status FILE: the exit status.
rss() { awk '/Maximum resident set size/ { printf "%.1f\n", $NF / 1024 }' "$1"; }
status() { awk '/Exit status/ { print $NF }' "$1"; }

failed=0
results=''
# stage NAME CONSUMER...: writer | CONSUMER, both timed; checks both exit statuses.
stage() {
	name=$1
	shift
	say "$name: $CAPTURE_MB MiB capture"
	start=$(now_ns)
	/usr/bin/time -v -o "$work/time.writer-$name" node "$work/writer.mjs" "$work/tree" "$cmd" |
		/usr/bin/time -v -o "$work/time.$name" "$@" >"$work/out.$name" || true
	end=$(now_ns)
	for f in "writer-$name" "$name"; do
		[ "$(status "$work/time.$f")" = 0 ] || {
			say "$f failed (exit $(status "$work/time.$f"))"
			failed=1
		}
	done
	mbs=$(awk -v b="$bytes" -v ns=$((end - start)) 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }')
	results="$results$(printf '%-12s %10s %12s %10s' "$name" "$(rss "$work/time.writer-$name")" "$(rss "$work/time.$name")" "$mbs")
"
	for f in "writer-$name" "$name"; do
		r=$(rss "$work/time.$f")
		awk -v r="$r" -v g="$GOAL_RSS_MIB" 'BEGIN { exit !(r > g) }' && {
			say "$f: peak RSS $r MiB exceeds the goal of $GOAL_RSS_MIB MiB"
			failed=1
		}
	done
	return 0
}

stage restore node "$repo/bin/bt-restore.js" "$work/restored"
got=$(sha256sum "$work/restored/db.sql" | cut -d' ' -f1)
[ "$got" = "$expected" ] || {
	say "the restored db.sql differs from the command's output"
	failed=1
}
rm -rf "$work/restored"
stage ls node "$repo/bin/bt-ls.js"
grep -q "db.sql \[capture, $(((bytes + 4194303) / 4194304)) parts\]" "$work/out.ls" || {
	say 'bt-ls did not list the capture as one entry'
	failed=1
}
stage delta-full node "$repo/bin/bt-delta.js" --quiet --state "$work/state" --full

printf '%s MiB capture; peak RSS in MiB (goal: under %s each)\n' "$CAPTURE_MB" "$GOAL_RSS_MIB"
printf '%-12s %10s %12s %10s\n' consumer 'writer RSS' 'reader RSS' 'MiB/s'
printf '%s' "$results"
rm -rf "$work"
exit "$failed"
