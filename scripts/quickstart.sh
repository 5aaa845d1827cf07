#!/bin/sh
# First run on a fresh machine: the main job on an embedded default. Makes an
# admin key pair and a host signing key (once), backs DIR (default /etc) up into a
# local directory store as a sealed archive (a full the first time, a
# differential against it after that), verifies it with public keys only, then
# opens and restores it into a scratch directory and compares with the original.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/bin
src=${1:-/etc}
store=${BT_STORE:-${HOME:-/root}/backtory-store}
keys=$store/keys
state=$store/state
mkdir -p "$store" "$keys"

[ -f "$keys/admin.key" ] || "$bin/bt-keygen.js" --out "$keys/admin" >/dev/null
[ -f "$keys/host.key" ] || "$bin/bt-keygen.js" --type ed25519 --out "$keys/host" >/dev/null

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$store/$(hostname)-$stamp.bts
# POSIX sh has no pipefail: each stage refuses a stream without its trailer, so a
# failure anywhere leaves no final archive; -o makes the file appear only on success.
"$bin/bt-scan.js" --state "$state" "$src" \
  | "$bin/bt-delta.js" --auto --state "$state" \
  | "$bin/bt-seal.js" --to "$keys/admin.pub" --sign "$keys/host.key" --set "$(basename "$src")" -o "$out"
echo "stored $out ($(wc -c < "$out") bytes)"
"$bin/bt-open.js" --verify-only --verify "$keys/host.pub" "$out"
"$bin/bt-open.js" --info "$out"

# Restore: the full, then (if this run made one) the differential on top of it.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Names sort by time, so the last full in glob order is the one the state holds.
full=
for archive in "$store"/*.bts; do
  if "$bin/bt-open.js" --info "$archive" | grep -q '^kind: full'; then full=$archive; fi
done
"$bin/bt-open.js" --key "$keys/admin.key" --verify "$keys/host.pub" "$full" | "$bin/bt-restore.js" "$scratch/restored"
if [ "$full" != "$out" ]; then
  "$bin/bt-open.js" --key "$keys/admin.key" --verify "$keys/host.pub" "$out" | "$bin/bt-restore.js" "$scratch/restored"
fi
rm -f "$scratch/restored/.backtory-restore.json"
if diff -r --no-dereference "$src" "$scratch/restored" >/dev/null 2>&1; then
  echo "restored into a scratch directory: identical to $src"
else
  echo "restored into a scratch directory: differs from $src (it changed since the scan?)" >&2
fi
