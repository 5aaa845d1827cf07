#!/bin/sh
# First run on a fresh machine: the main job on an embedded default. Makes an
# admin key pair and a host signing key (once), backs DIR (default /etc) up into a
# local directory store as a sealed archive (a full the first time, a
# differential against it after that) stored with bt-put, lists the store, verifies
# the archive with public keys only, then
# opens and restores it into a scratch directory and compares with the original.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/bin
src=${1:-/etc}
store=${BT_STORE:-${HOME:-/root}/backtory-store}
keys=$store/keys
state=$store/state
# The state directory must exist: a missing one is refused as a mistyped path; an empty one is a first run.
mkdir -p "$store" "$keys" "$state"

[ -f "$keys/admin.key" ] || "$bin/bt-keygen.js" --out "$keys/admin" >/dev/null
[ -f "$keys/host.key" ] || "$bin/bt-keygen.js" --type ed25519 --out "$keys/host" >/dev/null

backups=$store/backups
# POSIX sh has no pipefail: each stage refuses a stream without its trailer, and
# bt-put makes a backup final only after the sealed archive's trailer verified,
# so a failure anywhere leaves no final backup. bt-put --state confirms a full
# once stored: only then do later runs make differentials against it.
name=$("$bin/bt-scan.js" --state "$state" "$src" \
  | "$bin/bt-delta.js" --auto --state "$state" \
  | "$bin/bt-seal.js" --to "$keys/admin.pub" --sign "$keys/host.key" --set "$(basename "$src")" \
  | "$bin/bt-put.js" --state "$state" --verify "$keys/host.pub" "file://$backups")
echo "stored $name"
"$bin/bt-ls.js" "$backups"

# Fetch it back, check it with the public host key only, show its header.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$bin/bt-get.js" -o "$scratch/$name.bts" "$backups/$name"
"$bin/bt-open.js" --verify-only --verify "$keys/host.pub" "$scratch/$name.bts"
"$bin/bt-open.js" --info "$scratch/$name.bts"

# Restore: the newest full, then (if this run made one) the differential on top of it.
full=$("$bin/bt-ls.js" --json "$backups" | sed -n 's/.*"name":"\([^"]*_full_[^"]*\)".*/\1/p' | tail -n 1)
"$bin/bt-get.js" "$backups/$full" | "$bin/bt-open.js" --key "$keys/admin.key" --verify "$keys/host.pub" | "$bin/bt-restore.js" "$scratch/restored"
if [ "$full" != "$name" ]; then
  "$bin/bt-open.js" --key "$keys/admin.key" --verify "$keys/host.pub" "$scratch/$name.bts" | "$bin/bt-restore.js" "$scratch/restored"
fi
rm -f "$scratch/restored/.backtory-restore.json"
if diff -r --no-dereference "$src" "$scratch/restored" >/dev/null 2>&1; then
  echo "restored into a scratch directory: identical to $src"
else
  echo "restored into a scratch directory: differs from $src (it changed since the scan?)" >&2
fi
