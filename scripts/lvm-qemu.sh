#!/bin/sh
# Runs bt-snap --lvm against real LVM in a qemu VM booted with Debian's own
# kernel (linux-image-amd64), for machines whose kernel has no device-mapper.
# Not part of `npm test`: it needs root, network (once) and a few minutes.
#
#   sudo sh scripts/lvm-qemu.sh
#
# Needs on the host (Debian): qemu-system-x86 debootstrap e2fsprogs coreutils,
# and the project built (npm ci; npm run build: dist/, build/Release/).
#
# The first run debootstraps Debian bookworm (minbase + lvm2, xfsprogs,
# linux-image-amd64, ...; the list in scripts/qemu-lib.sh, shared with the
# recovery drill scripts/recover-qemu.sh) into a cache directory that later
# runs reuse:
#   ${BT_QEMU_CACHE:-/var/tmp/backtory-qemu-cache}   (about 800 MB; rm -rf to rebuild)
# Each run copies that tree, adds the host's node binary and the project's
# built tree (/opt/backtory) and scripts/lvm-qemu-guest.sh as the VM's init,
# makes an ext4 image of it (mkfs.ext4 -d, no loop device needed), boots it
# with the kernel and initrd from the tree and a second, empty virtual disk
# for LVM, and reads the PASS/FAIL lines the guest prints on its serial
# console. Uses KVM when /dev/kvm works, software emulation (TCG) otherwise.
#
# Environment: BT_QEMU_CACHE (cache dir), BT_QEMU_MIRROR (Debian mirror; default:
# the one in /etc/apt/sources.list*), BT_QEMU_TIMEOUT (seconds for the VM, default
# 2400), BT_QEMU_KEEP=1 (keep the scratch directory), BT_QEMU_MEM (MiB, default 1536).
# Exit status: 0 when every check passed, 1 otherwise.
set -eu
me=lvm-qemu
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=qemu-lib.sh
. "$here/scripts/qemu-lib.sh"

guest=$here/scripts/lvm-qemu-guest.sh
qemu_require_root
qemu_require_tools qemu-system-x86_64 debootstrap mkfs.ext4 timeout
[ -f "$guest" ] || die "missing $guest"
qemu_require_built "$here"
qemu_base_tree

# ---- this run's image -----------------------------------------------------
work=$(mktemp -d /var/tmp/backtory-lvm-qemu.XXXXXX)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ "${BT_QEMU_KEEP:-0}" = 1 ]; then echo "lvm-qemu: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

root=$work/root
echo "lvm-qemu: building the VM image in $work" >&2
cp -a "$qemu_base" "$root"
rm -f "$root/.complete"
qemu_install_backtory "$root" "$here"
install -m 0755 "$guest" "$root/sbin/bt-qemu-init"
echo "bt-qemu" >"$root/etc/hostname"
qemu_ext4_image "$root" "$work/root.img" 3G btroot
rm -rf "$root"
truncate -s 2G "$work/lvm.img"

qemu_accel "$work"
echo "lvm-qemu: booting $(basename "$qemu_kernel") (-accel $qemu_accel -cpu $qemu_cpu), console in $work/console.log" >&2
qemu_run "$work/console.log" -kernel "$qemu_kernel" -initrd "$qemu_initrd" \
  -append "root=/dev/vda rw rootfstype=ext4 console=ttyS0 init=/sbin/bt-qemu-init panic=1 quiet loglevel=3" \
  -drive "$(qemu_drive "$work/root.img")" -drive "$(qemu_drive "$work/lvm.img")"
cat "$work/console.txt"
echo "lvm-qemu: qemu exited with status $qemu_status after $qemu_seconds s" >&2

pass=$(grep -c '^PASS: ' "$work/console.txt" || true)
fail=$(grep -c '^FAIL: ' "$work/console.txt" || true)
summary=$(grep '^BT-QEMU-DONE ' "$work/console.txt" | tail -n 1 || true)
echo "lvm-qemu: $pass passed, $fail failed${summary:+ ($summary)}" >&2
if [ "$fail" = 0 ] && [ "$pass" -gt 0 ] && [ "$summary" = "BT-QEMU-DONE pass=$pass fail=0" ]; then
  echo "lvm-qemu: OK" >&2
  exit 0
fi
[ -n "$summary" ] || echo "lvm-qemu: the guest did not finish its checks (no BT-QEMU-DONE line)" >&2
BT_QEMU_KEEP=1
exit 1
