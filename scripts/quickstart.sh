#!/bin/sh
# First run on a fresh machine: the main job on the embedded default.
# `backtory backup DIR` keeps a local store, the keys it makes on its first run
# and the differential state under backtory's data directory
# (BT_DATA_DIR; /var/lib/backtory for root, else ~/.local/share/backtory), and
# says where. Then the backups are listed, verified with the host's public key
# only, and the newest restored (its full, then its differential) into a
# scratch directory and compared with DIR. Run it again: a differential.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
backtory="$here/bin/backtory.js"
src=$(cd "${1:-/etc}" && pwd)

"$backtory" backup "$src"

if [ -n "${BT_DATA_DIR:-}" ]; then data=$BT_DATA_DIR
elif [ "$(id -u)" = 0 ]; then data=/var/lib/backtory
else data=${XDG_DATA_HOME:-${HOME:-/root}/.local/share}/backtory
fi
home=$data/default
set=$(basename "$(dirname "$(grep -lx "$src" "$home"/dirs/*/source | head -n 1)")")
store="file://$home/store/"

"$backtory" list --store "$store" --set "$set"
"$backtory" verify --store "$store" --set "$set" --verify "$home/host.pub" --latest

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$backtory" restore --store "$store" --set "$set" --key "$home/admin.key" --verify "$home/host.pub" --latest --to "$scratch/restored"
rm -f "$scratch/restored/.backtory-restore.json"
if diff -r --no-dereference "$src" "$scratch/restored" >/dev/null 2>&1; then
  echo "restored into a scratch directory: identical to $src"
else
  echo "restored into a scratch directory: differs from $src (it changed since the backup?)" >&2
fi
