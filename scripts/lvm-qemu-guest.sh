#!/bin/sh
# The init (PID 1) of the VM that scripts/lvm-qemu.sh boots: runs bt-snap --lvm
# against real LVM on the second virtual disk (/dev/vdb), prints one
# "PASS: ..." or "FAIL: ..." line per check and a final
# "BT-QEMU-DONE pass=N fail=M" line on the serial console, and powers off.
# Not meant to run anywhere else: it wipes /dev/vdb.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
TMPDIR=/tmp
LANG=C.UTF-8
export PATH HOME TMPDIR LANG

bin=/opt/backtory/bin
disk=/dev/vdb
vg=btvg
set=qemu
npass=0
nfail=0

pass() {
  npass=$((npass + 1))
  echo "PASS: $*"
}
fail() {
  nfail=$((nfail + 1))
  echo "FAIL: $*"
}
# check DESCRIPTION COMMAND...: PASS when COMMAND succeeds; its output shown on FAIL.
check() {
  desc=$1
  shift
  if "$@" >/tmp/check.out 2>&1; then pass "$desc"; else
    fail "$desc"
    sed 's/^/  | /' /tmp/check.out
  fi
}
show() {
  sed 's/^/  | /' "$@"
}
finish() {
  echo "BT-QEMU-DONE pass=$npass fail=$nfail"
  sync
  echo o >/proc/sysrq-trigger
  sleep 60
}

# ---- boot: what systemd would do ------------------------------------------
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm /run/lock
mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts
mount -o remount,rw / 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp
echo "bt-qemu: kernel $(uname -r), node $(node --version), $(lvm version | head -n 1 | tr -s ' ')"
for m in dm_mod dm_snapshot ext4 xfs; do modprobe "$m" || echo "bt-qemu: modprobe $m failed"; done
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --type=subsystems
udevadm trigger --action=add --type=devices
udevadm settle --timeout=60
[ -b "$disk" ] || {
  fail "no $disk in the VM"
  finish
}

# ---- helpers ----------------------------------------------------------------
our_lvs() { # backtory snapshots of our set, one name a line
  lvs --noheadings -o lv_name "$vg" | tr -d ' ' | grep "^backtory-$set-" || true
}
no_snapshot_left() {
  left=$(our_lvs)
  [ -z "$left" ] || { echo "left: $left"; return 1; }
}
no_mount_left() {
  left=$(findmnt -rn -o SOURCE,TARGET | grep -E "backtory-$set-|/tmp/backtory-" || true)
  [ -z "$left" ] || { echo "left: $left"; return 1; }
}
no_mountpoint_left() {
  left=$(find /tmp -maxdepth 1 -name "backtory-$set-*")
  [ -z "$left" ] || { echo "left: $left"; return 1; }
}
no_dm_left() {
  left=$(dmsetup ls | grep "backtory--$set" || true)
  [ -z "$left" ] || { echo "left: $left"; return 1; }
}
all_released() { # PREFIX: the four "nothing left" checks
  check "$1: no snapshot LV left (lvs)" no_snapshot_left
  check "$1: no mount left (findmnt)" no_mount_left
  check "$1: no mount point directory left in /tmp" no_mountpoint_left
  check "$1: no device-mapper device left (dmsetup ls)" no_dm_left
}
seqno() {
  vgs --noheadings -o vg_seqno "$vg" | tr -d ' '
}
make_tree() { # DIR
  d=$1
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
  echo last >"$d/z-last/zz"
  touch -d '2001-02-03 04:05:06' "$d/a/hello.txt" "$d/empty-dir"
}
meta() { # DIR: type, mode, owner, mtime (s), link target of everything under DIR
  (cd "$1" && find . -mindepth 1 ! -name .backtory-restore.json -printf '%p %y %m %U:%G %Ts %l\n' | sort)
}
same_meta() {
  meta "$1" >/tmp/meta.a
  meta "$2" >/tmp/meta.b
  diff /tmp/meta.a /tmp/meta.b
}
capture_gone() { # the pid the capture command wrote (it then exec'd sleep) is gone
  p=$(cat /tmp/capture-pid) && [ -n "$p" ] || return 1
  ! ps -o pid=,args= -p "$p"
}
contains() { # FILE PATTERN
  grep -E -- "$2" "$1" || { cat "$1"; return 1; }
}

# ---- LVM on the virtual disk -----------------------------------------------
pvcreate -q -y "$disk" && vgcreate -q "$vg" "$disk" >/dev/null
check "pvcreate/vgcreate on $disk" vgs "$vg"

# ---- one round trip per file system ---------------------------------------
round_trip() { # FS LV SIZE MKFS...
  fs=$1 lv=$2 size=$3
  shift 3
  live=/srv/$lv
  if ! { lvcreate -q -y -L "$size" -n "$lv" "$vg" >/dev/null && "$@" "/dev/$vg/$lv" >/dev/null &&
    mkdir -p "$live" && mount "/dev/$vg/$lv" "$live"; }; then
    fail "$fs: make and mount $vg/$lv"
    return
  fi
  make_tree "$live"
  sync
  out=/tmp/$lv.bts
  before=$(seqno)
  # --post runs right after the snapshot: it records the mount options and
  # writes to the live volume, which the scan of the snapshot must not see.
  "$bin/bt-snap.js" --lvm "$vg/$lv" --snapshot-size 64M --set "$set" \
    --post "findmnt -no FSTYPE,OPTIONS \"\$BT_SNAPSHOT_PATH\" >/tmp/$lv.opts; echo \"\$BT_SNAPSHOT\" >/tmp/$lv.id; echo late >$live/written-after-snapshot" \
    -o "$out" 2>"/tmp/$lv.err"
  rc=$?
  check "$fs: bt-snap --lvm $vg/$lv --snapshot-size 64M --set $set exits 0 (got $rc)" [ "$rc" = 0 ]
  [ "$rc" = 0 ] || show "/tmp/$lv.err"
  check "$fs: the snapshot was an LVM snapshot named backtory-$set-..." contains "/tmp/$lv.id" "^$vg/backtory-$set-[0-9]{8}T[0-9]{6}Z\$"
  if [ "$fs" = xfs ]; then
    check "$fs: the snapshot was mounted ro,nouuid" contains "/tmp/$lv.opts" "^xfs +(.*,)?ro,(.*,)?nouuid(,|\$)"
  else
    check "$fs: the snapshot was mounted ro,noload" contains "/tmp/$lv.opts" "^$fs +(.*,)?ro,(.*,)?(noload|norecovery)(,|\$)"
  fi
  check "$fs: LVM metadata changed during the run (VG seqno $before -> $(seqno))" [ "$(seqno)" -gt "$before" ]
  check "$fs: the stream file exists and no temporary is left" sh -c "test -s $out && ! ls $out.tmp-* 2>/dev/null"
  mkdir -p "/tmp/restore-$lv"
  check "$fs: bt-restore -i $out /tmp/restore-$lv" "$bin/bt-restore.js" -i "$out" "/tmp/restore-$lv"
  check "$fs: the scan read the snapshot, not the live volume (a file written by --post is absent)" \
    test ! -e "/tmp/restore-$lv/written-after-snapshot"
  rm -f "$live/written-after-snapshot"
  check "$fs: the tree round-trips (diff -r, less bt-restore's .backtory-restore.json marker)" \
    diff -r --no-dereference --exclude=.backtory-restore.json "$live" "/tmp/restore-$lv"
  check "$fs: types, modes, owners, mtimes and link targets round-trip" same_meta "$live" "/tmp/restore-$lv"
  all_released "$fs"
}
round_trip ext4 data 256M mkfs.ext4 -q
round_trip xfs xdata 320M mkfs.xfs -q

# ---- a failing --pre: nothing is taken -------------------------------------
before=$(seqno)
"$bin/bt-snap.js" --lvm "$vg/data" --snapshot-size 64M --set "$set" \
  --pre 'echo "pre says no" >&2; exit 3' -o /tmp/pre.bts 2>/tmp/pre.err
rc=$?
check "failing --pre: bt-snap fails (exit $rc)" [ "$rc" != 0 ]
check "failing --pre: the error names the hook" contains /tmp/pre.err 'pre'
check "failing --pre: nothing taken (VG metadata seqno unchanged: $before -> $(seqno))" [ "$(seqno)" = "$before" ]
check "failing --pre: no stream file" sh -c '! ls /tmp/pre.bts* 2>/dev/null'
all_released "failing --pre"

# ---- SIGTERM mid-scan: the snapshot is still released ----------------------
# The capture "m-slow.txt" sits between the root's entries (a/, dangling,
# empty-dir/, ... before it; numbers.txt, z-last/ after it): when its command
# starts, the scan is half-way through the mounted snapshot.
rm -f /tmp/capture-started /tmp/capture-pid
"$bin/bt-snap.js" --lvm "$vg/data" --snapshot-size 64M --set "$set" \
  --capture 'm-slow.txt=echo $$ >/tmp/capture-pid; touch /tmp/capture-started; exec sleep 600' -o /tmp/term.bts 2>/tmp/term.err &
pid=$!
i=0
while [ ! -e /tmp/capture-started ] && [ "$i" -lt 600 ]; do
  sleep 0.5
  i=$((i + 1))
done
check "SIGTERM: the scan reached its middle (the capture started)" test -e /tmp/capture-started
check "SIGTERM: the snapshot is there and mounted mid-scan" sh -c "lvs --noheadings -o lv_name $vg | grep -q backtory-$set- && findmnt -rn -o SOURCE | grep -q backtory--$set-"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: bt-snap exits 143 (got $rc)" [ "$rc" = 143 ]
[ "$rc" = 143 ] || show /tmp/term.err
check "SIGTERM: it says so" contains /tmp/term.err 'SIGTERM'
check "SIGTERM: no stream file left" sh -c '! ls /tmp/term.bts* 2>/dev/null'
sleep 1
check "SIGTERM: the capture's command (sleep 600) was killed" capture_gone
all_released "SIGTERM"

# ---- --cleanup: removes our stale snapshot, leaves everyone else's --------
stale=backtory-$set-20200101T000000Z
other=backtory-otherset-20200101T000000Z
staledir=/tmp/$stale-AbC123
lvcreate -q -y -s -L 32M -n "$stale" "$vg/data" >/dev/null
lvcreate -q -y -s -L 32M -n admin-snapshot "$vg/data" >/dev/null
lvcreate -q -y -s -L 32M -n "$other" "$vg/data" >/dev/null
lvcreate -q -y -s -L 32M -n "backtory-$set-20200102T000000Z" "$vg/xdata" >/dev/null
mkdir -p "$staledir" && mount -o ro,noload "/dev/$vg/$stale" "$staledir"
check "--cleanup: stale snapshot set up, mounted on $staledir" findmnt "$staledir"
# A normal run warns about it and leaves it alone.
"$bin/bt-snap.js" --lvm "$vg/data" --snapshot-size 64M --set "$set" -o /tmp/warn.bts 2>/tmp/warn.err
rc=$?
check "--cleanup: a normal run with a stale snapshot still succeeds (exit $rc)" [ "$rc" = 0 ]
check "--cleanup: ... and names the stale snapshot" contains /tmp/warn.err "$vg/$stale"
check "--cleanup: ... and leaves it" lvs "$vg/$stale"
"$bin/bt-snap.js" --lvm "$vg/data" --cleanup --set "$set" 2>/tmp/cleanup.err
rc=$?
check "--cleanup: bt-snap --lvm $vg/data --cleanup --set $set exits 0 (got $rc)" [ "$rc" = 0 ]
show /tmp/cleanup.err
check "--cleanup: the stale snapshot is removed" sh -c "! lvs $vg/$stale >/dev/null 2>&1"
check "--cleanup: its mount is gone" sh -c "! findmnt $staledir"
check "--cleanup: its mount point directory is removed" test ! -e "$staledir"
check "--cleanup: the admin's own snapshot is left" lvs "$vg/admin-snapshot"
check "--cleanup: another set's snapshot is left" lvs "$vg/$other"
check "--cleanup: a snapshot of the set on another LV is left" lvs "$vg/backtory-$set-20200102T000000Z"
lvs -o lv_name,origin,lv_attr,lv_size "$vg" | show

finish
