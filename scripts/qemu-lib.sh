# Host code shared by the qemu scripts (lvm-qemu.sh, recover-qemu.sh), sourced
# by them: POSIX sh, `set -eu` in the caller. Each caller sets `me` (its name
# in messages) before sourcing.
#
# One cached Debian tree serves every VM: the rescue system, the machine the
# recovery drill builds and the LVM VM all come from it. Its directory is keyed
# by a hash of the suite and the package list, so changing the list below makes
# a new tree instead of reusing one that lacks a package.
# shellcheck shell=sh disable=SC2034,SC2154 # variables set here for, and read from, the sourcing script

qemu_suite=bookworm
# The packages every VM needs, one list: the kernel and initramfs; LVM, md RAID,
# LUKS and GRUB (BIOS) to build and rebuild disks; the file systems' tools;
# openssl, zstd, gzip, tar and curl for recover.sh without Node.
qemu_packages=linux-image-amd64,initramfs-tools,busybox,kmod,udev,lvm2,dmsetup,mdadm,cryptsetup,grub-pc,fdisk,gdisk,e2fsprogs,xfsprogs,dosfstools,mount,util-linux,procps,diffutils,openssl,zstd,gzip,tar,curl,libstdc++6

die() {
  echo "$me: $*" >&2
  exit 1
}

say() {
  echo "$me: $*" >&2
}

qemu_require_root() {
  [ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and file ownership in the image need it)"
}

qemu_require_tools() { # CMD...
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found: apt-get install qemu-system-x86 debootstrap e2fsprogs coreutils"
  done
}

# The project must be built: the VMs run its bins from /opt/backtory.
qemu_require_built() { # PROJECT-DIR
  for p in dist/src/cli/bt-snap.js bin/bt-snap.js build/Release/backtory_sys.node node_modules; do
    [ -e "$1/$p" ] || die "missing $1/$p: build the project first (npm ci && npm run build)"
  done
}

# The Debian mirror apt uses (deb822 "URIs:" or one-line "deb URI suite ..."), not the security one.
qemu_mirror() {
  m=${BT_QEMU_MIRROR:-}
  if [ -z "$m" ]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      m=$(sed -n -e 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' "$f" |
        grep -E '/debian/?$' | head -n 1) || true
      [ -n "$m" ] && break
    done
  fi
  [ -n "$m" ] || die "no Debian mirror found in /etc/apt/sources.list*: set BT_QEMU_MIRROR"
  echo "$m"
}

# qemu_base_tree: sets qemu_base (the cached tree), qemu_kernel and qemu_initrd,
# debootstrapping the tree first when it is not there.
qemu_base_tree() {
  cache=${BT_QEMU_CACHE:-/var/tmp/backtory-qemu-cache}
  key=$(printf '%s %s\n' "$qemu_suite" "$qemu_packages" | sha256sum | cut -c1-12)
  qemu_base=$cache/$qemu_suite-$key
  if [ ! -f "$qemu_base/.complete" ]; then
    mirror=$(qemu_mirror)
    say "debootstrap $qemu_suite from $mirror into $qemu_base (once; reused later)"
    mkdir -p "$cache"
    rm -rf "$qemu_base.tmp"
    t0=$(date +%s)
    debootstrap --variant=minbase --include="$qemu_packages" \
      "$qemu_suite" "$qemu_base.tmp" "$mirror" >"$qemu_base.log" 2>&1 ||
      die "debootstrap failed: see $qemu_base.log"
    rm -rf "$qemu_base.tmp/var/cache/apt/archives/"*.deb
    touch "$qemu_base.tmp/.complete"
    mv "$qemu_base.tmp" "$qemu_base"
    say "debootstrap took $(($(date +%s) - t0)) s"
  fi
  qemu_kernel=$(find "$qemu_base/boot" -name 'vmlinuz-*' | sort | tail -n 1)
  qemu_initrd=$(find "$qemu_base/boot" -name 'initrd.img-*' | sort | tail -n 1)
  if [ -z "$qemu_kernel" ] || [ -z "$qemu_initrd" ]; then die "no vmlinuz/initrd in $qemu_base/boot: rm -rf $qemu_base and run again"; fi
}

# qemu_install_backtory TREE PROJECT-DIR: the host's node binary and the built
# project at /opt/backtory, with /usr/local/bin/backtory and bt-* links.
qemu_install_backtory() {
  node=$(command -v node) || die "node not found"
  install -m 0755 "$(readlink -f "$node")" "$1/usr/local/bin/node"
  app=$1/opt/backtory
  mkdir -p "$app/build/Release"
  # What the package ships (package.json "files": bin, dist/src, the scripts
  # bt-mkrecover embeds, ...), as npm would install it.
  files=$(node -p 'require(process.argv[1]).files.join("\n")' "$2/package.json") || die "cannot read $2/package.json"
  for f in package.json $files; do
    [ ! -e "$2/$f" ] || (cd "$2" && cp -a --parents "$f" "$app/")
  done
  cp -a "$2/build/Release/backtory_sys.node" "$app/build/Release/"
  # The runtime dependencies only (npm ls --omit=dev), not the compiler and
  # test runner: 40 MB instead of 190, a smaller tree to back up and restore.
  # Each top-level package brings its own nested node_modules.
  deps=$(cd "$2" && npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$2/||" |
    grep -E '^node_modules/(@[^/]+/)?[^/]+$') || deps=''
  if [ -n "$deps" ]; then
    # shellcheck disable=SC2086 # one path a word
    (cd "$2" && cp -a --parents $deps "$app/")
  else
    cp -a "$2/node_modules" "$app/"
  fi
  for b in "$app"/bin/*.js; do
    n=$(basename "$b" .js)
    ln -sf "/opt/backtory/bin/$n.js" "$1/usr/local/bin/$n"
  done
}

# qemu_ext4_image TREE IMAGE SIZE LABEL: an ext4 image of TREE (no loop device needed).
qemu_ext4_image() {
  mkfs.ext4 -q -F -L "$4" -d "$1" "$2" "$3" >"$2.mkfs.log" 2>&1 || {
    cat "$2.mkfs.log" >&2
    die "mkfs.ext4 -d $1 failed"
  }
  rm -f "$2.mkfs.log"
}

# qemu_accel SCRATCH: sets qemu_accel and qemu_cpu. KVM only when it really runs
# a guest: nested hypervisors may refuse a CPU model's MSRs ("failed to set MSR
# 0x10a") or accept it and then never run the guest. So the kernel is booted
# with no root file system and must reach its panic on the serial console within
# 30 s; otherwise software emulation (TCG).
qemu_accel() {
  qemu_accel=tcg
  qemu_cpu=max
  if [ -w /dev/kvm ] && [ "${BT_QEMU_ACCEL:-}" != tcg ]; then
    for c in host max,-arch-capabilities; do
      rm -f "$1/probe.log"
      timeout 30 qemu-system-x86_64 -machine q35 -accel kvm -cpu "$c" -m 256 -nodefaults \
        -display none -monitor none -no-reboot -serial "file:$1/probe.log" \
        -kernel "$qemu_kernel" -append "console=ttyS0 panic=-1 root=/dev/nonexistent" </dev/null >/dev/null 2>&1 || true
      if grep -q 'Kernel panic' "$1/probe.log" 2>/dev/null; then
        qemu_accel=kvm
        qemu_cpu=$c
        break
      fi
    done
    [ "$qemu_accel" = kvm ] || say "/dev/kvm does not run a guest here: software emulation"
  fi
}

# qemu_run CONSOLE-LOG QEMU-ARGS...: one VM, to its power-off or the timeout
# (BT_QEMU_TIMEOUT seconds); its serial console goes to CONSOLE-LOG and, with
# carriage returns removed, to CONSOLE-LOG with .txt for .log. Sets qemu_status
# (qemu's exit status, 124 on timeout) and qemu_seconds.
qemu_run() {
  log=$1
  shift
  t0=$(date +%s)
  qemu_status=0
  : >"$log"
  timeout "${BT_QEMU_TIMEOUT:-2400}" qemu-system-x86_64 \
    -machine q35 -accel "$qemu_accel" -cpu "$qemu_cpu" -smp 2 -m "${BT_QEMU_MEM:-1536}" \
    -display none -monitor none -no-reboot -nic none -serial "file:$log" \
    "$@" </dev/null || qemu_status=$?
  qemu_seconds=$(($(date +%s) - t0))
  tr -d '\r' <"$log" >"${log%.log}.txt"
  [ "$qemu_status" != 124 ] || say "the VM did not finish within ${BT_QEMU_TIMEOUT:-2400} s (BT_QEMU_TIMEOUT)"
}

# qemu_drive IMAGE: the -drive argument of a raw virtio disk.
qemu_drive() {
  echo "file=$1,format=raw,if=virtio,cache=unsafe"
}

# qemu_disk IMAGE SERIAL [PROPERTIES]: the words of a raw virtio disk whose
# serial number (/sys/block/vdX/serial in the guest) is SERIAL, for a guest that
# finds its disks by serial, not by their order; PROPERTIES are the device's
# (bootindex=1) or, with readonly, the drive is read-only. IMAGE must have no
# blanks or commas.
qemu_disk() {
  ro='' dev=''
  case ${3:-} in
    readonly) ro=,readonly=on ;;
    ?*) dev=,$3 ;;
  esac
  echo "-drive file=$1,format=raw,if=none,id=$2,cache=unsafe$ro -device virtio-blk-pci,drive=$2,serial=$2$dev"
}
