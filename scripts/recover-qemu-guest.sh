#!/bin/sh
# The init (PID 1) of every VM that scripts/recover-qemu.sh boots, the
# bare-metal recovery drill. It prints one "PASS: ..." or "FAIL: ..." line per
# check, "BT-DRILL-..." lines the host reads, and a final
# "BT-DRILL-DONE stage=N pass=N fail=M" line on the serial console, then
# powers off. Not meant to run anywhere else: it wipes the disks it is given.
#
# The disks are found by the serial numbers the host gives them (-drive
# ...,serial=NAME), never by their order:
#   stage 1, rescue boot (bt.stage=1 on the kernel command line): build the
#     source machine on the blank disks src-a and src-b (GPT with a BIOS boot
#     partition and a RAID partition each, md RAID1, LVM, ext4 root, xfs data,
#     swap) from the system tree on the disk "seed" (a tar), and install GRUB
#     on both disks; its kernel command line makes this script its init;
#   stage 2, the source machine booted from its own disks, with the disk
#     "store": write data, back up / (a full, then a differential) to a
#     file:// store there, print the digest of the tree the differential saw,
#     write /store/recover.sh with bt-mkrecover;
#   stage 3, rescue boot (bt.stage=3), no Node: run /store/recover.sh onto the
#     blank disks new-a and new-b;
#   stage 4, a machine booted from its own disks with no store disk (the
#     recovered disks): print the marker, the tree's digest and the layout.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
TMPDIR=/tmp
LANG=C.UTF-8
export PATH HOME TMPDIR LANG

set=system
store=/store
npass=0
nfail=0
stage=

pass() {
  npass=$((npass + 1))
  echo "PASS: stage $stage: $*"
}
fail() {
  nfail=$((nfail + 1))
  echo "FAIL: stage $stage: $*"
}
show() {
  sed 's/^/  | /' "$@"
}
# check DESCRIPTION COMMAND...: PASS when COMMAND succeeds; its output shown on FAIL.
check() {
  desc=$1
  shift
  if "$@" >/tmp/check.out 2>&1; then pass "$desc"; else
    fail "$desc"
    tail -n 60 /tmp/check.out | show
  fi
}
finish() {
  echo "BT-DRILL-DONE stage=$stage pass=$npass fail=$nfail"
  cd /
  # Unmounted, the store's file system is whole on its disk for the host to
  # read (debugfs does not replay a journal).
  ! mountpoint -q "$store" || umount "$store" || echo "bt-drill: umount $store failed"
  sync
  echo o >/proc/sysrq-trigger
  sleep 60
}
say() { # what a long step is about to do, so that a slow one shows where it is
  echo "bt-drill: $*"
}
elapsed() { # SINCE: seconds since SINCE (date +%s)
  echo $(($(date +%s) - $1))
}

# ---- boot: what systemd would do --------------------------------------------
boot() {
  mountpoint -q /proc || mount -t proc proc /proc
  mountpoint -q /sys || mount -t sysfs sysfs /sys
  mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
  mountpoint -q /run || mount -t tmpfs -o mode=0755 tmpfs /run
  mkdir -p /dev/pts /dev/shm /run/lock
  mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts
  mount -o remount,rw / 2>/dev/null
  mountpoint -q /tmp || mount -t tmpfs -o mode=1777 tmpfs /tmp
  hostname "$(cat /etc/hostname)"
  for m in md_mod raid1 dm_mod ext4 xfs; do modprobe "$m" 2>/dev/null || echo "bt-drill: modprobe $m failed"; done
  /lib/systemd/systemd-udevd --daemon
  udevadm trigger --action=add --type=subsystems
  udevadm trigger --action=add --type=devices
  udevadm settle --timeout=60
}

# disk SERIAL: the /dev/vdX whose virtio serial number is SERIAL, or nothing.
disk() {
  for s in /sys/block/vd*/serial; do
    if [ -f "$s" ] && [ "$(cat "$s")" = "$1" ]; then
      d=${s%/serial}
      echo "/dev/${d##*/}"
      return 0
    fi
  done
}

# part DISK N: partition N of DISK (/dev/vdc2).
part() {
  echo "$1$2"
}

# ---- the tree and the layout, as the host compares them ---------------------
# What a restore must give back: every path under / (into the other mounts)
# with its type, mode, owner, size and link count for non-directories, mtime,
# link target and content's SHA-256. Left out: the kernel's and the run's
# mounts (/proc /sys /dev /run /tmp /store), what is not backed up
# (/var/lib/backtory, the state), what recover.sh makes anew by design (the
# initramfs with its checksum in /var/lib/initramfs-tools, and /boot/grub,
# regenerated for the new disks), and the restore's own markers.
listing() {
  cd / || return 1
  find / \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /store \
    -o -path /var/lib/backtory -o -path /boot/grub -o -path '/boot/initrd.img-*' -o -path /var/lib/initramfs-tools \
    -o -name .backtory-restore.json -o -path /target \) -prune \
    -o -printf '%y\t%p\t%m\t%U:%G\t%s\t%n\t%Ts\t%l\n' |
    awk -F '\t' 'BEGIN { OFS = "\t" } $1 == "d" { $5 = "-"; $6 = "-" } { print }' |
    LC_ALL=C sort -t "$(printf '\t')" -k 2,2 >/tmp/tree.meta || return 1
  find / \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /store \
    -o -path /var/lib/backtory -o -path /boot/grub -o -path '/boot/initrd.img-*' -o -path /var/lib/initramfs-tools \
    -o -name .backtory-restore.json -o -path /target \) -prune \
    -o -type f -print0 | xargs -0 -r sha256sum | LC_ALL=C sort -k 2 >/tmp/tree.sums || return 1
  cat /tmp/tree.meta /tmp/tree.sums >/tmp/tree.txt
}

# The facts of the layout that must survive the recovery, one "BT-DRILL-FACT"
# line each, in a stable order.
facts() {
  md=$(readlink -f /dev/md/system)
  echo "md-uuid $(mdadm --detail --export "$md" | sed -n 's/^MD_UUID=//p')"
  echo "md-level $(mdadm --detail --export "$md" | sed -n 's/^MD_LEVEL=//p')"
  echo "md-devices $(mdadm --detail --export "$md" | sed -n 's/^MD_DEVICES=//p')"
  vgs --noheadings -o vg_name,vg_uuid vg0 | awk '{ print "vg", $1, $2 }'
  pvs --noheadings -o pv_uuid | awk '{ print "pv", $1 }'
  lvs --noheadings -o lv_name,lv_uuid,lv_size --units b vg0 | awk '{ print "lv", $1, $2, $3 }' | sort
  for lv in root data swap; do
    echo "fs $lv $(blkid -o value -s TYPE "/dev/vg0/$lv") $(blkid -o value -s UUID "/dev/vg0/$lv") $(blkid -o value -s LABEL "/dev/vg0/$lv")"
  done
  for d in "$@"; do
    n=${d#/dev/}
    echo "disk $n ptuuid $(blkid -o value -s PTUUID "$d")"
    for p in 1 2; do
      echo "part $n$p $(blkid -p -o value -s PART_ENTRY_TYPE "$(part "$d" "$p")") $(blkid -p -o value -s PART_ENTRY_UUID "$(part "$d" "$p")") $(blkid -p -o value -s PART_ENTRY_SIZE "$(part "$d" "$p")")"
    done
  done
}

print_facts() { # DISK...
  facts "$@" >/tmp/facts.txt 2>&1
  sed 's/^/BT-DRILL-FACT /' /tmp/facts.txt
}

md_healthy() { # two devices, both in sync ([UU]), or resyncing them
  cat /proc/mdstat
  grep -A 2 '^md' /proc/mdstat | grep -q '\[2/2\] \[UU\]' || grep -q 'resync\|recovery' /proc/mdstat
}

# ---- stage 1: build the source machine on two blank disks -------------------
stage1() {
  a=$(disk src-a) b=$(disk src-b) seed=$(disk seed)
  check "the blank disks src-a ($a), src-b ($b) and the seed ($seed) are attached" test -n "$a" -a -n "$b" -a -n "$seed"
  [ -n "$a" ] && [ -n "$b" ] && [ -n "$seed" ] || return 0
  for d in "$a" "$b"; do
    check "GPT on $d: a BIOS boot partition (ef02) and a RAID partition (fd00)" \
      sgdisk -n 1:2048:+1M -t 1:ef02 -c 1:bios-boot -n 2:0:0 -t 2:fd00 -c 2:raid "$d"
  done
  udevadm settle
  check "md RAID1 /dev/md/system on $(part "$a" 2) and $(part "$b" 2)" \
    mdadm --create /dev/md/system --run --level=1 --raid-devices=2 --metadata=1.2 --name=system \
    --homehost=drill-src --assume-clean "$(part "$a" 2)" "$(part "$b" 2)"
  udevadm settle
  check "LVM: PV and VG vg0 on the array" sh -c 'pvcreate -q -y /dev/md/system && vgcreate -q vg0 /dev/md/system'
  check "LVM: LVs root (2.5 GiB), swap (256 MiB), data (320 MiB)" sh -c \
    'lvcreate -q -y -L 2560M -n root vg0 && lvcreate -q -y -L 256M -n swap vg0 && lvcreate -q -y -L 320M -n data vg0'
  udevadm settle
  check "file systems: ext4 root, xfs data, swap" sh -c \
    'mkfs.ext4 -q -L root /dev/vg0/root && mkfs.xfs -q -L data /dev/vg0/data && mkswap -L swap /dev/vg0/swap'
  mkdir -p /target
  check "mount the root LV on /target" mount /dev/vg0/root /target
  mountpoint -q /target || return 0
  say "copying the system tree in"
  t0=$(date +%s)
  check "copy the system tree in (the seed disk's tar)" tar -xpf "$seed" -C /target --numeric-owner
  echo "BT-DRILL-TIME copy $(elapsed "$t0")"
  mkdir -p /target/srv/data
  check "mount the data LV on /target/srv/data" mount /dev/vg0/data /target/srv/data
  cat >/target/etc/fstab <<EOF
# <file system> <mount point> <type> <options> <dump> <pass>
UUID=$(blkid -o value -s UUID /dev/vg0/root) / ext4 errors=remount-ro 0 1
UUID=$(blkid -o value -s UUID /dev/vg0/data) /srv/data xfs defaults 0 2
UUID=$(blkid -o value -s UUID /dev/vg0/swap) none swap sw 0 0
EOF
  { echo 'HOMEHOST <system>'; echo 'MAILADDR root'; mdadm --detail --scan; } >/target/etc/mdadm/mdadm.conf
  check "fstab and mdadm.conf name the volumes by UUID" sh -c 'grep -c "^UUID=" /target/etc/fstab | grep -qx 3 && grep -q "^ARRAY /dev/md/system .*UUID=" /target/etc/mdadm/mdadm.conf'
  for m in dev dev/pts proc sys run; do mount --bind "/$m" "/target/$m"; done
  say "update-initramfs"
  t0=$(date +%s)
  check "update-initramfs in the new system" chroot /target update-initramfs -u -k all
  echo "BT-DRILL-TIME initramfs $(elapsed "$t0")"
  check "its initramfs assembles md and activates LVM (mdadm and lvm in it)" sh -c \
    'chroot /target sh -c "lsinitramfs /boot/initrd.img-*" >/tmp/initrd.list && grep -q "sbin/mdadm$" /tmp/initrd.list && grep -q "sbin/lvm$" /tmp/initrd.list'
  say "grub-install, update-grub"
  for d in "$a" "$b"; do
    check "grub-install on $d" chroot /target grub-install --target=i386-pc "$d"
  done
  check "update-grub" chroot /target update-grub
  check "grub.cfg boots the drill's init on the serial console" sh -c \
    'grep -q "init=/sbin/bt-drill-init" /target/boot/grub/grub.cfg && grep -q "console=ttyS0" /target/boot/grub/grub.cfg'
  sync
  umount -R /target
  vgchange -q -an vg0 >/dev/null
  mdadm --stop /dev/md/system >/dev/null 2>&1
  check "everything released (no mount, no active LV, no array)" sh -c '! findmnt /target && ! grep -q "^md" /proc/mdstat'
}

# ---- stage 2: the source machine, booted from its disks, backs itself up ---
bring_up() { # the rest of a normal boot: every LV, fstab's mounts, swap
  vgchange -q -ay vg0 >/dev/null
  udevadm settle
  check "booted by GRUB from the disks (BOOT_IMAGE on the kernel command line)" grep -q BOOT_IMAGE= /proc/cmdline
  check "/ is the root LV" sh -c 'findmnt -n -o SOURCE / | grep -q "vg0-root"'
  check "/proc/mdstat: the RAID1 array runs on two devices" md_healthy
  check "mount -a and swapon -a (fstab by UUID)" sh -c 'mount -a && swapon -a'
  check "/srv/data is the xfs data LV" sh -c 'findmnt -n -o FSTYPE /srv/data | grep -qx xfs'
  check "the swap LV is in use" sh -c 'grep -q "^/dev/dm-" /proc/swaps'
}

day1() { # a tree with every kind of entry, on the root and on the data LV
  for d in /srv/data/tree /root/tree; do
    mkdir -p "$d/a/b/c" "$d/empty-dir" "$d/z-last"
    echo "hello from $d" >"$d/a/hello.txt"
    printf '' >"$d/a/b/empty"
    head -c 3000000 /dev/urandom >"$d/a/b/c/random.bin"
    seq 1 100000 >"$d/numbers.txt"
    echo secret >"$d/a/private"
    chmod 0600 "$d/a/private"
    echo owned >"$d/a/owned"
    chown 1234:2345 "$d/a/owned"
    ln -s a/hello.txt "$d/link-to-hello"
    ln -s /nonexistent "$d/dangling"
    ln "$d/numbers.txt" "$d/z-last/hardlink"
    echo "spaces and ünïcödé" >"$d/a/name with spaces é"
    truncate -s 64M "$d/sparse.img"
    echo middle | dd of="$d/sparse.img" bs=1 seek=33554432 conv=notrunc 2>/dev/null
    touch -d '2001-02-03 04:05:06' "$d/a/hello.txt" "$d/empty-dir"
  done
  echo "drill day 1" >/etc/drill-day
}

day2() { # what changed before the differential
  for d in /srv/data/tree /root/tree; do
    head -c 4096 /dev/urandom | dd of="$d/a/b/c/random.bin" bs=4096 seek=300 conv=notrunc 2>/dev/null
    seq 100001 100100 >>"$d/numbers.txt"
    rm "$d/a/private"
    mv "$d/a/b" "$d/a/b-renamed"
    chmod 0640 "$d/a/hello.txt"
    chown 4321:5432 "$d/a/owned"
    rm "$d/link-to-hello"
    echo "now a file" >"$d/link-to-hello"
    head -c 1000000 /dev/urandom >"$d/new-on-day-2.bin"
    mkdir "$d/new-dir"
    ln -s ../numbers.txt "$d/new-dir/link"
  done
  echo "drill day 2" >/etc/drill-day
  rm /etc/motd
}

backup() { # KIND: back up the set, check it made a KIND
  say "backtory backup $set (a $1)"
  t0=$(date +%s)
  # By the config's path: a bare "system" would be the directory /system if
  # there were one (backtory backup DIR backs up DIR with the embedded default).
  backtory backup --json "/etc/backtory/$set.conf" >"/tmp/backup-$1.json" 2>"/tmp/backup-$1.err"
  rc=$?
  echo "BT-DRILL-TIME backup-$1 $(elapsed "$t0")"
  check "backtory backup /etc/backtory/$set.conf exits 0 (got $rc)" [ "$rc" = 0 ]
  show "/tmp/backup-$1.err"
  check "... and made a $1" grep -q "\"kind\": *\"$1\"" "/tmp/backup-$1.json"
  sed 's/^/  | /' "/tmp/backup-$1.json"
}

stage2() {
  a=$(disk src-a) b=$(disk src-b) st=$(disk store)
  bring_up
  mkdir -p "$store"
  check "mount the store disk ($st) on $store" mount "$st" "$store"
  mountpoint -q "$store" || return 0
  echo "src-a ${a#/dev/} src-b ${b#/dev/}" >"$store/names"
  print_facts "$a" "$b"
  cp /tmp/facts.txt "$store/facts-2.txt"
  check "node and backtory on the source machine" sh -c 'node --version && backtory --version'
  day1
  backup full
  day2
  backup diff
  say "the tree's listing and digest"
  t0=$(date +%s)
  check "the tree's listing" listing
  echo "BT-DRILL-TIME digest $(elapsed "$t0")"
  cp /tmp/tree.txt "$store/tree-2.txt"
  echo "BT-DRILL-DIGEST $(sha256sum </tmp/tree.txt | cut -c1-64) $(wc -l </tmp/tree.meta) entries"
  if [ ! -x /opt/backtory/bin/bt-mkrecover.js ]; then
    fail "bt-mkrecover is not in this build (/opt/backtory/bin/bt-mkrecover.js): no recover.sh"
    return 0
  fi
  # The store disk is the drill's, not the machine's: unmounted, the capture
  # leaves it out (it takes every disk under the mounts), as a remote store is.
  umount "$store"
  t0=$(date +%s)
  bt-mkrecover --store "file://$store/backups/" --set "$set" --verify /etc/backtory/host.pub \
    --raw-record /tmp/raw >/tmp/recover.sh 2>/tmp/mkrecover.err
  rc=$?
  echo "BT-DRILL-TIME mkrecover $(elapsed "$t0")"
  check "bt-mkrecover --store file://$store/backups/ --verify host.pub --raw-record DIR exits 0 (got $rc)" [ "$rc" = 0 ]
  show /tmp/mkrecover.err
  check "mount the store disk again" mount "$st" "$store"
  [ "$rc" = 0 ] && cp /tmp/recover.sh "$store/recover.sh"
  cp -a /tmp/raw "$store/raw"
  check "the raw recording has commands.txt" test -s "$store/raw/commands.txt"
  check "sh recover.sh --plan runs on the source machine (dash)" sh -c "sh $store/recover.sh --plan >$store/plan-source.txt 2>&1"
}

# ---- stage 3: a rescue system without Node rebuilds two new disks ----------
stage3() {
  st=$(disk store) na=$(disk new-a) nb=$(disk new-b)
  check "the store ($st) and the new disks new-a ($na) and new-b ($nb) are attached" test -n "$st" -a -n "$na" -a -n "$nb"
  check "no node on the rescue system" sh -c '! command -v node'
  mkdir -p "$store"
  check "mount the store disk on $store" mount "$st" "$store"
  check "$store/recover.sh is there (stage 2 made it)" test -s "$store/recover.sh"
  [ -s "$store/recover.sh" ] && [ -n "$na" ] && [ -n "$nb" ] || return 0
  # The names the disks had on the source machine, which --map maps from.
  read -r _ olda _ oldb <"$store/names"
  map="$olda=$na,$oldb=$nb"
  blank() { ! blkid -p "$na" && ! blkid -p "$nb"; }
  check "the new disks are blank" blank
  check "sh recover.sh --plan --map $map exits 0" sh -c "sh $store/recover.sh --plan --map $map >$store/plan-rescue.txt 2>&1"
  check "busybox sh recover.sh --plan --map $map exits 0" sh -c "busybox sh $store/recover.sh --plan --map $map >/tmp/plan-busybox.txt 2>&1"
  check "--plan touched nothing (the new disks still blank)" blank
  cd /root || return 0
  say "sh recover.sh --map $map --key admin.key --yes"
  t0=$(date +%s)
  sh "$store/recover.sh" --map "$map" --key admin.key --yes --log "$store/recover.log" >/tmp/recover.out 2>&1
  rc=$?
  echo "BT-DRILL-TIME recover $(elapsed "$t0")"
  check "sh recover.sh --map $map --key admin.key --yes exits 0 (got $rc)" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || tail -n 80 /tmp/recover.out | show
  cp /tmp/recover.out "$store/recover.out"
  check "nothing of the target left mounted" sh -c '! findmnt -rn -o TARGET | grep -q "^/mnt/backtory-recover"'
  sync
  vgchange -q -an vg0 >/dev/null 2>&1
  mdadm --stop --scan >/dev/null 2>&1
}

# ---- stage 4: booted from the recovered disks alone -------------------------
stage4() {
  a=$(disk new-a)
  [ -n "$a" ] || a=$(disk src-a) # the boot check of the source disks themselves
  b=$(disk new-b)
  [ -n "$b" ] || b=$(disk src-b)
  echo "BT-DRILL-MARKER booted from $a and $b alone: $(cat /proc/cmdline)"
  bring_up
  cat /proc/mdstat
  lvs vg0
  print_facts "$a" "$b"
  for d in /srv/data/tree /root/tree; do
    check "the differential's day: $d/new-on-day-2.bin is there, $d/a/private is gone" \
      sh -c "test -s $d/new-on-day-2.bin && test ! -e $d/a/private && test -f $d/a/b-renamed/c/random.bin"
  done
  check "/etc/drill-day says day 2" grep -qx 'drill day 2' /etc/drill-day
  say "the tree's listing and digest"
  t0=$(date +%s)
  check "the tree's listing" listing
  echo "BT-DRILL-TIME digest $(elapsed "$t0")"
  echo "BT-DRILL-DIGEST $(sha256sum </tmp/tree.txt | cut -c1-64) $(wc -l </tmp/tree.meta) entries"
  # The listing itself, for the host to diff against stage 2's when the digests differ.
  echo "BT-DRILL-TREE-BEGIN"
  gzip -c /tmp/tree.txt | base64
  echo "BT-DRILL-TREE-END"
}

# shellcheck disable=SC2013 # the command line's words
for w in $(cat /proc/cmdline); do
  case $w in bt.stage=*) stage=${w#bt.stage=} ;; esac
done
boot
if [ -z "$stage" ]; then
  # Booted from disks: with the store disk attached this is the source
  # machine (stage 2), without it the recovered one (stage 4).
  if [ -n "$(disk store)" ]; then stage=2; else stage=4; fi
fi
echo "bt-drill: stage $stage, kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
case $stage in
  1) stage1 ;;
  2) stage2 ;;
  3) stage3 ;;
  4) stage4 ;;
  *) fail "unknown stage \"$stage\"" ;;
esac
finish
