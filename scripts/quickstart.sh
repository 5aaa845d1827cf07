#!/bin/sh
# First run on a fresh machine: back up DIR (default /etc) as a full stream into a
# local directory store, verify and list it, restore it into a scratch directory
# and compare the copy with the original.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-/etc}
store=${BT_STORE:-${HOME:-/root}/backtory-store}
mkdir -p "$store"
name="$(hostname)-$(date -u +%Y%m%dT%H%M%SZ)-full.bt"

rc=0
"$here/bin/bt-scan.js" -o "$store/$name" "$src" || rc=$?
case $rc in
  0) ;;
  3) echo "quickstart: some files were skipped or changed during the scan (see warnings above)" >&2 ;;
  *) echo "quickstart: backup failed (exit $rc)" >&2; exit "$rc" ;;
esac
echo "stored $store/$name ($(wc -c < "$store/$name") bytes)"
"$here/bin/bt-ls.js" "$store/$name" | tail -n 1

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$here/bin/bt-restore.js" -i "$store/$name" "$scratch/restored"
if diff -r --no-dereference "$src" "$scratch/restored" >/dev/null 2>&1; then
  echo "restored into a scratch directory: identical to $src"
else
  echo "restored into a scratch directory: differs from $src (it changed since the scan?)" >&2
fi
