#!/bin/sh
# bench/seal-open.sh: throughput and peak memory of
#     bt-seal --to ADMIN.pub --sign HOST.key   and   bt-open --key ADMIN.key --verify HOST.pub
# against
#     zstd -1 | openssl enc -aes-256-ctr        and   openssl enc -d -aes-256-ctr | zstd -d
# and against gpg --symmetric (what duplicity uses) and its inverse, all in one
# run, on one backtory stream of mixed data: half text-like (compressible),
# half random. Each direction reads a file and writes a file (sealing) or
# /dev/null (opening). Throughput is plaintext stream bytes per second.
#
# Knobs (environment):
#   BENCH_DIR  scratch directory, outside the repo   (default /var/tmp/bt-seal-bench)
#   SIZE_MB    size of the data, MiB, half and half   (default 2048)
#
# Needs node, zstd, openssl, gpg and GNU time (/usr/bin/time); on Debian:
# apt-get install -y zstd gnupg time. Build first: npx tsc -p .
# Progress goes to stderr; the table goes to stdout.
set -eu

BENCH_DIR=${BENCH_DIR:-/var/tmp/bt-seal-bench}
SIZE_MB=${SIZE_MB:-2048}
GOAL_RATIO=0.9
GOAL_RSS_MIB=100
LC_ALL=C
export LC_ALL
TIME=/usr/bin/time
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/bin

say() { printf 'seal-open: %s\n' "$*" >&2; }
for tool in node zstd openssl gpg "$TIME"; do
  command -v "$tool" >/dev/null 2>&1 || { say "missing $tool (apt-get install -y zstd gnupg time)"; exit 1; }
done
case $BENCH_DIR in "$ROOT"/*) say "BENCH_DIR must be outside the repository"; exit 2 ;; esac
[ -f "$ROOT/dist/src/cli/bt-seal.js" ] || { say 'build first: npx tsc -p .'; exit 1; }

if pgrep -f scan-restore.sh >/dev/null 2>&1; then
  say 'waiting for bench/scan-restore.sh to finish, so that the figures are fair'
  while pgrep -f scan-restore.sh >/dev/null 2>&1; do sleep 10; done
fi

mkdir -p "$BENCH_DIR/tree" "$BENCH_DIR/keys"
cd "$BENCH_DIR"
half=$((SIZE_MB / 2))

# --- data: a stream of one text-like file and one random file, built once
if [ ! -f stream.bt ] || [ "$(cat stream.size 2>/dev/null)" != "$SIZE_MB" ]; then
  say "making $SIZE_MB MiB of data"
  node -e '
    const words = "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will can more out up who them some time about than into could only other then its these two may first any like now my over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three server backup config error warning request response".split(" ")
    let x = 2463534242
    const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x >>> 8 }
    const total = Number(process.argv[1]) * 1048576
    let written = 0
    const next = () => {
      while (written < total) {
        let s = ""
        while (s.length < 1048576) s += words[rnd() % words.length] + (rnd() % 11 === 0 ? "\n" : rnd() % 29 === 0 ? " " + (rnd() % 100000) + " " : " ")
        const b = Buffer.from(s).subarray(0, Math.min(1048576, total - written))
        written += b.length
        if (!process.stdout.write(b)) return process.stdout.once("drain", next)
      }
    }
    next()' "$half" > tree/text.log
  head -c $((half * 1048576)) /dev/urandom > tree/random.bin
  "$BIN/bt-scan.js" tree > stream.bt
  echo "$SIZE_MB" > stream.size
fi
bytes=$(wc -c < stream.bt | tr -d ' ')

[ -f keys/admin.key ] || "$BIN/bt-keygen.js" --out keys/admin >/dev/null 2>&1
[ -f keys/host.key ] || "$BIN/bt-keygen.js" --type ed25519 --out keys/host >/dev/null 2>&1
printf 'bench passphrase\n' > keys/pw
KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
IV=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
GPGHOME=$BENCH_DIR/gnupg
mkdir -p "$GPGHOME"
chmod 700 "$GPGHOME"

# run NAME CMD: times CMD (sh -c), appends "NAME seconds maxrss_kib" to results
: > results
run() {
  sync
  say "$1"
  "$TIME" -f "$1 %e %M" -a -o results sh -c "$2"
}

run bt-seal "'$BIN/bt-seal.js' --to keys/admin.pub --sign keys/host.key < stream.bt > out.bts"
run bt-open "'$BIN/bt-open.js' --key keys/admin.key --verify keys/host.pub < out.bts > /dev/null"
run zstd-openssl-seal "zstd -1 -q -c < stream.bt | openssl enc -aes-256-ctr -K $KEY -iv $IV > out.zst.enc"
run zstd-openssl-open "openssl enc -d -aes-256-ctr -K $KEY -iv $IV < out.zst.enc | zstd -d -q -c > /dev/null"
run gpg-seal "gpg --homedir '$GPGHOME' --batch --yes --quiet --pinentry-mode loopback --passphrase-file keys/pw --symmetric -o out.gpg < stream.bt"
run gpg-open "gpg --homedir '$GPGHOME' --batch --yes --quiet --pinentry-mode loopback --passphrase-file keys/pw --decrypt out.gpg > /dev/null"

say 'checking that bt-open gives back the stream'
"$BIN/bt-open.js" --key keys/admin.key --verify keys/host.pub < out.bts | cmp - stream.bt

size() { wc -c < "$1" | tr -d ' '; }
awk -v bytes="$bytes" -v sbts="$(size out.bts)" -v szst="$(size out.zst.enc)" -v sgpg="$(size out.gpg)" \
  -v goal="$GOAL_RATIO" -v goalrss="$GOAL_RSS_MIB" -v nproc="$(nproc)" '
  { t[$1] = $2; m[$1] = $3 / 1024 }
  function row(name, s, o, out) {
    printf "| %-24s | %8.1f | %8.0f | %8.0f | %8.1f | %8.0f | %8.0f | %6.3f | %6.2f | %6.2f |\n",
      name, t[s], bytes / 1e6 / t[s], m[s], t[o], bytes / 1e6 / t[o], m[o], out / bytes,
      t["zstd-openssl-seal"] / t[s], t["zstd-openssl-open"] / t[o]
  }
  END {
    printf "stream: %.0f bytes (%.0f MiB), half text-like, half random; %d cores\n\n", bytes, bytes / 1048576, nproc
    printf "| %-24s | %8s | %8s | %8s | %8s | %8s | %8s | %6s | %6s | %6s |\n", "tool", "seal s", "MB/s", "RSS MiB", "open s", "MB/s", "RSS MiB", "size", "x seal", "x open"
    printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------------", "---------:", "---------:", "---------:", "---------:", "---------:", "---------:", "-------:", "-------:", "-------:"
    row("bt-seal / bt-open", "bt-seal", "bt-open", sbts)
    row("zstd -1, openssl ctr", "zstd-openssl-seal", "zstd-openssl-open", szst)
    row("gpg --symmetric", "gpg-seal", "gpg-open", sgpg)
    printf "\nsize: output/input; x seal, x open: throughput relative to zstd -1 | openssl enc -aes-256-ctr.\n"
    r = t["zstd-openssl-seal"] / t["bt-seal"]
    printf "goal: sealing >= %.1fx zstd|openssl: %.2fx %s; peak RSS < %d MiB: seal %.0f, open %.0f %s\n",
      goal, r, (r >= goal ? "MET" : "NOT MET"), goalrss, m["bt-seal"], m["bt-open"],
      (m["bt-seal"] < goalrss && m["bt-open"] < goalrss ? "MET" : "NOT MET")
  }' results
rm -f out.bts out.zst.enc out.gpg
