#!/bin/sh
# The bare-metal recovery drill, in qemu: a Debian machine on two virtual
# disks (GPT, md RAID1, LVM, ext4 root, xfs data, swap, GRUB on both disks)
# backs itself up, a rescue system without Node rebuilds two new blank disks
# with the recover.sh that bt-mkrecover wrote, and the new disks boot alone to
# the same tree. Not part of `npm test`: it needs root, network (once) and
# some minutes.
#
#   sudo sh scripts/recover-qemu.sh
#
# Needs on the host (Debian): qemu-system-x86 debootstrap e2fsprogs coreutils
# tar, and the project built (npm ci; npm run build: dist/, build/Release/).
#
# Four boots, each with scripts/recover-qemu-guest.sh as init (PID 1):
#   1. rescue (-kernel/-initrd of the cached Debian tree, root = an ext4 image
#      of it): builds the source machine on two blank disks from a tar of the
#      tree with node and backtory at /opt/backtory, and installs GRUB;
#   2. the source machine from its disks alone, plus a store disk: a full and
#      a differential backup of / to file:///store/backups/, the tree's
#      digest, bt-mkrecover > /store/recover.sh;
#   3. rescue again, no Node, the store disk and two new blank disks:
#      sh /store/recover.sh --map ... --key admin.key --yes;
#   4. the two new disks alone: the guest prints a marker, the layout's facts
#      and the tree's digest, which must equal stage 2's.
# The Debian tree is the one scripts/lvm-qemu.sh uses, debootstrapped once into
#   ${BT_QEMU_CACHE:-/var/tmp/backtory-qemu-cache}   (about 1 GB; rm -rf to rebuild)
#
# Environment: BT_QEMU_CACHE, BT_QEMU_MIRROR (Debian mirror; default: the one
# in /etc/apt/sources.list*), BT_QEMU_TIMEOUT (seconds per VM, default 2400),
# BT_QEMU_MEM (MiB, default 1536), BT_QEMU_KEEP=1 (keep the scratch directory;
# it is always kept on failure), BT_QEMU_RAW_OUT=DIR (copy stage 2's recording
# of the capture's commands, bt-mkrecover --raw-record, to DIR/raw),
# BT_DRILL_SOURCE_BOOT=1 (also boot the source disks alone after stage 2, as
# stage 4 boots the recovered ones).
# Output: one PASS/FAIL line per check, then "N passed, N failed".
# Exit status: 0 when every check passed, 1 otherwise.
set -eu
me=recover-qemu
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=qemu-lib.sh
. "$here/scripts/qemu-lib.sh"

guest=$here/scripts/recover-qemu-guest.sh
qemu_require_root
qemu_require_tools qemu-system-x86_64 debootstrap mkfs.ext4 debugfs timeout tar gzip base64
qemu_require_built "$here"
[ -f "$guest" ] || die "missing $guest"

t_start=$(date +%s)
qemu_base_tree
t_base=$(($(date +%s) - t_start))

work=$(mktemp -d /var/tmp/backtory-recover-qemu.XXXXXX)
case $work$qemu_kernel in *[[:space:],]*) die "no blanks or commas in $work or $qemu_kernel, please (they are qemu arguments)" ;; esac
keep=${BT_QEMU_KEEP:-0}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

hpass=0
hfail=0
pass() {
  hpass=$((hpass + 1))
  echo "PASS: host: $*"
}
fail() {
  hfail=$((hfail + 1))
  echo "FAIL: host: $*"
}

# ---- keys: the host's signing key and the admin's key pair ----------------
mkdir -p "$work/keys"
node "$here/bin/bt-keygen.js" --type ed25519 --out "$work/keys/host" >/dev/null 2>&1 || die "bt-keygen failed"
node "$here/bin/bt-keygen.js" --out "$work/keys/admin" >/dev/null 2>&1 || die "bt-keygen failed"

# ---- the images -------------------------------------------------------------
t0=$(date +%s)
say "building the images in $work"
# The rescue system: the Debian tree as it is (no Node), the drill's init, and
# what an admin brings to a recovery: the admin key and the host's public key.
cp -a "$qemu_base" "$work/rescue"
rm -f "$work/rescue/.complete"
install -m 0755 "$guest" "$work/rescue/sbin/bt-drill-init"
install -m 0600 "$work/keys/admin.key" "$work/rescue/root/admin.key"
install -m 0644 "$work/keys/host.pub" "$work/rescue/root/host.pub"
echo bt-rescue >"$work/rescue/etc/hostname"
qemu_ext4_image "$work/rescue" "$work/rescue.img" 3G rescue
rm -rf "$work/rescue"

# The source machine's system tree, as a tar the rescue system copies onto
# its new disks: the Debian tree, node and backtory, the set's config and keys,
# and a GRUB config whose kernel command line starts the drill's init.
src=$work/src
cp -a "$qemu_base" "$src"
rm -f "$src/.complete"
qemu_install_backtory "$src" "$here"
# A leaner machine makes a faster drill: its kernel keeps what a VM with
# virtio disks needs (md, dm, file systems, virtio, ...), not the drivers of
# network cards, GPUs, media, sound and radios (230 of its 395 MB of modules).
kver=${qemu_kernel##*/vmlinuz-}
for d in drivers/net drivers/gpu drivers/media drivers/infiniband drivers/iio drivers/staging \
  drivers/comedi sound net/wireless net/mac80211 net/bluetooth; do
  rm -rf "$src/lib/modules/$kver/kernel/$d"
done
chroot "$src" depmod "$kver"
# The same reason: its initramfs holds the modules it boots with (the list and
# what the mdadm and lvm2 hooks add), not MODULES=most's hundreds, which took
# over ten minutes to build under software emulation (here, and again when
# recover.sh rebuilds the initramfs of the restored system).
printf '%s\n' '# The recovery drill: only the modules this machine boots with.' MODULES=list \
  >"$src/etc/initramfs-tools/conf.d/drill"
printf '%s\n' virtio_pci virtio_blk md_mod raid1 dm_mod ext4 xfs >>"$src/etc/initramfs-tools/modules"
install -m 0755 "$guest" "$src/sbin/bt-drill-init"
echo drill-src >"$src/etc/hostname"
mkdir -p "$src/etc/backtory" "$src/srv/data"
install -m 0600 "$work/keys/host.key" "$src/etc/backtory/host.key"
install -m 0644 "$work/keys/host.pub" "$work/keys/admin.pub" "$src/etc/backtory/"
cat >"$src/etc/backtory/system.conf" <<'EOF'
# The whole machine, across its mounts; the kernel's and the run's mounts are
# kept as empty mount points, the state is not backed up.
source = /
exclude = /proc/*
exclude = /sys/*
exclude = /dev/*
exclude = /run/*
exclude = /tmp/*
exclude = /store/*
exclude = /var/lib/backtory/
store = file:///store/backups/
recipient = /etc/backtory/admin.pub
sign-key = /etc/backtory/host.key
EOF
cat >>"$src/etc/default/grub" <<'EOF'

# The recovery drill: boot at once, on the serial console, into its init.
GRUB_TIMEOUT=0
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_CMDLINE_LINUX_DEFAULT="quiet loglevel=3"
GRUB_CMDLINE_LINUX="console=ttyS0 init=/sbin/bt-drill-init panic=1"
EOF
tar -C "$src" --numeric-owner -cf "$work/seed.tar" .
rm -rf "$src"

for d in src-a src-b new-a new-b; do truncate -s 4G "$work/$d.img"; done
mkfs.ext4 -q -F -L store "$work/store.img" 4G >/dev/null
t_images=$(($(date +%s) - t0))
qemu_accel "$work"

# ---- the stages ---------------------------------------------------------------
disk() { # NAME [PROPERTIES]: the words of $work/NAME.img as a disk with serial NAME
  qemu_disk "$work/$1.img" "$@"
}
rescue() { # -kernel, -initrd and the root disk of a rescue boot
  echo "-kernel $qemu_kernel -initrd $qemu_initrd $(disk rescue)"
}
append_rescue() {
  echo "root=LABEL=rescue rw rootfstype=ext4 console=ttyS0 init=/sbin/bt-drill-init bt.stage=$1 panic=1 quiet loglevel=3"
}
times=''
# finished NAME: the stage's console shows its guest finished (BT-DRILL-DONE)
finished() {
  txt=$work/$1.txt
  times="$times $1=${qemu_seconds}s"
  say "$1: qemu exited with status $qemu_status after $qemu_seconds s"
  if grep -q '^BT-DRILL-DONE ' "$txt"; then
    pass "$1: the guest finished its checks ($(grep '^BT-DRILL-DONE ' "$txt" | tail -n 1))"
    return 0
  fi
  fail "$1: the guest did not finish (no BT-DRILL-DONE line); its console's end:"
  tail -n 40 "$txt" | sed 's/^/  | /'
  return 1
}
guest_ok() { # NAME: finished and no FAIL line
  grep -q '^BT-DRILL-DONE .* fail=0$' "$work/$1.txt"
}
store_file() { # PATH-IN-STORE DEST
  debugfs -R "dump $1 $2" "$work/store.img" >/dev/null 2>&1 && [ -s "$2" ]
}
# compare REFERENCE NAME: the BT-DRILL-DIGEST and BT-DRILL-FACT lines of NAME's console equal REFERENCE's
compare() {
  ref=$work/$1.txt got=$work/$2.txt
  d1=$(grep '^BT-DRILL-DIGEST ' "$ref" | tail -n 1 | cut -d ' ' -f 2)
  d2=$(grep '^BT-DRILL-DIGEST ' "$got" | tail -n 1 | cut -d ' ' -f 2)
  if [ -n "$d1" ] && [ "$d1" = "$d2" ]; then
    pass "$2: the tree's digest equals $1's ($d1, $(grep '^BT-DRILL-DIGEST ' "$got" | tail -n 1 | cut -d ' ' -f 3-))"
  else
    fail "$2: the tree's digest ${d2:-(none)} differs from $1's ${d1:-(none)}"
    sed -n '/^BT-DRILL-TREE-BEGIN$/,/^BT-DRILL-TREE-END$/p' "$got" | sed '1d;$d' | base64 -d 2>/dev/null | gzip -dc >"$work/tree-$2.txt" 2>/dev/null || true
    if store_file /tree-2.txt "$work/tree-stage2.txt" && [ -s "$work/tree-$2.txt" ]; then
      diff "$work/tree-stage2.txt" "$work/tree-$2.txt" | head -n 60 | sed 's/^/  | /'
    fi
  fi
  grep '^BT-DRILL-FACT ' "$ref" | cut -d ' ' -f 2- >"$work/facts-$1"
  grep '^BT-DRILL-FACT ' "$got" | cut -d ' ' -f 2- >"$work/facts-$2"
  if [ -s "$work/facts-$1" ] && diff "$work/facts-$1" "$work/facts-$2" >"$work/facts.diff"; then
    pass "$2: md, LVM, file system and partition UUIDs, sizes and labels equal $1's ($(wc -l <"$work/facts-$1") facts)"
  else
    fail "$2: the layout's facts differ from $1's"
    sed 's/^/  | /' "$work/facts.diff"
  fi
}

say "stage 1: rescue boot, building the source machine (console in $work/stage1.log)"
# shellcheck disable=SC2046 # rescue's words are qemu arguments
qemu_run "$work/stage1.log" $(rescue) -append "$(append_rescue 1)" \
  $(qemu_disk "$work/seed.tar" seed readonly) $(disk src-a) $(disk src-b)
cat "$work/stage1.txt"
rm -f "$work/seed.tar"
ok=0
finished stage1 && guest_ok stage1 && ok=1

if [ "$ok" = 1 ]; then
  say "stage 2: the source machine boots from its disks and backs itself up (console in $work/stage2.log)"
  # shellcheck disable=SC2046 # disk's words are qemu arguments
  qemu_run "$work/stage2.log" $(disk src-a bootindex=1) $(disk src-b) $(disk store)
  cat "$work/stage2.txt"
  ok=0
  finished stage2 && ok=1
  if [ -n "${BT_QEMU_RAW_OUT:-}" ]; then
    mkdir -p "$BT_QEMU_RAW_OUT"
    rm -rf "${BT_QEMU_RAW_OUT:?}/raw"
    if debugfs -R "rdump /raw $BT_QEMU_RAW_OUT" "$work/store.img" >/dev/null 2>&1 && [ -s "$BT_QEMU_RAW_OUT/raw/commands.txt" ]; then
      pass "stage 2's raw recording copied to $BT_QEMU_RAW_OUT/raw ($(find "$BT_QEMU_RAW_OUT/raw" -type f | wc -l) files)"
    else
      fail "no raw recording to copy to $BT_QEMU_RAW_OUT (stage 2 made none)"
    fi
  fi
  if [ "${BT_DRILL_SOURCE_BOOT:-0}" = 1 ] && [ "$ok" = 1 ]; then
    say "stage 2b: the source disks boot alone, as the recovered ones will (console in $work/stage2b.log)"
    # shellcheck disable=SC2046
    qemu_run "$work/stage2b.log" $(disk src-a bootindex=1) $(disk src-b)
    sed '/^BT-DRILL-TREE-BEGIN$/,/^BT-DRILL-TREE-END$/d' "$work/stage2b.txt"
    finished stage2b && compare stage2 stage2b
  fi
  if [ "$ok" = 1 ] && ! store_file /recover.sh "$work/recover.sh"; then
    fail "stage 3 not run: stage 2 wrote no /store/recover.sh"
    ok=0
  fi
fi

if [ "$ok" = 1 ]; then
  say "stage 3: rescue boot without Node, recover.sh onto two new disks (console in $work/stage3.log)"
  # shellcheck disable=SC2046
  qemu_run "$work/stage3.log" $(rescue) -append "$(append_rescue 3)" $(disk store) $(disk new-a) $(disk new-b)
  cat "$work/stage3.txt"
  ok=0
  finished stage3 && guest_ok stage3 && ok=1
  [ "$ok" = 1 ] || fail "stage 4 not run: stage 3 failed"
fi

if [ "$ok" = 1 ]; then
  say "stage 4: the recovered disks boot alone (console in $work/stage4.log)"
  # shellcheck disable=SC2046
  qemu_run "$work/stage4.log" $(disk new-a bootindex=1) $(disk new-b)
  sed '/^BT-DRILL-TREE-BEGIN$/,/^BT-DRILL-TREE-END$/d' "$work/stage4.txt"
  if finished stage4; then
    if grep -q '^BT-DRILL-MARKER ' "$work/stage4.txt"; then
      pass "stage4: the recovered disks booted on their own (marker on the serial console)"
    else
      fail "stage4: no marker on the serial console"
    fi
    compare stage2 stage4
  fi
fi

# ---- the verdict ----------------------------------------------------------------
guest_pass=$(cat "$work"/stage*.txt 2>/dev/null | grep -c '^PASS: ' || true)
guest_fail=$(cat "$work"/stage*.txt 2>/dev/null | grep -c '^FAIL: ' || true)
npass=$((guest_pass + hpass))
nfail=$((guest_fail + hfail))
grep -h '^BT-DRILL-TIME ' "$work"/stage*.txt 2>/dev/null | sed "s/^BT-DRILL-TIME /$me: in the guest: /" >&2 || true
say "times: debootstrap/cache ${t_base}s, images ${t_images}s,$times, total $(($(date +%s) - t_start))s (-accel $qemu_accel)"
echo "$npass passed, $nfail failed"
if [ "$nfail" = 0 ] && [ "$ok" = 1 ]; then
  exit 0
fi
[ "$ok" = 1 ] || say "not every stage ran"
keep=1
exit 1
