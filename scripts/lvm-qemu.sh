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
# linux-image-amd64, ...) into a cache directory that later runs reuse:
#   ${BT_QEMU_CACHE:-/var/tmp/backtory-lvm-qemu-cache}   (about 600 MB; rm -rf to rebuild)
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

die() {
  echo "lvm-qemu: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and file ownership in the image need it)"

here=$(cd "$(dirname "$0")/.." && pwd)
guest=$here/scripts/lvm-qemu-guest.sh
cache=${BT_QEMU_CACHE:-/var/tmp/backtory-lvm-qemu-cache}
timeout_s=${BT_QEMU_TIMEOUT:-2400}
mem=${BT_QEMU_MEM:-1536}
suite=bookworm

for cmd in qemu-system-x86_64 debootstrap mkfs.ext4 timeout; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found: apt-get install qemu-system-x86 debootstrap e2fsprogs coreutils"
done
[ -f "$guest" ] || die "missing $guest"
for p in dist/src/cli/bt-snap.js bin/bt-snap.js build/Release/backtory_sys.node node_modules; do
  [ -e "$here/$p" ] || die "missing $here/$p: build the project first (npm ci && npm run build)"
done
node=$(command -v node) || die "node not found"
node=$(readlink -f "$node")

# The Debian mirror apt uses (deb822 "URIs:" or one-line "deb URI suite ..."), not the security one.
mirror=${BT_QEMU_MIRROR:-}
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(sed -n -e 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' "$f" \
      | grep -E '/debian/?$' | head -n 1) || true
    [ -n "$mirror" ] && break
  done
fi
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list*: set BT_QEMU_MIRROR"

# ---- the cached base tree -------------------------------------------------
base=$cache/$suite
if [ ! -f "$base/.complete" ]; then
  echo "lvm-qemu: debootstrap $suite from $mirror into $base (once; reused later)" >&2
  mkdir -p "$cache"
  rm -rf "$base.tmp"
  debootstrap --variant=minbase \
    --include=linux-image-amd64,initramfs-tools,kmod,udev,lvm2,dmsetup,e2fsprogs,xfsprogs,mount,procps,diffutils,libstdc++6 \
    "$suite" "$base.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || die "debootstrap failed: see $cache/debootstrap.log"
  rm -rf "$base.tmp/var/cache/apt/archives/"*.deb
  touch "$base.tmp/.complete"
  mv "$base.tmp" "$base"
fi
kernel=$(find "$base/boot" -name 'vmlinuz-*' | sort | tail -n 1)
initrd=$(find "$base/boot" -name 'initrd.img-*' | sort | tail -n 1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then die "no vmlinuz/initrd in $base/boot: rm -rf $base and run again"; fi

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
cp -a "$base" "$root"
rm -f "$root/.complete"
install -m 0755 "$node" "$root/usr/local/bin/node"
app=$root/opt/backtory
mkdir -p "$app/build/Release"
cp -a "$here/package.json" "$here/bin" "$here/dist" "$here/node_modules" "$app/"
cp -a "$here/build/Release/backtory_sys.node" "$app/build/Release/"
install -m 0755 "$guest" "$root/sbin/bt-qemu-init"
echo "bt-qemu" >"$root/etc/hostname"
mkfs.ext4 -q -F -L btroot -d "$root" "$work/root.img" 3G >"$work/mkfs.log" 2>&1 || { cat "$work/mkfs.log" >&2; die "mkfs.ext4 -d failed"; }
rm -rf "$root"
truncate -s 2G "$work/lvm.img"

# KVM only when it really runs a guest: nested hypervisors may refuse a CPU
# model's MSRs ("failed to set MSR 0x10a") or accept it and then never run the
# guest. So the kernel is booted with no root file system and must reach its
# panic on the serial console within 30 s; otherwise software emulation (TCG).
accel=tcg
cpu=max
if [ -w /dev/kvm ] && [ "${BT_QEMU_ACCEL:-}" != tcg ]; then
  for c in host max,-arch-capabilities; do
    rm -f "$work/probe.log"
    timeout 30 qemu-system-x86_64 -machine q35 -accel kvm -cpu "$c" -m 256 -nodefaults \
      -display none -monitor none -no-reboot -serial "file:$work/probe.log" \
      -kernel "$kernel" -append "console=ttyS0 panic=-1 root=/dev/nonexistent" </dev/null >/dev/null 2>&1 || true
    if grep -q 'Kernel panic' "$work/probe.log" 2>/dev/null; then
      accel=kvm
      cpu=$c
      break
    fi
  done
  [ "$accel" = kvm ] || echo "lvm-qemu: /dev/kvm does not run a guest here: software emulation" >&2
fi
echo "lvm-qemu: booting $(basename "$kernel") (-accel $accel -cpu $cpu), console in $work/console.log" >&2
start=$(date +%s)
status=0
timeout "$timeout_s" qemu-system-x86_64 \
  -machine q35 -accel "$accel" -cpu "$cpu" -smp 2 -m "$mem" \
  -display none -monitor none -no-reboot \
  -serial "file:$work/console.log" \
  -kernel "$kernel" -initrd "$initrd" \
  -append "root=/dev/vda rw rootfstype=ext4 console=ttyS0 init=/sbin/bt-qemu-init panic=1 quiet loglevel=3" \
  -drive "file=$work/root.img,format=raw,if=virtio,cache=unsafe" \
  -drive "file=$work/lvm.img,format=raw,if=virtio,cache=unsafe" \
  </dev/null || status=$?
end=$(date +%s)

tr -d '\r' <"$work/console.log" >"$work/console.txt"
cat "$work/console.txt"
echo "lvm-qemu: qemu exited with status $status after $((end - start)) s" >&2
[ "$status" = 124 ] && echo "lvm-qemu: the VM did not finish within $timeout_s s (BT_QEMU_TIMEOUT)" >&2

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
